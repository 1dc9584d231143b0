"""Methods that put a new message into a chat."""

from __future__ import annotations

import mimetypes
from pathlib import PurePath

from telegram import Message, MessageEntity, MessageId

from sandbox import render
from sandbox.api.context import CallContext, inline_markup, open_chat
from sandbox.errors import ApiError
from sandbox.formatting import Entities, format_text, utf16_len
from sandbox.media import image_size
from sandbox.params import Params, Upload
from sandbox.state import Conversation, FileRecord, MessageRecord

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MEDIA_GROUP_SIZES = range(2, 11)


def explicit_entities(params: Params, name: str) -> list[MessageEntity]:
    data = params.structured(name)
    if not isinstance(data, list):
        return []
    try:
        return [MessageEntity.de_json(item) for item in data if isinstance(item, dict)]
    except (KeyError, TypeError, ValueError):
        raise ApiError.bad_request(f"can't parse {name} JSON object") from None


def text_of(
    source: str, parse_mode: str | None, entities: list[MessageEntity]
) -> tuple[str, Entities]:
    """A message's text as shown and its entities, checked as Telegram checks them."""
    plain, found = format_text(source, parse_mode, entities)
    if not plain:
        raise ApiError.bad_request("message text is empty")
    if utf16_len(plain) > MAX_TEXT_LENGTH:
        raise ApiError.bad_request("message is too long")
    return plain, found


def message_text(params: Params) -> tuple[str, Entities, str]:
    """The text as shown, its entities and the text as sent, checked as Telegram checks it."""
    source = params.string("text") or ""
    plain, entities = text_of(
        source, params.string("parse_mode"), explicit_entities(params, "entities")
    )
    return plain, entities, source


def caption_of(
    source: str | None, parse_mode: str | None, entities: list[MessageEntity]
) -> tuple[str | None, Entities]:
    if not source:
        return None, ()
    plain, found = format_text(source, parse_mode, entities)
    if utf16_len(plain) > MAX_CAPTION_LENGTH:
        raise ApiError.bad_request("message caption is too long")
    return plain or None, found


def shown_text(text: str, *, caption: bool = False) -> str:
    """What a phone shows of a plain ``text`` the bot sends as a message, or as a photo's
    caption; the `ApiError` Telegram would answer if it would refuse it (empty, too long)."""
    if caption:
        shown, _ = caption_of(text, None, [])
        return shown or ""
    return text_of(text, None, [])[0]


def _caption(params: Params) -> tuple[str | None, Entities]:
    return caption_of(
        params.string("caption"),
        params.string("parse_mode"),
        explicit_entities(params, "caption_entities"),
    )


def _reply_to(params: Params, conv: Conversation) -> int | None:
    reply = params.structured("reply_parameters")
    other_chat: object = None
    if isinstance(reply, dict):
        wanted: object = reply.get("message_id")
        allow = bool(reply.get("allow_sending_without_reply"))
        other_chat = reply.get("chat_id")
    else:
        wanted = params.integer("reply_to_message_id")
        allow = params.flag("allow_sending_without_reply")
    if wanted is None:
        return None
    try:
        message_id = int(str(wanted))
    except ValueError:
        raise ApiError.bad_request("message to be replied not found") from None
    target = conv.messages.get(message_id)
    same_chat = other_chat is None or str(other_chat) == str(conv.chat_id)
    if same_chat and target is not None and not target.deleted:
        return message_id
    if allow:
        return None
    raise ApiError.bad_request("message to be replied not found")


def _new_message(ctx: CallContext, conv: Conversation, params: Params) -> MessageRecord:
    """Count the message against the limits, then create it with the common options."""
    markup = inline_markup(params, private=not conv.is_group)
    reply_to = _reply_to(params, conv)
    ctx.limiter.acquire(ctx.bot.id, conv.chat_id, is_group=conv.is_group)
    record = ctx.state.new_message(conv, ctx.bot.user)
    record.reply_markup = markup
    record.reply_to = reply_to
    record.protect_content = params.flag("protect_content")
    record.disable_notification = params.flag("disable_notification")
    return record


