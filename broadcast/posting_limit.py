"""How many alerts, and how many changes to them, one member may send in a minute.

A real incident is one alert and a few updates; ten alerts a minute from one shop
is a stuck phone or a misuse, and it would crowd every other shop out of the
group, the control room and Telegram's rate limits. So is twenty presses,
replies, locations or calls a minute (a scheme's `member_actions_per_minute`):
each edits (or sends) a copy in every chat the alert reaches, neighbours included.
The window lives in the process, which is the one that receives updates.

A refused member is told every time, but only the first refusal of a burst is
audited (with how many the previous burst left out), so a stuck phone cannot grow
the audit table any faster than it can the log.
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
        self._in_burst: dict[int, int] = {}
        self._last_burst: dict[int, int] = {}

    def allow(self, member_id: int, per_minute: int | None = None) -> bool:
        """Count one alert (or change) for the member if it is within the limit
        (`per_minute`, else the limit this was made with)."""
        if self.exhausted(member_id, per_minute):
            self._in_burst[member_id] = self._in_burst.get(member_id, 0) + 1
            return False
        refused = self._in_burst.pop(member_id, 0)
        if refused:
            self._last_burst[member_id] = refused - 1  # the audited first not counted
        self._sent.setdefault(member_id, deque()).append(self._clock())
        return True

    def exhausted(self, member_id: int, per_minute: int | None = None) -> bool:
        """The member's next alert would be refused: asked before a photo is fetched, so
        a member over the limit costs neither a download nor a decode."""
        now = self._clock()
        sent = self._sent.get(member_id)
        while sent and now - sent[0] >= self.window:
            sent.popleft()
        limit = self.per_minute if per_minute is None else per_minute
        return sent is not None and len(sent) >= limit

    def first_of_burst(self, member_id: int) -> int | None:
        """After a refusal: None when it is not the first of its burst (leave it out of
        the audit), else how many refusals the member's previous burst left out."""
        if self._in_burst.get(member_id, 0) > 1:
            return None
        return self._last_burst.pop(member_id, 0)
