"""The Telegram senders of the outbox: one per outbox kind that goes to a Telegram chat.

The outbox worker (`broadcast.outbox`) decides when a row goes and what a failure
costs; these send it and say, in the worker's terms (`broadcast.delivery`), what
Telegram answered: a flood limit is a time to come back, a chat that blocked the
bot or a request Telegram refuses is final, a network error is tried again with
back-off. An edit that changes nothing, or a delete of what is already gone,
counts as done.

Cards (alerts and messages) carry their first photo and their buttons; further
photos follow as an album replying to it, best effort. Telegram's file id of a
photo already uploaded is reused for the newest few: a photo sent again (a retry,
a later card or album with it) goes by its file id. The copies of one card go to
their chats side by side, so each uploads the photo: waiting for the first upload's
file id instead made the last of six copies later (about 20 ms against the
zero-latency sandbox, and one more round trip to Telegram's servers), and the bytes
cost the bot a millisecond a copy.

The chat guard's senders (bans, unbans, a member's personal join links, the
answer to a join request, a member's own alert message taken down) are here too:
`broadcast.chat_guard` decides and queues them. Telegram's "not enough rights" is
told to the scheme's coordinators (once a chat and kind) and the row given up:
nothing is retried that cannot succeed until a person changes the chat's settings.
"""

from __future__ import annotations

import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from telegram import Bot, InputMediaPhoto, Message, ReplyParameters
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from broadcast.chat_guard import ChatGuard, chat_label
from broadcast.delivery import (
    Delivered,
    GivenUpFn,
    RetryAtError,
    RetryLaterError,
    Sender,
    SendFn,
    UndeliverableError,
)
from broadcast.notices import tell_coordinators
from broadcast.texts import chats as chat_texts
from broadcast.texts import formats
from config.errors import NotFoundError
from config.schemes import SchemesFile
from config.vocabulary import AuditOutcome, OutboxKind, OutboxState
from handlers.keyboards import keyboard
from storage.ids import stored_id
from storage.models import ChatLink, OutboxRow, Scheme, utcnow
from storage.outbox_payloads import (
    AlertPayload,
    BanPayload,
    DeleteMessagePayload,
    DeletePayload,
    DocumentPayload,
    EditPayload,
    JoinAnswerPayload,
    JoinLinkPayload,
    MessagePayload,
    OutboxPayload,
    UnbanPayload,
    VoicePayload,
    payload_of,
    read,
)
from storage.photos import PhotoStore
from storage.store import Store

logger = logging.getLogger(__name__)

FILE_ID_CACHE = 1024
TARGET_NOT_SENT_SECONDS = 1.0
"""An edit or delete whose message is not out yet is tried again this soon."""
GONE = ("user not found", "participant_id_invalid", "user_not_participant")
ANSWERED = ("hide_requester_missing", "user_already_participant")
"""A join request already answered (or withdrawn): answering it again is done, not failed."""
NOT_FOUND = ("message to delete not found",)


def telegram_senders(
    bot: Bot,
    store: Store,
    photos: PhotoStore,
    data_dir: Path,
    schemes: SchemesFile,
    *,
    wake: Callable[[], None],
) -> dict[OutboxKind, Sender]:
    """Every Telegram kind's sender; `wake` tells the worker of the coordinators' notices."""
    chats = ChatSenders(bot, store, photos, data_dir, wake=wake)
    guard = ChatGuardSenders(bot, store, schemes)
    told = chats.tell_unreachable
    return {
        OutboxKind.ALERT: telegram(chats.card, given_up=told),
        OutboxKind.MESSAGE: telegram(chats.card, given_up=told),
        OutboxKind.EDIT: telegram(chats.edit, gone_is_done=True),
        OutboxKind.DELETE: telegram(chats.delete, gone_is_done=True),
        OutboxKind.DOCUMENT: telegram(chats.document),
        OutboxKind.VOICE: telegram(chats.voice),
        OutboxKind.BAN: telegram(guard.ban),
        OutboxKind.UNBAN: telegram(guard.unban),
        OutboxKind.JOIN_LINK: telegram(guard.join_link),
        OutboxKind.JOIN_ANSWER: telegram(guard.join_answer),
        OutboxKind.DELETE_MESSAGE: telegram(guard.delete_message),
    }


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def _has_caption(message: OutboxPayload) -> bool:
    """Telegram edits a photo's or a voice note's words as its caption."""
    return isinstance(message, VoicePayload) or (
        isinstance(message, AlertPayload | MessagePayload) and bool(message.photos)
    )


