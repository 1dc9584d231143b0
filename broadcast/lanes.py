"""The token's messages a second, dealt to whoever waits on them most.

Telegram lets one bot token send about 30 messages a second, and 20 a minute into
one group; a call over either has to wait. Which call waits matters: the member
who raised an alert is looking at their phone for the confirmation, and the control
room acts on its copy, while a group copy a second later costs nobody. So calls
waiting for the token are let go most urgent first (`storage.outbox.priority_of`:
private chats, then control rooms, then groups and neighbours), and in the order
they came among equals; a quiet token lets every call straight through.

The outbox worker names the lane of each send with `sending_at(row.priority)`
around it, so every Bot API call a sender makes for that row (a media group and
the message under it, an edit) is in the row's lane. A call made outside it is a
handler answering someone who is waiting on it, and goes in the first lane.

Nothing here knows Telegram: `bot.rate_limit` puts python-telegram-bot's calls
through these lanes and handles Telegram's "retry after".
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar

from storage.outbox import PRIVATE_PRIORITY

Clock = Callable[[], float]

_priority: ContextVar[int | None] = ContextVar("shopwatch_sending_priority", default=None)

GROUP_MINUTE_SECONDS = 60.0
BURST_SECONDS = 1 / 3
"""The overall lane lets a third of a second's allowance go at once (10 of the 30): an
alert's seven copies leave together on a quiet token, and Telegram's own count (a full
second's bucket, as the sandbox keeps it) has two thirds of a second of slack left for
calls that arrive closer together than they were let go (a busy event loop, the
network), so the token runs at its 30 a second without being refused."""
MAX_IDLE_GROUPS = 512


@contextlib.contextmanager
def sending_at(priority: int) -> Iterator[None]:
    """Bot API calls made inside wait in this lane (higher goes first)."""
    token = _priority.set(priority)
    try:
        yield
    finally:
        _priority.reset(token)


def current_priority() -> int:
    """The lane of a call made now: the outbox row's, or the first for a handler's reply."""
    priority = _priority.get()
    return PRIVATE_PRIORITY if priority is None else priority


class TokenBucket:
    """`burst` calls at once, refilled at `rate` a second; calls that must wait are let go
    most urgent first, and equals in the order they came.

    A call that finds nobody waiting and a token left goes straight through. Otherwise
    it takes its place in the queue, and a timer lets the head go the moment a token is
    back: no background task runs, and a queue costs one timer.
    """

    def __init__(self, rate: float, burst: float, clock: Clock = time.monotonic) -> None:
        self.rate = rate
        self.burst = max(1.0, burst)
        self._clock = clock
        self._tokens = self.burst
        self._updated = clock()
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._arrivals = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    @property
    def waiting(self) -> int:
        return sum(1 for _, _, future in self._waiting if not future.done())

    @property
    def full(self) -> bool:
        """Its whole burst is back and nobody waits: as if it had never been used."""
        self._wait_time(self._clock())
        return not self.waiting and self._tokens >= self.burst

    async def enter(self, priority: int) -> None:
        """Return once this call may go (higher `priority` first)."""
        if not self.waiting and self._wait_time(self._clock()) == 0:
            self._tokens -= 1.0
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (-priority, next(self._arrivals), future))
        self._serve()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():  # let go, but its caller is gone
                self.give_back()
            self._serve()
            raise

    def give_back(self) -> None:
        """A call let go that never went: its token is the next one's."""
        self._tokens = min(self.burst, self._tokens + 1.0)
        self._serve()

    def _wait_time(self, now: float) -> float:
        """Seconds until a token is back (0: one is here)."""
        self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        missing = 1.0 - self._tokens
        # A timer may fire a hair early; a millionth of a token is not worth a second timer.
        return 0.0 if missing <= 1e-6 else missing / self.rate

    def _serve(self) -> None:
        """Let go every waiting call a token is here for, then set the timer for the next."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        while self._waiting:
            future = self._waiting[0][2]
            if future.done():  # its caller was cancelled while it waited
                heapq.heappop(self._waiting)
                continue
            wait = self._wait_time(self._clock())
            if wait > 0:
                self._timer = future.get_loop().call_later(wait, self._serve)
                return
            heapq.heappop(self._waiting)
            self._tokens -= 1.0
            future.set_result(None)


class Lanes:
    """Telegram's limits for one process's share of a token, most urgent call first.

    `per_second` is the token's overall rate (0 for none), `per_group_minute` each
    group's (0 for none) in each `group_seconds`, as python-telegram-bot's own limiter
    counts it: 20 at once, then one every three seconds. A call is counted against its
    group first, then the token, so a group at its 20 a minute holds no place in the
    token's queue. A private chat's one message a second is Telegram's advice, not a
    limit, and is not enforced. A chat Telegram asks to wait (`pause`) waits, and no
    other chat with it.
    """

    def __init__(
        self,
        *,
        per_second: float,
        per_group_minute: int,
        burst_seconds: float = BURST_SECONDS,
        group_seconds: float = GROUP_MINUTE_SECONDS,
        clock: Clock = time.monotonic,
    ) -> None:
        self._clock = clock
        self.overall = (
            TokenBucket(per_second, per_second * burst_seconds, clock) if per_second else None
        )
        self.per_group_minute = per_group_minute
        self.group_seconds = group_seconds
        self._groups: dict[int | str, TokenBucket] = {}
        self._paused: dict[int | str | None, float] = {}

    def waiting_for_group(self, chat: int | str) -> int:
        """Calls to this group waiting for its minute."""
        bucket = self._groups.get(chat)
        return bucket.waiting if bucket is not None else 0

    def pause(self, chat: int | str | None, seconds: float) -> None:
        """Telegram said to wait before sending to this chat again."""
        until = self._clock() + seconds
        self._paused[chat] = max(until, self._paused.get(chat, until))

    async def enter(self, chat: int | str | None, priority: int) -> None:
        """Return once one call to `chat` may go (None: a call that sends to no chat)."""
        await self._pause_over(chat)
        group = self._group(chat)
        if group is not None:
            await group.enter(priority)
        if self.overall is None or chat is None:
            return
        try:
            await self.overall.enter(priority)
        except asyncio.CancelledError:
            if group is not None:
                group.give_back()  # the call never went: the group's minute keeps its room
            raise

    async def _pause_over(self, chat: int | str | None) -> None:
        while (until := self._paused.get(chat)) is not None:
            left = until - self._clock()
            if left <= 0:
                if self._paused.get(chat) == until:
                    del self._paused[chat]
                return
            await asyncio.sleep(left)

    def _group(self, chat: int | str | None) -> TokenBucket | None:
        """A group's or channel's count: a negative id, or an @name (only those have one)."""
        if not self.per_group_minute or chat is None:
            return None
        if isinstance(chat, int) and chat > 0:
            return None
        bucket = self._groups.get(chat)
        if bucket is None:
            if len(self._groups) >= MAX_IDLE_GROUPS:
                self._forget_idle()
            rate = self.per_group_minute / self.group_seconds
            bucket = self._groups[chat] = TokenBucket(rate, self.per_group_minute, self._clock)
        return bucket

    def _forget_idle(self) -> None:
        """Groups whose minute is whole again and with nobody waiting need no count kept."""
        for chat, bucket in list(self._groups.items()):
            if bucket.full:
                del self._groups[chat]
