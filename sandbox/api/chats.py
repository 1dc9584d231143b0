"""The bot itself, chats, members, commands and files."""

from __future__ import annotations

import re

from telegram import (
    BotCommand,
    ChatFullInfo,
    ChatMember,
    File,
    MenuButton,
    MenuButtonCommands,
    MenuButtonDefault,
    MenuButtonWebApp,
    User,
    WebAppInfo,
)

from sandbox import render
from sandbox.api.context import CallContext, open_chat, web_app_url
from sandbox.errors import ApiError
from sandbox.params import Params
from sandbox.state import commands_key

MAX_DOWNLOAD_BYTES = 20 * 1024 * 1024
MAX_COMMANDS = 100
_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


async def get_me(ctx: CallContext, params: Params) -> User:
    return render.me(ctx.bot)


async def trivial(ctx: CallContext, params: Params) -> bool:
    return True


async def get_chat(ctx: CallContext, params: Params) -> ChatFullInfo:
    conv = open_chat(ctx, params.chat_id(), sending=False)
    return render.chat_full_info(ctx.state, conv.chat_id)


def _status(ctx: CallContext, chat_id: int, user_id: int) -> str:
    if user_id not in ctx.state.users:
        raise ApiError.bad_request("user not found")
    group = ctx.state.groups.get(chat_id)
    if group is None:
        return "member" if user_id in {chat_id, ctx.bot.id} else "left"
    return group.members.get(user_id, "left")


async def get_chat_member(ctx: CallContext, params: Params) -> ChatMember:
    conv = open_chat(ctx, params.chat_id(), sending=False)
    user_id = params.integer("user_id")
    if user_id is None:
        raise ApiError.bad_request("user not found")
    group = ctx.state.groups.get(conv.chat_id)
    rights = group.rights.get(user_id) if group is not None else None
    return render.member(ctx.state, _status(ctx, conv.chat_id, user_id), user_id, rights)


async def get_chat_administrators(ctx: CallContext, params: Params) -> list[ChatMember]:
    conv = open_chat(ctx, params.chat_id(), sending=False)
    group = ctx.state.groups.get(conv.chat_id)
    if group is None:
        return []
    return [
        render.member(ctx.state, status, member_id, group.rights.get(member_id))
        for member_id, status in group.members.items()
        if status in {"creator", "administrator"}
    ]


async def get_chat_member_count(ctx: CallContext, params: Params) -> int:
    conv = open_chat(ctx, params.chat_id(), sending=False)
    group = ctx.state.groups.get(conv.chat_id)
    if group is None:
        return 2
    return sum(1 for member_id in group.members if group.is_active(member_id))


async def send_chat_action(ctx: CallContext, params: Params) -> bool:
    open_chat(ctx, params.chat_id(), sending=True)
    if params.string("action") not in CHAT_ACTIONS:
        raise ApiError.bad_request("wrong parameter action in request")
    return True


def _scope_key(params: Params) -> str:
    return commands_key(params.structured("scope"), params.string("language_code"))


async def set_my_commands(ctx: CallContext, params: Params) -> bool:
    commands = params.structured("commands")
    if not isinstance(commands, list) or len(commands) > MAX_COMMANDS:
        raise ApiError.bad_request("can't parse commands JSON object")
    parsed: list[tuple[str, str]] = []
    for item in commands:
        if not isinstance(item, dict):
            raise ApiError.bad_request("can't parse BotCommand JSON object")
        command = str(item.get("command", "")).removeprefix("/")
        description = str(item.get("description", ""))
        if not _COMMAND.fullmatch(command):
            raise ApiError.bad_request("BOT_COMMAND_INVALID")
        if not 1 <= len(description) <= 256:
            raise ApiError.bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
        parsed.append((command, description))
    ctx.bot.commands[_scope_key(params)] = parsed
    return True


async def get_my_commands(ctx: CallContext, params: Params) -> list[BotCommand]:
    return [BotCommand(c, d) for c, d in ctx.bot.commands.get(_scope_key(params), [])]


async def delete_my_commands(ctx: CallContext, params: Params) -> bool:
    ctx.bot.commands.pop(_scope_key(params), None)
    return True


async def get_file(ctx: CallContext, params: Params) -> File:
    file_id = params.string("file_id") or ""
    entry = ctx.state.files_by_id.get(file_id)
    if entry is None or entry[1] != ctx.bot.id:
        raise ApiError.bad_request("invalid file_id")
    record = entry[0]
    if record.size > MAX_DOWNLOAD_BYTES:
        raise ApiError.bad_request("file is too big")
    return File(
        file_id=file_id,
        file_unique_id=record.unique_id,
        file_size=record.size,
        file_path=record.path,
    )


def _menu_chat(ctx: CallContext, params: Params) -> int | None:
    """The private chat named by ``chat_id``, or None for the bot's default menu button."""
    if not params.has("chat_id"):
        return None
    chat_id = params.chat_id()
    if isinstance(chat_id, str) or chat_id < 0:
        raise ApiError.bad_request("chat not found")
    return open_chat(ctx, chat_id, sending=False).chat_id


def _menu_button(data: object) -> MenuButton:
    if data is None:
        return MenuButtonDefault()
    if not isinstance(data, dict):
        raise ApiError.bad_request("can't parse menu button JSON object")
    kind = data.get("type")
    if kind == "commands":
        return MenuButtonCommands()
    if kind == "default":
        return MenuButtonDefault()
    if kind == "web_app":
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ApiError.bad_request("menu button text is empty")
        return MenuButtonWebApp(text, WebAppInfo(web_app_url(data.get("web_app"), "menu button")))
    raise ApiError.bad_request("unsupported menu button type")


async def set_chat_menu_button(ctx: CallContext, params: Params) -> bool:
    chat = _menu_chat(ctx, params)
    button = _menu_button(params.structured("menu_button"))
    if isinstance(button, MenuButtonDefault):
        ctx.bot.menu_buttons.pop(chat, None)
    else:
        ctx.bot.menu_buttons[chat] = button
    ctx.state.touch()
    return True


async def get_chat_menu_button(ctx: CallContext, params: Params) -> MenuButton:
    """The chat's own button, else the bot's default, else Telegram's (the commands)."""
    chat = _menu_chat(ctx, params)
    buttons = ctx.bot.menu_buttons
    if chat is not None and chat in buttons:
        return buttons[chat]
    return buttons.get(None, MenuButtonCommands())
