"""How many alerts, and how many changes to them, one member may send in a minute.

A real incident is one alert and a few updates; ten alerts a minute from one shop
is a stuck phone or a misuse, and it would crowd every other shop out of the
group, the control room and Telegram's rate limits. So is twenty presses,
updates, locations or calls a minute: each edits (or sends) a copy in every
chat the alert reaches, neighbours included. The window lives in the process,
which is the one that receives updates.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

MEMBER_ACTIONS_PER_MINUTE = 20


class PostingLimit:
    def __init__(
        self,
        per_minute: int = 10,
        *,
        window_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute = per_minute
        self.window = window_seconds
        self._clock = clock
        self._sent: dict[int, deque[float]] = {}

    def allow(self, member_id: int) -> bool:
        """Count one alert for the member if it is within the limit."""
        if self.exhausted(member_id):
            return False
        self._sent.setdefault(member_id, deque()).append(self._clock())
        return True

    def exhausted(self, member_id: int) -> bool:
        """The member's next alert would be refused: asked before a photo is fetched, so
        a member over the limit costs neither a download nor a decode."""
        now = self._clock()
        sent = self._sent.get(member_id)
        while sent and now - sent[0] >= self.window:
            sent.popleft()
        return sent is not None and len(sent) >= self.per_minute
