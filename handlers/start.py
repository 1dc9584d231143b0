"""First contact and finding one's way: `/start`, `/help`, and every command that is
misspelt or sent in the wrong chat gets an answer that says what to do instead.

/help and the command menu are the person's own: a shop, an operator, a coordinator
and the police each see the commands their role allows (`broadcast.commands`); the
menu is set for their private chat (a `chat` scope) when they start or ask for help.
"""

from __future__ import annotations

import logging
import re

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CommandHandler, MessageHandler, filters

from broadcast import commands
from broadcast.texts import common as common_texts
from config.vocabulary import Role
from handlers.context import ShopWatchContext

SEEN_PRIVATE = "private_chat"
"""user_data flag: the member has written to the bot privately, so it may write first."""

logger = logging.getLogger(__name__)


def _viewer(context: ShopWatchContext) -> tuple[str, list[str], set[Role]]:
    viewer = context.viewer
    if viewer is None:
        return "there", [], set()
    names = [m.scheme.name for m in viewer.active]
    return viewer.first_name, names, {m.member.role for m in viewer.active}


async def _own_menu(context: ShopWatchContext, chat_id: int, roles: set[Role]) -> None:
    """The command menu of this private chat: the person's role's commands (set before
    the answer, so it is there when they read it)."""
    menu = [BotCommand(name, line) for name, line in commands.menu_for(roles)]
    try:
        await context.bot.set_my_commands(menu, scope=BotCommandScopeChat(chat_id))
    except TelegramError as error:  # the menu is a convenience; the answer still goes
        logger.warning("could not set the command menu of chat %s: %s", chat_id, error)


async def start(update: Update, context: ShopWatchContext) -> None:
    message = update.effective_message
    if message is None:
        return
    first_name, schemes, roles = _viewer(context)
    if message.chat.type == message.chat.PRIVATE and context.user_data is not None:
        context.user_data[SEEN_PRIVATE] = True  # the bot may now write to them first
    await _own_menu(context, message.chat_id, roles)
    if schemes:
        await message.reply_text(common_texts.welcome_member(first_name, schemes))
    else:
        await message.reply_text(common_texts.welcome_stranger(first_name))


async def help_command(update: Update, context: ShopWatchContext) -> None:
    message = update.effective_message
    if message is None:
        return
    _, _, roles = _viewer(context)
    await _own_menu(context, message.chat_id, roles)
    await message.reply_text(commands.help_for(roles))


async def wrong_chat(update: Update, _context: ShopWatchContext) -> None:
    """A private chat's command sent in a group: where it works."""
    message = update.effective_message
    if message is None or not message.text:
        return
    await message.reply_text(commands.wrong_chat(_command_of(message.text)), do_quote=True)


async def unknown_command(update: Update, context: ShopWatchContext) -> None:
    """A command nobody answers ("/alret"): the one meant, or where to look.

    In a group only a likely typo is answered, so other bots' commands stay theirs.
    """
    message = update.effective_message
    if message is None or not message.text:
        return
    name = _command_of(message.text)
    rest = message.text.split(maxsplit=1)[1] if " " in message.text.strip() else ""
    private = message.chat.type == message.chat.PRIVATE
    addressed = _addressee(message.text)
    if addressed and addressed.lower() != (context.bot.username or "").lower():
        return
    if not private and commands.suggestion(name) is None:
        return
    await message.reply_text(commands.unknown_command(name, rest.strip()), do_quote=True)


def _command_of(text: str) -> str:
    return text.split(maxsplit=1)[0].removeprefix("/").split("@", 1)[0].lower()


def _addressee(text: str) -> str | None:
    head = text.split(maxsplit=1)[0]
    return head.split("@", 1)[1] if "@" in head else None


_KNOWN = re.compile(
    r"^/(?:" + "|".join(sorted(commands.KNOWN)) + r")(?:@\w+)?(?:\s|$)", re.IGNORECASE
)

WRONG_CHAT_ANSWERED = (
    "report",
    "help",
    "start",
    "grade",
    "gallery",
    "link",
    "merge",
    "identify",
    "notice",
    "served",
    "noticeletter",
    "appeal",
    "decide",
)
"""Private commands with no answer of their own in a group (the rest have one)."""


def start_handlers() -> list[BaseHandler[Update, ShopWatchContext, None]]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("start", start, filters=private),
        CommandHandler("help", help_command, filters=private),
        CommandHandler(list(WRONG_CHAT_ANSWERED), wrong_chat, filters=filters.ChatType.GROUPS),
        MessageHandler(
            filters.COMMAND & ~filters.Regex(_KNOWN) & filters.UpdateType.MESSAGE,
            unknown_command,
        ),
    ]
