"""Methods that change or remove a message that is already in a chat, and button answers.

As on Telegram, editMessageText and editMessageCaption REPLACE the inline keyboard: leaving
out reply_markup removes it.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, MessageEntity

from sandbox import render
from sandbox.api.context import CallContext, inline_markup, open_chat
from sandbox.api.sending import caption_of, explicit_entities, message_text
from sandbox.errors import ApiError
from sandbox.params import Params
from sandbox.state import CallbackAnswer, MessageRecord

DELETE_WINDOW_SECONDS = 48 * 3600
MAX_CALLBACK_TEXT = 200
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)


def _editable(ctx: CallContext, params: Params) -> MessageRecord:
    if params.string("inline_message_id"):
        raise ApiError.bad_request("MESSAGE_ID_INVALID")
    conv = open_chat(ctx, params.chat_id(), sending=False)
    record = conv.messages.get(params.integer("message_id") or 0)
    if record is None or record.deleted:
        raise ApiError.bad_request("message to edit not found")
    if record.sender_id != ctx.bot.id:
        raise ApiError.bad_request("message can't be edited")
    return record


def _markup_dict(markup: InlineKeyboardMarkup | None) -> object:
    return markup.to_dict() if markup is not None else None


def _entities_dicts(entities: tuple[MessageEntity, ...]) -> list[object]:
    return [entity.to_dict() for entity in entities]


def _apply(
    ctx: CallContext, record: MessageRecord, unchanged: bool, markup: InlineKeyboardMarkup | None
) -> None:
    """Refuse a no-op edit, count the edit against the limits and stamp it."""
    if unchanged and _markup_dict(markup) == _markup_dict(record.reply_markup):
        raise ApiError.bad_request(_NOT_MODIFIED)
    ctx.limiter.acquire(ctx.bot.id, record.chat_id, is_group=record.key[0] == 0)
    record.reply_markup = markup
    record.edit_date = ctx.state.now()
    record.edits += 1
    ctx.state.touch()


async def edit_message_text(ctx: CallContext, params: Params) -> Message:
    record = _editable(ctx, params)
    text, entities, source = message_text(params)
    markup = inline_markup(params, private=record.key[0] != 0)
    if record.text is None:
        raise ApiError.bad_request("there is no text in the message to edit")
    unchanged = record.text == text and _entities_dicts(record.entities) == _entities_dicts(
        entities
    )
    _apply(ctx, record, unchanged, markup)
    record.text, record.entities, record.source_text = text, entities, source
    record.parse_mode = params.string("parse_mode")
    return render.message(ctx.state, record, ctx.bot.id)


async def edit_message_caption(ctx: CallContext, params: Params) -> Message:
    record = _editable(ctx, params)
    caption, entities = caption_of(
        params.string("caption"),
        params.string("parse_mode"),
        explicit_entities(params, "caption_entities"),
    )
    markup = inline_markup(params, private=record.key[0] != 0)
    if not record.has_media:
        raise ApiError.bad_request("there is no caption in the message to edit")
    unchanged = record.caption == caption and _entities_dicts(
        record.caption_entities
    ) == _entities_dicts(entities)
    _apply(ctx, record, unchanged, markup)
    record.caption, record.caption_entities = caption, entities
    record.source_text, record.parse_mode = params.string("caption"), params.string("parse_mode")
    return render.message(ctx.state, record, ctx.bot.id)


async def edit_message_reply_markup(ctx: CallContext, params: Params) -> Message:
    record = _editable(ctx, params)
    _apply(ctx, record, True, inline_markup(params, private=record.key[0] != 0))
    return render.message(ctx.state, record, ctx.bot.id)


def _delete(ctx: CallContext, chat_id: int | str, message_id: int) -> None:
    conv = open_chat(ctx, chat_id, sending=False)
    record = conv.messages.get(message_id)
    too_old = record is not None and ctx.state.now() - record.date >= DELETE_WINDOW_SECONDS
    if record is None or record.deleted or too_old:
        raise ApiError.bad_request("message to delete not found")
    if conv.is_group and record.sender_id != ctx.bot.id:
        rights = ctx.state.groups[conv.chat_id].rights_of(ctx.bot.id)
        if rights is None or not rights.can_delete_messages:
            raise ApiError.bad_request("message can't be deleted")
    record.deleted = True


async def delete_message(ctx: CallContext, params: Params) -> bool:
    _delete(ctx, params.chat_id(), params.integer("message_id") or 0)
    ctx.state.touch()
    return True


async def delete_messages(ctx: CallContext, params: Params) -> bool:
    """Telegram skips messages it cannot delete here, failing only if none could be."""
    ids = params.structured("message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise ApiError.bad_request("message identifiers are not specified")
    chat_id = params.chat_id()
    deleted = 0
    for message_id in ids:
        try:
            _delete(ctx, chat_id, int(message_id))
            deleted += 1
        except ApiError as error:
            if error.status != 400:
                raise
    ctx.state.touch()
    if not deleted:
        raise ApiError.bad_request("message to delete not found")
    return True


async def answer_callback_query(ctx: CallContext, params: Params) -> bool:
    callback = ctx.state.callbacks.get(params.string("callback_query_id") or "")
    if callback is None or callback.bot_id != ctx.bot.id or callback.answer.done():
        raise ApiError.bad_request(
            "query is too old and response timeout expired or query ID is invalid"
        )
    text = params.string("text")
    if text is not None and len(text) > MAX_CALLBACK_TEXT:
        raise ApiError.bad_request("MESSAGE_TOO_LONG")
    answer = CallbackAnswer(
        text=text, show_alert=params.flag("show_alert"), url=params.string("url")
    )
    callback.press.answer = answer
    callback.answer.set_result(answer)
    ctx.state.touch()
    return True