def _harmless(exc: BadRequest) -> bool:
    """Edits that change nothing, or deletes of what is already gone, count as done."""
    message = exc.message.lower()
    return "not modified" in message or "message to delete not found" in message


def telegram(
    send: SendFn, *, gone_is_done: bool = False, given_up: GivenUpFn | None = None
) -> Sender:
    """`send` with Telegram's errors said in the worker's terms (`broadcast.delivery`)."""

    async def translated(row: OutboxRow) -> Delivered:
        try:
            return await send(row)
        except RetryAfter as exc:
            wait = _seconds(exc.retry_after)
            raise RetryAtError(f"flood limit: retry after {wait}s", wait, flood=True) from exc
        except Forbidden as exc:
            raise UndeliverableError(exc.message, recorded=f"forbidden: {exc.message}") from exc
        except BadRequest as exc:
            if gone_is_done and _harmless(exc):
                return Delivered(unchanged=True)
            raise UndeliverableError(exc.message, recorded=f"bad request: {exc.message}") from exc
        except TelegramError as exc:
            recorded = f"{type(exc).__name__}: {exc.message}"
            raise RetryLaterError(exc.message, recorded=recorded) from exc

    return Sender(translated, given_up)


class PhotoUploads:
    """Telegram's file id for each photo already uploaded, for the newest few photos."""

    def __init__(self, photos: PhotoStore, size: int = FILE_ID_CACHE) -> None:
        self.photos = photos
        self.size = size
        self._file_ids: OrderedDict[str, str] = OrderedDict()

    def photo(self, path: str) -> str | bytes:
        """What to send for the stored photo: its file id if known, else its bytes."""
        file_id = self._file_ids.get(path)
        if file_id is None:
            return self.photos.read(path)
        self._file_ids.move_to_end(path)
        return file_id

    def remember(self, path: str, message: Message) -> None:
        if message.photo:
            self._file_ids[path] = message.photo[-1].file_id
            self._file_ids.move_to_end(path)
            while len(self._file_ids) > self.size:
                self._file_ids.popitem(last=False)


