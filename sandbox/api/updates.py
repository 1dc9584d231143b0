"""Getting updates: long polling, or a webhook the sandbox posts to."""

from __future__ import annotations

import asyncio
import re

from telegram import WebhookInfo

from sandbox import render
from sandbox.api.context import CallContext
from sandbox.errors import ApiError
from sandbox.params import Params
from sandbox.state import BotRecord, WebhookConfig

MAX_LIMIT = 100
MAX_POLL_TIMEOUT = 50.0
DEFAULT_MAX_CONNECTIONS = 40
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")


def _set_allowed(bot: BotRecord, params: Params) -> None:
    """``allowed_updates`` sticks until changed; an empty list means Telegram's default."""
    allowed = params.structured("allowed_updates")
    if allowed is None:
        return
    if not isinstance(allowed, list):
        raise ApiError.bad_request("can't parse allowed_updates JSON object")
    bot.allowed_updates = frozenset(str(kind) for kind in allowed) or None


async def get_updates(ctx: CallContext, params: Params) -> list[dict[str, object]]:
    """Long poll; a newer getUpdates for the same bot ends this one with 409, as on Telegram."""
    bot = ctx.bot
    if bot.webhook is not None:
        raise ApiError(
            409,
            "Conflict: can't use getUpdates method while webhook is active; "
            "use deleteWebhook to delete the webhook first",
        )
    offset = params.integer("offset")
    limit = min(max(params.integer("limit") or MAX_LIMIT, 1), MAX_LIMIT)
    timeout = min(max(params.number("timeout") or 0.0, 0.0), MAX_POLL_TIMEOUT)
    _set_allowed(bot, params)
    if offset is not None:
        ctx.state.confirm_updates(bot, offset)
    bot.poll_generation += 1
    generation = bot.poll_generation
    bot.updates_signal.notify()
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if bot.poll_generation != generation:
            raise ApiError(
                409,
                "Conflict: terminated by other getUpdates request; "
                "make sure that only one bot instance is running",
            )
        remaining = deadline - asyncio.get_running_loop().time()
        if bot.pending or remaining <= 0 or ctx.state.stopping or bot.webhook is not None:
            return bot.pending[:limit]
        await bot.updates_signal.wait(remaining)


async def set_webhook(ctx: CallContext, params: Params) -> bool:
    url = params.string("url") or ""
    if not url:
        return await delete_webhook(ctx, params)
    if not url.startswith(("http://", "https://")):
        raise ApiError.bad_request("bad webhook: An HTTPS URL must be provided for webhook")
    secret = params.string("secret_token")
    if secret is not None and not _SECRET.fullmatch(secret):
        raise ApiError.bad_request("secret token contains unallowed characters")
    _set_allowed(ctx.bot, params)
    if params.flag("drop_pending_updates"):
        ctx.bot.pending.clear()
    ctx.bot.webhook = WebhookConfig(
        url=url,
        secret_token=secret,
        max_connections=params.integer("max_connections") or DEFAULT_MAX_CONNECTIONS,
    )
    ctx.bot.updates_signal.notify()
    ctx.webhooks.restart(ctx.bot)
    return True


async def delete_webhook(ctx: CallContext, params: Params) -> bool:
    ctx.bot.webhook = None
    await ctx.webhooks.stop(ctx.bot)
    if params.flag("drop_pending_updates"):
        ctx.bot.pending.clear()
    return True


async def get_webhook_info(ctx: CallContext, params: Params) -> WebhookInfo:
    hook = ctx.bot.webhook
    allowed = sorted(ctx.bot.allowed_updates) if ctx.bot.allowed_updates else None
    if hook is None:
        return WebhookInfo(
            url="", has_custom_certificate=False, pending_update_count=len(ctx.bot.pending)
        )
    return WebhookInfo(
        url=hook.url,
        has_custom_certificate=False,
        pending_update_count=len(ctx.bot.pending),
        last_error_date=render.timestamp(hook.last_error_date) if hook.last_error_date else None,
        last_error_message=hook.last_error_message,
        max_connections=hook.max_connections,
        allowed_updates=allowed,
        ip_address="127.0.0.1",
    )
