"""Bad weather on the Bot API: storms of 500s, hung requests and 429s, then calm again.

Telegram has outages: its front end answers 500 or 502, requests hang until the
client gives up, and a busy chat gets 429 after 429. Code that only ever met a
healthy API loses or doubles messages when that happens, so a test raises a storm
for a while and then reads what every chat really received::

    storm = sandbox.faults.storm(FaultKind.SERVER_ERROR, seconds=10, chats=[group.id])
    ...
    assert storm.struck > 0

A struck request is not carried out (but for a slow storm's, carried out late):
nothing is posted, edited or deleted. Answers
keep Telegram's shapes (``{"ok": false, "error_code": 500, ...}``, 429 with
``parameters.retry_after``), so the client parses them as it would Telegram's.
A hung request is answered 504 only after the storm, or ``hang`` seconds, by which
time the client has long stopped listening.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from sandbox.errors import ApiError

SEND_METHODS: frozenset[str] = frozenset(
    {
        "sendmessage",
        "sendphoto",
        "sendmediagroup",
        "senddocument",
        "sendvoice",
        "sendlocation",
        "copymessage",
        "forwardmessage",
        "editmessagetext",
        "editmessagecaption",
        "editmessagereplymarkup",
        "deletemessage",
    }
)
"""Every method that puts something in a chat or changes it: what a storm hits by default."""

DEFAULT_HANG_SECONDS = 15.0
"""Longer than python-telegram-bot's 5 s read timeout, so the client gives up first."""


class FaultKind(StrEnum):
    SERVER_ERROR = "server_error"
    """500 Internal Server Error, as Telegram answers when a back end fails."""
    BAD_GATEWAY = "bad_gateway"
    """502 Bad Gateway, Telegram's front end without a back end."""
    TIMEOUT = "timeout"
    """No answer until the client times out; the request is not carried out."""
    FLOOD = "flood"
    """429 Too Many Requests with ``retry_after``, whatever the real rate."""
    SLOW = "slow"
    """Carried out and answered, but only after ``hang`` seconds: a congested API."""


@dataclass
class Storm:
    """One period of trouble; ``struck`` counts the requests it answered instead of the API."""

    kind: FaultKind
    methods: frozenset[str]
    chats: frozenset[int] | None
    ends_at: float
    share: float
    retry_after: int
    hang: float
    struck: int = 0
    calm: asyncio.Event = field(default_factory=asyncio.Event)

    def active(self, now: float) -> bool:
        return now < self.ends_at and not self.calm.is_set()

    def hits(self, method: str, chat_id: int | None) -> bool:
        if method not in self.methods:
            return False
        return self.chats is None or chat_id in self.chats


class Faults:
    """The storms now raging over one sandbox; the server asks :meth:`strike` on every call."""

    def __init__(self, seed: int = 0) -> None:
        self._storms: list[Storm] = []
        self._random = random.Random(seed)

    def storm(
        self,
        kind: FaultKind,
        *,
        seconds: float,
        methods: Iterable[str] = SEND_METHODS,
        chats: Iterable[int] | None = None,
        share: float = 1.0,
        retry_after: int = 1,
        hang: float = DEFAULT_HANG_SECONDS,
    ) -> Storm:
        """Answer ``share`` of the calls to ``methods`` (in ``chats``, or all) badly for a while.

        Method names are matched as Telegram does, without regard to case. The choice
        of which calls a partial storm strikes is random but repeatable (seeded).
        """
        if not 0.0 < share <= 1.0:
            raise ValueError("share is a fraction of calls, above 0 and at most 1")
        storm = Storm(
            kind=kind,
            methods=frozenset(name.lower() for name in methods),
            chats=None if chats is None else frozenset(chats),
            ends_at=time.monotonic() + seconds,
            share=share,
            retry_after=retry_after,
            hang=hang,
        )
        self._storms.append(storm)
        return storm

    def calm(self) -> None:
        """End every storm now, and answer the calls hung by one."""
        for storm in self._storms:
            storm.calm.set()
        self._storms.clear()

    @property
    def raging(self) -> bool:
        now = time.monotonic()
        return any(storm.active(now) for storm in self._storms)

    async def strike(self, method: str, chat_id: int | None) -> None:
        """Raise the storm's answer for this call, if a storm takes it; else return at once."""
        now = time.monotonic()
        self._storms = [storm for storm in self._storms if storm.active(now)]
        for storm in self._storms:
            if not storm.hits(method.lower(), chat_id):
                continue
            if storm.share < 1.0 and self._random.random() >= storm.share:
                continue
            storm.struck += 1
            if storm.kind is FaultKind.SLOW:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(storm.calm.wait(), storm.hang)
                return
            raise await _answer(storm, now)


async def _answer(storm: Storm, now: float) -> ApiError:
    if storm.kind is FaultKind.SERVER_ERROR:
        return ApiError(500, "Internal Server Error")
    if storm.kind is FaultKind.BAD_GATEWAY:
        return ApiError(502, "Bad Gateway")
    if storm.kind is FaultKind.FLOOD:
        return ApiError.too_many_requests(storm.retry_after)
    wait = min(storm.hang, max(storm.ends_at - now, 0.0) + 1.0)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(storm.calm.wait(), wait)
    return ApiError(504, "Gateway Timeout")