def _sent(ctx: CallContext, record: MessageRecord) -> Message:
    ctx.state.touch()
    return render.message(ctx.state, record, ctx.bot.id)


def known_file(ctx: CallContext, file_id: str, kind: str) -> FileRecord:
    """A file this bot has seen, re-sent by file_id. URLs are not fetched by the sandbox."""
    entry = ctx.state.files_by_id.get(file_id)
    if entry is None or entry[1] != ctx.bot.id:
        raise ApiError.bad_request("wrong file identifier/HTTP URL specified")
    record = entry[0]
    if record.kind != kind:
        raise ApiError.bad_request(
            f"can't use file of type {record.kind.title()} as {kind.title()}"
        )
    return record


def photo_file(ctx: CallContext, source: Upload | str | None) -> FileRecord:
    if source is None:
        raise ApiError.bad_request("there is no photo in the request")
    if isinstance(source, str):
        return known_file(ctx, source, "photo")
    # A bot's upload is kept in one size, as uploaded: the bot only reads its file id
    # back, and Telegram's re-encoding is Telegram's time, not the bot's.
    width, height, extension = image_size(source.data)
    return ctx.state.store_file(
        "photo", source.data, extension=extension, width=width, height=height
    )


def document_file(
    ctx: CallContext, source: Upload | str | None, filename: str | None = None
) -> FileRecord:
    if source is None:
        raise ApiError.bad_request("there is no document in the request")
    if isinstance(source, str):
        return known_file(ctx, source, "document")
    name = filename or source.filename or "document"
    mime = mimetypes.guess_type(name)[0] or source.content_type or "application/octet-stream"
    return ctx.state.store_file(
        "document",
        source.data,
        extension=PurePath(name).suffix,
        file_name=name,
        mime_type=mime,
    )


async def send_message(ctx: CallContext, params: Params) -> Message:
    conv = open_chat(ctx, params.chat_id(), sending=True)
    text, entities, source = message_text(params)
    record = _new_message(ctx, conv, params)
    record.text, record.entities, record.source_text = text, entities, source
    record.parse_mode = params.string("parse_mode")
    return _sent(ctx, record)


async def send_photo(ctx: CallContext, params: Params) -> Message:
    conv = open_chat(ctx, params.chat_id(), sending=True)
    caption, entities = _caption(params)
    photo = photo_file(ctx, params.input_file("photo"))
    record = _new_message(ctx, conv, params)
    record.photo, record.caption, record.caption_entities = photo, caption, entities
    record.source_text, record.parse_mode = params.string("caption"), params.string("parse_mode")
    return _sent(ctx, record)


async def send_document(ctx: CallContext, params: Params) -> Message:
    conv = open_chat(ctx, params.chat_id(), sending=True)
    caption, entities = _caption(params)
    document = document_file(ctx, params.input_file("document"))
    record = _new_message(ctx, conv, params)
    record.document, record.caption, record.caption_entities = document, caption, entities
    record.source_text, record.parse_mode = params.string("caption"), params.string("parse_mode")
    return _sent(ctx, record)


async def send_voice(ctx: CallContext, params: Params) -> Message:
    conv = open_chat(ctx, params.chat_id(), sending=True)
    caption, entities = _caption(params)
    source = params.input_file("voice")
    if source is None:
        raise ApiError.bad_request("there is no voice in the request")
    if isinstance(source, str):
        voice = known_file(ctx, source, "voice")
    else:
        voice = ctx.state.store_file(
            "voice",
            source.data,
            extension=".oga",
            mime_type="audio/ogg",
            duration=params.integer("duration") or 0,
        )
    record = _new_message(ctx, conv, params)
    record.voice, record.caption, record.caption_entities = voice, caption, entities
    return _sent(ctx, record)


