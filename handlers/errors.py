"""The one global error handler: log the fault, tell the person, keep running."""

from __future__ import annotations

import logging

from telegram import ReplyParameters, Update
from telegram.constants import ChatType
from telegram.error import Forbidden, TelegramError
from telegram.ext import ApplicationHandlerStop

from broadcast.texts import common as common_texts
from config.errors import StorageError
from handlers.context import ShopWatchContext

logger = logging.getLogger(__name__)


async def on_error(update: object, context: ShopWatchContext) -> None:
    """Whatever a handler failed at, the member hears about it instead of silence.

    The update then goes no further: after a failed access check the later handlers
    would take the sender for a stranger and answer a second, wrong time. A log that
    cannot be reached gets its own answer, since the person must know an alert did
    not go out.
    """
    error = context.error
    if isinstance(error, StorageError):
        logger.error("the log is unavailable while processing an update: %s", error)
    else:
        logger.error("unhandled error while processing an update", exc_info=error)
    if not isinstance(update, Update):
        return
    chat = update.effective_chat
    if chat is not None and chat.type == ChatType.PRIVATE:
        text = common_texts.LOG_UNAVAILABLE if isinstance(error, StorageError) else None
        await _tell(context, chat.id, text or common_texts.SOMETHING_WENT_WRONG)
    elif chat is not None and isinstance(error, StorageError) and _for_the_bot(update):
        # In a group the member's alert is there for all to read, so without this
        # they would think the control room and the neighbours have it too.
        message = update.effective_message
        assert message is not None
        await _tell(context, chat.id, common_texts.LOG_UNAVAILABLE, reply_to=message.message_id)
    raise ApplicationHandlerStop


def _for_the_bot(update: Update) -> bool:
    """A command or a captioned photo: what the bot answers in a group, alerts among them."""
    message = update.message
    if message is None:
        return False
    return bool(message.photo and message.caption) or (message.text or "").startswith("/")


async def _tell(
    context: ShopWatchContext, chat_id: int, text: str, *, reply_to: int | None = None
) -> None:
    try:
        await context.bot.send_message(
            chat_id,
            text,
            reply_parameters=ReplyParameters(reply_to) if reply_to is not None else None,
        )
    except Forbidden:
        logger.info("chat %s blocked the bot; could not report the error", chat_id)
    except TelegramError:
        logger.warning("could not tell chat %s about the error", chat_id, exc_info=True)