class ChatSenders:
    """Cards, edits, deletes, documents and voice notes to chats."""

    def __init__(
        self,
        bot: Bot,
        store: Store,
        photos: PhotoStore,
        data_dir: Path,
        *,
        wake: Callable[[], None],
    ) -> None:
        self.bot = bot
        self.store = store
        self.uploads = PhotoUploads(photos)
        self.data_dir = data_dir
        self._wake = wake

    async def tell_unreachable(self, row: OutboxRow, error: str) -> None:
        """A scheme chat the bot cannot post in is told to its coordinators, once."""
        if row.chat_id >= 0:
            return
        text = chat_texts.chat_unreachable(row.chat_id, error)
        await tell_coordinators(self.store, row.scheme_id, text, key=f"unreachable:{row.chat_id}")
        self._wake()

    async def _superseded(self, edit: OutboxRow) -> bool:
        """A newer edit of the same message is on its way or done: this older one would
        put back what it replaced (after a retry, edits can come out of turn)."""
        if edit.report_id is None:
            return False
        edit_id = stored_id(edit)
        target = read(edit, EditPayload).target
        return any(
            stored_id(other) > edit_id
            and read(other, EditPayload).target == target
            and other.state != OutboxState.FAILED
            for other in await self.store.outbox.for_report(edit.report_id, kind=OutboxKind.EDIT)
        )

    async def _target(self, target_id: int) -> tuple[OutboxRow, int]:
        """The message an edit or delete is about, and its id in the chat."""
        target = await self.store.outbox.get(target_id)
        if target.state != OutboxState.SENT or target.telegram_message_id is None:
            if target.state == OutboxState.FAILED:
                raise NotFoundError("the original message was never delivered")
            raise RetryAtError("waiting for the original message", TARGET_NOT_SENT_SECONDS)
        return target, target.telegram_message_id

    async def edit(self, row: OutboxRow) -> Delivered:
        payload = read(row, EditPayload)
        target, message_id = await self._target(payload.target)
        if await self._superseded(row):
            return Delivered(message_id)
        markup = keyboard(payload.buttons)
        if _has_caption(payload_of(target)):
            await self.bot.edit_message_caption(
                row.chat_id, message_id, caption=payload.text, reply_markup=markup
            )
        else:
            await self.bot.edit_message_text(
                payload.text, row.chat_id, message_id, reply_markup=markup
            )
        return Delivered(message_id)

    async def delete(self, row: OutboxRow) -> Delivered:
        payload = read(row, DeletePayload)
        _, message_id = await self._target(payload.target)
        await self.bot.delete_message(row.chat_id, message_id)
        for extra in payload.also:
            with contextlib.suppress(BadRequest):
                await self.bot.delete_message(row.chat_id, extra)
        return Delivered(message_id)

    def _file(self, relative: str, what: str) -> Path:
        path = (self.data_dir / relative).resolve()
        if not path.is_relative_to(self.data_dir.resolve()):
            raise NotFoundError(f"{what} outside the data directory")
        return path

    async def document(self, row: OutboxRow) -> Delivered:
        payload = read(row, DocumentPayload)
        path = self._file(payload.path, "document")
        sent = await self.bot.send_document(
            row.chat_id,
            path.read_bytes(),
            filename=payload.filename or path.name,
            caption=payload.caption,
            protect_content=payload.protect_content,
        )
        if payload.delete_after_send:
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                path.parent.rmdir()  # the file's own folder, once empty
        return Delivered(sent.message_id)

    async def voice(self, row: OutboxRow) -> Delivered:
        payload = read(row, VoicePayload)
        path = self._file(payload.path, "voice note")
        sent = await self.bot.send_voice(
            row.chat_id,
            path.read_bytes(),
            caption=payload.caption,
            reply_markup=keyboard(payload.buttons),
            protect_content=payload.protect_content,
        )
        return Delivered(sent.message_id)

    async def card(self, row: OutboxRow) -> Delivered:
        """The card (photo with caption and buttons, or text); further photos as an album.

        Telegram cannot put buttons on an album, so the first photo carries the card
        and its buttons and the rest follow as a media group replying to it.
        """
        payload = read(row, AlertPayload if row.kind == OutboxKind.ALERT else MessagePayload)
        chat_id = row.chat_id
        text = payload.text
        markup = keyboard(payload.buttons)
        protect = payload.protect_content
        photos = list(payload.photos)
        answers = payload.reply_to if isinstance(payload, MessagePayload) else None
        reply = ReplyParameters(answers, allow_sending_without_reply=True) if answers else None
        if not photos:
            sent = await self.bot.send_message(
                chat_id, text, reply_markup=markup, protect_content=protect, reply_parameters=reply
            )
            return Delivered(sent.message_id)
        first, rest = photos[0], photos[1:]
        sent = await self.bot.send_photo(
            chat_id,
            self.uploads.photo(first),
            caption=text,
            reply_markup=markup,
            protect_content=protect,
            reply_parameters=reply,
        )
        self.uploads.remember(first, sent)
        extra_ids: list[int] = []
        if rest:
            extra_ids = await self._extra_photos(chat_id, rest, sent.message_id, protect)
        return Delivered(sent.message_id, tuple(extra_ids))

    async def _extra_photos(
        self, chat_id: int, paths: list[str], reply_to: int, protect: bool
    ) -> list[int]:
        """Best effort once the card is out: a failure here must not resend the card.

        A flood limit is waited out by python-telegram-bot's rate limiter, which
        retries the request; what fails after that is left out.
        """
        reply = ReplyParameters(reply_to)
        try:
            if len(paths) == 1:  # an album needs two to ten photos
                single = await self.bot.send_photo(
                    chat_id,
                    self.uploads.photo(paths[0]),
                    protect_content=protect,
                    reply_parameters=reply,
                )
                self.uploads.remember(paths[0], single)
                return [single.message_id]
            album = await self.bot.send_media_group(
                chat_id,
                [InputMediaPhoto(self.uploads.photo(path)) for path in paths[:10]],
                protect_content=protect,
                reply_parameters=reply,
            )
        except TelegramError as exc:
            logger.warning("further photos to chat %s not sent: %s", chat_id, exc.message)
            return []
        for path, message in zip(paths, album, strict=False):
            self.uploads.remember(path, message)
        return [message.message_id for message in album]


