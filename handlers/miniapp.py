"""The galleries' Mini App offered where a member meets the bot: their private chat.

Where the deployment has a Mini App (`miniapp_url`), a member who may see the
galleries gets a Gallery button as their private chat's menu button, set when they
send /start or /help, and /start also brings a message with the same button under it.
Anyone else (a suspended member, the police, a stranger) gets the chat's ordinary menu
back. The page itself checks who opens it on every call (bot/miniapp), so a button
left in a chat opens nothing to a person who may no longer look.

Registered in a group after the commands' own answers, so this comes after them.
"""

from __future__ import annotations

import logging

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonDefault,
    MenuButtonWebApp,
    Update,
    WebAppInfo,
)
from telegram.error import TelegramError
from telegram.ext import BaseHandler, CommandHandler, filters

from broadcast.subjects import gallery_texts as texts
from broadcast.subjects.service import VIEWERS
from handlers.context import ShopWatchContext

logger = logging.getLogger(__name__)

MINIAPP_GROUP = 1
"""After group 0, where /start and /help are answered."""


async def offer_gallery(update: Update, context: ShopWatchContext) -> None:
    message = update.effective_message
    url = context.services.settings.miniapp_url
    if message is None or url is None:
        return
    viewer = context.viewer
    may_look = viewer is not None and any(m.member.role in VIEWERS for m in viewer.active)
    menu = MenuButtonWebApp(texts.BUTTON_GALLERY, WebAppInfo(url)) if may_look else None
    try:
        await context.bot.set_chat_menu_button(message.chat_id, menu or MenuButtonDefault())
    except TelegramError as error:  # the menu is a convenience; the message still goes
        logger.warning("could not set the menu button of chat %s: %s", message.chat_id, error)
    if may_look and message.text and message.text.split()[0].lower().startswith("/start"):
        button = InlineKeyboardButton(texts.BUTTON_GALLERY, web_app=WebAppInfo(url))
        await message.reply_text(texts.OPEN_GALLERY, reply_markup=InlineKeyboardMarkup([[button]]))


def miniapp_handlers() -> list[BaseHandler[Update, ShopWatchContext, None]]:
    return [CommandHandler(["start", "help"], offer_gallery, filters=filters.ChatType.PRIVATE)]
