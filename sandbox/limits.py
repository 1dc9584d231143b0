"""Telegram's flood limits, so that code which ignores them fails in tests as it would live.

Telegram documents ~30 messages per second per bot overall, ~1 per second to one chat (short
bursts tolerated) and 20 per minute to one group. A request over a limit is answered 429 with
``retry_after`` and is not counted.
"""

from __future__ import annotations

import math
import time
from collections import deque
from dataclasses import dataclass

from sandbox.errors import ApiError

GROUP_WINDOW_SECONDS = 60.0


@dataclass(frozen=True)
class SandboxLimits:
    """Knobs for flood limits and for an artificial round-trip latency.

    ``latency`` (seconds) is added to every HTTP request, to make benchmarks feel a real
    network. Turn limits off for fast functional tests with ``SandboxLimits.off()``.
    """

    enabled: bool = True
    global_per_second: float = 30.0
    per_chat_per_second: float = 1.0
    per_chat_burst: int = 3
    per_group_per_minute: int = 20
    latency: float = 0.0

    @classmethod
    def off(cls, *, latency: float = 0.0) -> SandboxLimits:
        return cls(enabled=False, latency=latency)


class _Bucket:
    """A token bucket: ``capacity`` requests at once, refilled at ``rate`` per second."""

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity = capacity
        self.rate = rate
        self.tokens = capacity
        self.updated = now

    def _refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now

    def wait_time(self, now: float) -> float:
        self._refill(now)
        if self.tokens >= 1.0:
            return 0.0
        return (1.0 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1.0


class _Window:
    """At most ``size`` requests within any ``span`` seconds."""

    def __init__(self, size: int, span: float) -> None:
        self.size = size
        self.span = span
        self.stamps: deque[float] = deque()

    def wait_time(self, now: float) -> float:
        while self.stamps and self.stamps[0] <= now - self.span:
            self.stamps.popleft()
        if len(self.stamps) < self.size:
            return 0.0
        return self.stamps[0] + self.span - now

    def take(self, now: float) -> None:
        self.stamps.append(now)


class RateLimiter:
    """Counts messages per bot; limits can be swapped at run time with :meth:`configure`."""

    def __init__(self, limits: SandboxLimits) -> None:
        self.limits = limits
        self._global: dict[int, _Bucket] = {}
        self._chats: dict[tuple[int, int], _Bucket] = {}
        self._groups: dict[tuple[int, int], _Window] = {}
        self.refusals = 0
        """429s answered since the sandbox started: what a load test reports."""

    def configure(self, limits: SandboxLimits) -> None:
        """Start afresh, so that a test switching limits on is not charged for earlier sends."""
        self.limits = limits
        self._global.clear()
        self._chats.clear()
        self._groups.clear()

    def acquire(self, bot_id: int, chat_id: int, *, is_group: bool) -> None:
        """Count one message from ``bot_id`` to ``chat_id`` or raise a 429 without counting."""
        limits = self.limits
        if not limits.enabled:
            return
        now = time.monotonic()
        overall = self._global.get(bot_id)
        if overall is None:
            rate = limits.global_per_second
            overall = self._global[bot_id] = _Bucket(rate, rate, now)
        wait = overall.wait_time(now)
        key = (bot_id, chat_id)
        window: _Window | None = None
        bucket: _Bucket | None = None
        if is_group:
            window = self._groups.get(key)
            if window is None:
                window = self._groups[key] = _Window(
                    limits.per_group_per_minute, GROUP_WINDOW_SECONDS
                )
            wait = max(wait, window.wait_time(now))
        else:
            bucket = self._chats.get(key)
            if bucket is None:
                bucket = self._chats[key] = _Bucket(
                    limits.per_chat_burst, limits.per_chat_per_second, now
                )
            wait = max(wait, bucket.wait_time(now))
        if wait > 0:
            self.refusals += 1
            raise ApiError.too_many_requests(max(1, math.ceil(wait)))
        overall.take()
        if window is not None:
            window.take(now)
        if bucket is not None:
            bucket.take()