def _lacks_rights(error: BadRequest) -> bool:
    message = error.message.lower()
    return any(
        words in message
        for words in ("not enough rights", "message can't be deleted", "chat_admin_required")
    )


class ChatGuardSenders:
    """Bans, unbans, join links, join answers and members' messages taken down."""

    def __init__(self, bot: Bot, store: Store, schemes: SchemesFile) -> None:
        self.bot = bot
        self.store = store
        self.guard = ChatGuard(store, schemes)

    async def _scheme(self, row: OutboxRow) -> Scheme:
        return await self.store.schemes.get(row.scheme_id)

    async def _refused(self, row: OutboxRow, error: BadRequest, right: str) -> UndeliverableError:
        """The bot lacks a right: the coordinators hear which, once; the row is given up."""
        scheme = await self._scheme(row)
        chat = chat_label(scheme, row.chat_id)
        await self.guard.tell_coordinators(
            scheme,
            chat_texts.rights_missing(scheme.name, chat, row.chat_id, [right]),
            key=f"rights:{row.chat_id}:{row.kind}:{right}",
        )
        return UndeliverableError(f"not enough rights ({right}): {error.message}")

    async def _audit(self, row: OutboxRow, action: str, **detail: object) -> None:
        await self.store.audit.record(
            None,
            action,
            AuditOutcome.ALLOWED,
            scheme_id=row.scheme_id,
            detail={"chat_id": row.chat_id, "outbox_id": row.id, **detail},
        )

    async def _was(self, chat_id: int, user_id: int) -> str:
        try:
            return str((await self.bot.get_chat_member(chat_id, user_id)).status)
        except BadRequest:
            return "unknown"

    async def ban(self, row: OutboxRow) -> Delivered:
        """Out of the chat (and with `release`, free to be invited back); the member's
        links to that chat stop working first, so a stale link admits nobody."""
        payload = read(row, BanPayload)
        user_id, release = payload.user_id, payload.release
        was = await self._was(row.chat_id, user_id)
        revoked = await self._revoke_links(row, user_id)
        try:
            await self.bot.ban_chat_member(row.chat_id, user_id)
            if release:
                await self.bot.unban_chat_member(row.chat_id, user_id, only_if_banned=True)
        except BadRequest as exc:
            if _lacks_rights(exc):
                raise await self._refused(row, exc, "can_restrict_members") from None
            raise
        await self._audit(
            row,
            "chat_remove" if release else "chat_ban",
            user_id=user_id,
            was=was,
            links_revoked=revoked,
        )
        return Delivered()

    async def _revoke_links(self, row: OutboxRow, user_id: int) -> int:
        member = await self.store.members.get(row.scheme_id, user_id)
        if member is None:
            return 0
        links = await self.store.chats.open_links(stored_id(member), row.chat_id, utcnow())
        for link in links:
            try:
                await self.bot.revoke_chat_invite_link(row.chat_id, link.invite_link)
            except BadRequest as exc:  # expired meanwhile, or made by hand and gone
                logger.info("join link %s not revoked: %s", link.id, exc.message)
        await self.store.chats.mark_revoked([link.id for link in links if link.id])
        return len(links)

    async def unban(self, row: OutboxRow) -> Delivered:
        user_id = read(row, UnbanPayload).user_id
        try:
            await self.bot.unban_chat_member(row.chat_id, user_id, only_if_banned=True)
        except BadRequest as exc:
            if _lacks_rights(exc):
                raise await self._refused(row, exc, "can_restrict_members") from None
            raise
        await self._audit(row, "chat_unban", user_id=user_id)
        return Delivered()

    async def join_link(self, row: OutboxRow) -> Delivered:
        """Make the member's links (reusing those an earlier attempt made) and send them."""
        row_id = stored_id(row)
        payload = read(row, JoinLinkPayload)
        made = {link.chat_id: link for link in await self.store.chats.links_made_by(row_id)}
        expires = utcnow() + timedelta(hours=payload.hours)
        for chat in payload.chats:
            chat_id = chat.chat_id
            if chat_id in made:
                continue
            try:
                link = await self.bot.create_chat_invite_link(
                    chat_id,
                    expire_date=expires,
                    name=f"ShopWatch member {payload.member_id}",
                    creates_join_request=True,
                )
            except BadRequest as exc:
                if _lacks_rights(exc):
                    raise await self._refused(row, exc, "can_invite_users") from None
                raise
            made[chat_id] = await self.store.chats.add_link(
                ChatLink(
                    scheme_id=row.scheme_id,
                    member_id=payload.member_id,
                    chat_id=chat_id,
                    invite_link=link.invite_link,
                    outbox_id=row_id,
                    expires_at=link.expire_date or expires,
                )
            )
        shown = [(chat.label, made[chat.chat_id].invite_link) for chat in payload.chats]
        until = min(link.expires_at for link in made.values())
        text = chat_texts.join_links(
            payload.scheme, shown, formats.moment(until, payload.timezone)
        )
        sent = await self.bot.send_message(
            row.chat_id, text, protect_content=True, disable_web_page_preview=True
        )
        return Delivered(sent.message_id)

    async def join_answer(self, row: OutboxRow) -> Delivered:
        payload = read(row, JoinAnswerPayload)
        user_id, approve = payload.user_id, payload.approve
        try:
            if approve:
                await self.bot.approve_chat_join_request(row.chat_id, user_id)
            else:
                await self.bot.decline_chat_join_request(row.chat_id, user_id)
        except BadRequest as exc:
            message = exc.message.lower()
            if any(word in message for word in ANSWERED):
                return Delivered()
            if _lacks_rights(exc):
                raise await self._refused(row, exc, "can_invite_users") from None
            raise
        return Delivered()

    async def delete_message(self, row: OutboxRow) -> Delivered:
        """A member's own message, once the bot's copy (`after`) is in the chat."""
        payload = read(row, DeleteMessagePayload)
        after = payload.after_key
        if after is not None:
            copies = [
                copy
                for copy in await self.store.outbox.by_dedupe_prefix(after)
                if copy.dedupe_key == after
            ]
            if not copies or all(copy.state == OutboxState.FAILED for copy in copies):
                raise UndeliverableError(
                    "the bot's copy never reached the chat: the member's message stays"
                )
            if not any(copy.state == OutboxState.SENT for copy in copies):
                raise RetryLaterError("the bot's copy is not in the chat yet")
        message_id = payload.message_id
        try:
            await self.bot.delete_message(row.chat_id, message_id)
        except BadRequest as exc:
            message = exc.message.lower()
            if any(word in message for word in NOT_FOUND):
                return Delivered()
            if _lacks_rights(exc):
                raise await self._refused(row, exc, "can_delete_messages") from None
            raise
        await self._audit(row, "member_message_deleted", message_id=message_id)
        return Delivered()
