"""python-telegram-bot's calls through the token's lanes (`broadcast.lanes`).

python-telegram-bot's own `AIORateLimiter` serves waiting calls in the order they
came, so at the token's 30 messages a second a member's confirmation and the
control room's copy waited behind every group copy already queued. This limiter
keeps the same limits and lets the most urgent call go first.

The lane comes from a context variable the outbox worker sets around each row's
send (`broadcast.lanes.sending_at`), not from python-telegram-bot's per-call
`rate_limit_args`: the outbox knows the row's priority, and one place setting it
covers every Bot API call every sender makes for the row (a media group and the
message under it, a feature's own sender) where `rate_limit_args` would have to
be passed at each call, and a call that forgot would silently take another lane.
python-telegram-bot also drops a falsy `rate_limit_args`, so the lowest lane, 0,
would never arrive.

Like `AIORateLimiter`, Telegram's "retry after" is waited out and the call made
again, up to `max_retries` times before the error goes to the caller (the outbox
then puts the row back). Unlike it, only the chat Telegram refused waits: a
group's 20 a minute running out must not hold up a member's confirmation.
Reading calls (`get…`) and calls to no chat (answering a button) are not counted,
as Telegram's limits are on messages.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from broadcast.lanes import Lanes, current_priority

logger = logging.getLogger(__name__)

RETRY_MARGIN_SECONDS = 0.1
"""Waited beyond Telegram's "retry after", as `AIORateLimiter` does."""

Answer = bool | dict[str, Any] | list[dict[str, Any]]


class LaneRateLimiter(BaseRateLimiter[None]):
    """Telegram's limits, most urgent call first; "retry after" waited out per chat."""

    def __init__(self, lanes: Lanes, *, max_retries: int) -> None:
        self.lanes = lanes
        self.max_retries = max_retries

    async def initialize(self) -> None:
        """Nothing to open: the lanes are made with the limiter."""

    async def shutdown(self) -> None:
        """Nothing to close: a call still waiting ends with its caller."""

    async def process_request(  # noqa: PLR0917 - python-telegram-bot's signature
        self,
        callback: Callable[..., Coroutine[Any, Any, Answer]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> Answer:
        chat = _chat_of(data) if not endpoint.startswith("get") else None
        priority = current_priority()
        attempt = 0
        while True:
            try:
                await self.lanes.enter(chat, priority)
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt >= self.max_retries:
                    raise
                attempt += 1
                wait = _seconds(exc.retry_after) + RETRY_MARGIN_SECONDS
                logger.info("%s to chat %s: retry after %.1fs (%s)", endpoint, chat, wait, attempt)
                self.lanes.pause(chat, wait)


def _chat_of(data: dict[str, Any]) -> int | str | None:
    """The chat a call sends to: an integer id (even given as text), or a channel's @name."""
    chat = data.get("chat_id")
    if chat is None or isinstance(chat, int):
        return chat
    with contextlib.suppress(ValueError, TypeError):
        return int(chat)
    return str(chat)


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)
