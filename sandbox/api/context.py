"""What a method handler gets, and the chat-access rules every chat method shares."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from telegram import InlineKeyboardMarkup

from sandbox.errors import ApiError
from sandbox.limits import RateLimiter
from sandbox.params import Params
from sandbox.state import BotRecord, Conversation, SandboxState

MAX_CALLBACK_DATA_BYTES = 64


class WebhookControl(Protocol):
    def restart(self, bot: BotRecord) -> None: ...

    async def stop(self, bot: BotRecord) -> None: ...


@dataclass
class CallContext:
    state: SandboxState
    bot: BotRecord
    limiter: RateLimiter
    webhooks: WebhookControl


Handler = Callable[[CallContext, Params], Awaitable[object]]


def _group_kind(chat_type: str) -> str:
    return "supergroup chat" if chat_type == "supergroup" else "group chat"


def open_chat(ctx: CallContext, chat_id: int | str, *, sending: bool) -> Conversation:
    """The conversation ``ctx.bot`` has with ``chat_id``, or the error Telegram answers.

    ``sending`` adds the checks that only stop new messages: a person must have started
    the bot, and must not have blocked it.
    """
    state = ctx.state
    bot = ctx.bot
    if isinstance(chat_id, str):
        wanted = chat_id.removeprefix("@").lower()
        found = [g for g in state.groups.values() if (g.username or "").lower() == wanted]
        if not found:
            raise ApiError.bad_request("chat not found")
        chat_id = found[0].id
    if chat_id < 0:
        group = state.groups.get(chat_id)
        if group is None:
            raise ApiError.bad_request("chat not found")
        status = group.members.get(bot.id)
        if status == "kicked":
            raise ApiError.forbidden(f"bot was kicked from the {_group_kind(group.type)}")
        if not group.is_active(bot.id):
            raise ApiError.forbidden(f"bot is not a member of the {_group_kind(group.type)}")
        return state.conversation(state.group_key(chat_id))
    person = state.users.get(chat_id)
    if person is None:
        raise ApiError.bad_request("chat not found")
    if person.is_bot:
        if person.id == bot.id:
            raise ApiError.bad_request("chat not found")
        raise ApiError.forbidden("bot can't send messages to bots")
    conv = state.conversation(state.private_key(bot.id, chat_id))
    if sending and not conv.opened:
        raise ApiError.forbidden("bot can't initiate conversation with a user")
    if sending and bot.id in person.blocked_bots:
        raise ApiError.forbidden("bot was blocked by the user")
    return conv


def inline_markup(params: Params, *, private: bool) -> InlineKeyboardMarkup | None:
    """The inline keyboard of ``reply_markup``; other keyboard kinds are accepted and dropped.

    Reply keyboards, ForceReply and ReplyKeyboardRemove change the person's input field,
    not the message, so Telegram's Message carries none of them. A Mini App button
    (``web_app``) needs an HTTPS URL and a private chat (``private``), as on Telegram.
    """
    data = params.structured("reply_markup")
    if data is None:
        return None
    if not isinstance(data, dict):
        raise ApiError.bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in data:
        if {"keyboard", "remove_keyboard", "force_reply"} & data.keys():
            return None
        raise ApiError.bad_request("can't parse reply keyboard markup JSON object")
    rows = data["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise ApiError.bad_request("can't parse inline keyboard button: field must be an Array")
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise ApiError.bad_request("can't parse inline keyboard button: Text is empty")
            actions = set(button) - {"text", "style", "icon_custom_emoji_id"}
            if not actions:
                raise ApiError.bad_request("text buttons are unallowed in the inline keyboard")
            data_value = button.get("callback_data")
            if data_value is not None and not (
                0 < len(str(data_value).encode()) <= MAX_CALLBACK_DATA_BYTES
            ):
                raise ApiError.bad_request("BUTTON_DATA_INVALID")
            if "web_app" in button:
                _check_web_app(button["web_app"], private=private)
    try:
        return InlineKeyboardMarkup.de_json(data)
    except (KeyError, TypeError, ValueError):
        raise ApiError.bad_request("can't parse reply keyboard markup JSON object") from None


def web_app_url(web_app: object, what: str) -> str:
    """The URL of a ``WebAppInfo``; Telegram opens only HTTPS pages in a web view."""
    url = web_app.get("url") if isinstance(web_app, dict) else None
    if not isinstance(url, str) or not url:
        raise ApiError.bad_request(f"can't parse {what} Web App JSON object")
    if not url.lower().startswith("https://"):
        raise ApiError.bad_request(
            f"{what} Web App URL '{url}' is invalid: Only HTTPS links are allowed"
        )
    return url


def _check_web_app(web_app: object, *, private: bool) -> None:
    if not private:
        raise ApiError.bad_request("BUTTON_TYPE_INVALID")
    web_app_url(web_app, "inline keyboard button")
