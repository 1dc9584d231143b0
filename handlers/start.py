"""First contact: `/start` and `/help` tell a person, in plain English, what to do next."""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, filters

from broadcast import texts
from handlers.context import ShopWatchContext


def _viewer(context: ShopWatchContext) -> tuple[str, list[str]]:
    viewer = context.viewer
    if viewer is None:
        return "there", []
    names = [m.scheme.name for m in viewer.active]
    return viewer.first_name, names


async def start(update: Update, context: ShopWatchContext) -> None:
    message = update.effective_message
    if message is None:
        return
    first_name, schemes = _viewer(context)
    if schemes:
        await message.reply_text(texts.welcome_member(first_name, schemes))
    else:
        await message.reply_text(texts.welcome_stranger(first_name))


async def help_command(update: Update, context: ShopWatchContext) -> None:
    message = update.effective_message
    if message is None:
        return
    _, schemes = _viewer(context)
    await message.reply_text(texts.HELP_MEMBER if schemes else texts.HELP_STRANGER)


def start_handlers() -> list[BaseHandler[Update, ShopWatchContext, None]]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("start", start, filters=private),
        CommandHandler("help", help_command, filters=private),
    ]
