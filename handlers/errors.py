"""The one global error handler: log the fault, tell the person, keep running."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.error import Forbidden, TelegramError

from broadcast import texts
from handlers.context import ShopWatchContext

logger = logging.getLogger(__name__)


async def on_error(update: object, context: ShopWatchContext) -> None:
    """Whatever a handler failed at, the member hears about it instead of silence."""
    logger.error("unhandled error while processing an update", exc_info=context.error)
    if not isinstance(update, Update):
        return
    chat = update.effective_chat
    if chat is None or chat.type != ChatType.PRIVATE:
        return
    try:
        await context.bot.send_message(chat.id, texts.SOMETHING_WENT_WRONG)
    except Forbidden:
        logger.info("chat %s blocked the bot; could not report the error", chat.id)
    except TelegramError:
        logger.warning("could not tell chat %s about the error", chat.id, exc_info=True)
