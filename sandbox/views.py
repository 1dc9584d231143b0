"""What a test sees of a message: a snapshot of its current state, with the file bytes."""

from __future__ import annotations

import datetime as dtm
from dataclasses import dataclass, field

from telegram import InlineKeyboardButton, MessageEntity

from sandbox.state import GROUP_KEY, ConvKey, MessageRecord


@dataclass(frozen=True)
class DocumentView:
    file_name: str | None
    mime_type: str | None
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class MessageView:
    """A message as its chat holds it at the moment the view was taken.

    ``text``/``caption`` are what a phone shows (surrounding whitespace trimmed);
    ``source_text`` is the string the bot sent. Deleted messages stay listed with
    ``deleted=True`` so tests can tell "deleted" from "never sent".
    """

    chat_id: int
    message_id: int
    sender_id: int
    from_bot: bool
    date: dtm.datetime
    text: str | None
    caption: str | None
    source_text: str | None
    parse_mode: str | None
    entities: tuple[MessageEntity, ...]
    buttons: tuple[tuple[InlineKeyboardButton, ...], ...]
    protect_content: bool
    disable_notification: bool
    photo: bytes | None = field(repr=False)
    photo_size: tuple[int, int] | None
    document: DocumentView | None
    voice: bytes | None = field(repr=False)
    location: tuple[float, float] | None
    reply_to_message_id: int | None
    media_group_id: str | None
    edited: bool
    deleted: bool
    order: int
    """Its place among the messages of every chat: which chat heard first."""
    chat_key: ConvKey = field(repr=False)

    @classmethod
    def of(cls, record: MessageRecord) -> MessageView:
        markup = record.reply_markup
        photo = record.photo
        document = record.document
        return cls(
            chat_id=record.chat_id,
            message_id=record.message_id,
            sender_id=record.sender_id,
            from_bot=record.sender_is_bot,
            date=dtm.datetime.fromtimestamp(record.date, tz=dtm.UTC),
            text=record.text,
            caption=record.caption,
            source_text=record.source_text,
            parse_mode=record.parse_mode,
            entities=record.entities or record.caption_entities,
            buttons=tuple(tuple(row) for row in markup.inline_keyboard) if markup else (),
            protect_content=record.protect_content,
            disable_notification=record.disable_notification,
            photo=photo.data if photo else None,
            photo_size=(photo.width or 0, photo.height or 0) if photo else None,
            document=(
                DocumentView(document.file_name, document.mime_type, document.data)
                if document
                else None
            ),
            voice=record.voice.data if record.voice else None,
            location=record.location,
            reply_to_message_id=record.reply_to,
            media_group_id=record.media_group_id,
            edited=record.edit_date is not None,
            deleted=record.deleted,
            order=record.order,
            chat_key=record.key,
        )

    @property
    def body(self) -> str:
        """Text or caption, whichever the message has."""
        return self.text or self.caption or ""

    @property
    def button_texts(self) -> list[str]:
        return [button.text for row in self.buttons for button in row]

    @property
    def in_group(self) -> bool:
        return self.chat_key[0] == GROUP_KEY