async def send_location(ctx: CallContext, params: Params) -> Message:
    conv = open_chat(ctx, params.chat_id(), sending=True)
    latitude = params.number("latitude")
    longitude = params.number("longitude")
    if latitude is None or not -90 <= latitude <= 90:
        raise ApiError.bad_request("wrong latitude specified")
    if longitude is None or not -180 <= longitude <= 180:
        raise ApiError.bad_request("wrong longitude specified")
    record = _new_message(ctx, conv, params)
    record.location = (latitude, longitude)
    return _sent(ctx, record)


async def send_media_group(ctx: CallContext, params: Params) -> list[Message]:
    conv = open_chat(ctx, params.chat_id(), sending=True)
    media = params.structured("media")
    if not isinstance(media, list) or len(media) not in MEDIA_GROUP_SIZES:
        raise ApiError.bad_request("media group must include 2-10 items")
    kinds = {item.get("type") for item in media if isinstance(item, dict)}
    if len(kinds) != 1 and "document" in kinds:
        raise ApiError.bad_request("document can't be mixed with other media types")
    prepared: list[tuple[str, FileRecord, str | None, Entities, str | None]] = []
    for item in media:
        if not isinstance(item, dict) or item.get("type") not in {"photo", "document"}:
            raise ApiError.bad_request("sandbox supports photo and document media only")
        kind = str(item["type"])
        source = params.attachment(str(item.get("media", "")))
        entities = [MessageEntity.de_json(e) for e in item.get("caption_entities") or []]
        caption, found = caption_of(item.get("caption"), item.get("parse_mode"), entities)
        file = photo_file(ctx, source) if kind == "photo" else document_file(ctx, source)
        prepared.append((kind, file, caption, found, item.get("caption")))
    group_id = ctx.state.new_media_group_id()
    first = _new_message(ctx, conv, params)
    records = [first]
    for _ in prepared[1:]:
        record = ctx.state.new_message(conv, ctx.bot.user)
        record.protect_content = first.protect_content
        record.disable_notification = first.disable_notification
        records.append(record)
    for record, (kind, file, caption, found, source_caption) in zip(
        records, prepared, strict=True
    ):
        record.reply_markup = None
        record.media_group_id = group_id
        record.caption, record.caption_entities, record.source_text = (
            caption,
            found,
            source_caption,
        )
        if kind == "photo":
            record.photo = file
        else:
            record.document = file
    ctx.state.touch()
    return [render.message(ctx.state, record, ctx.bot.id) for record in records]


def _source_message(ctx: CallContext, params: Params) -> MessageRecord:
    source_conv = open_chat(ctx, params.chat_id("from_chat_id"), sending=False)
    source = source_conv.messages.get(params.integer("message_id") or 0)
    if source is None or source.deleted:
        raise ApiError.bad_request("message to copy not found")
    if source.protect_content:
        raise ApiError.bad_request("message has protected content and can't be forwarded")
    if source.new_chat_members or source.left_chat_member is not None:
        raise ApiError.bad_request("message can't be copied")
    return source


def _copy_content(source: MessageRecord, target: MessageRecord) -> None:
    target.text, target.entities = source.text, source.entities
    target.caption, target.caption_entities = source.caption, source.caption_entities
    target.photo, target.document, target.voice = source.photo, source.document, source.voice
    target.location = source.location


async def copy_message(ctx: CallContext, params: Params) -> MessageId:
    source = _source_message(ctx, params)
    conv = open_chat(ctx, params.chat_id(), sending=True)
    caption: str | None = None
    entities: Entities = ()
    if params.has("caption"):
        caption, entities = _caption(params)
    record = _new_message(ctx, conv, params)
    _copy_content(source, record)
    if params.has("caption"):
        record.caption, record.caption_entities = caption, entities
    ctx.state.touch()
    return MessageId(record.message_id)


async def forward_message(ctx: CallContext, params: Params) -> Message:
    source = _source_message(ctx, params)
    conv = open_chat(ctx, params.chat_id(), sending=True)
    record = _new_message(ctx, conv, params)
    record.reply_markup = None
    _copy_content(source, record)
    record.forward_from, record.forward_date = source.sender_id, source.date
    return _sent(ctx, record)
