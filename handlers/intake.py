"""Everything a member sends gets an answer: photos with or without words, albums,
`/alert`, plain words, "ALERT …" in the group, videos, files, voice notes, edits.

A photo with a caption and `/alert text` go out at once, as they always did; what
cannot be known for sure (a photo with no words, words with no command) is asked
about once, with buttons, and the next words after a lone photo are its caption.
The same alert sent again within a few minutes is caught before it goes. Each
handler parses the message into an offer and makes one call into
`broadcast.intake.IntakeDesk`; this module then says what happened, in the chat
the member wrote in (an offer about a group message goes to their private chat
through the outbox).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from telegram import (
    Bot,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
)
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    Application,
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    JobQueue,
    MessageHandler,
    filters,
)

from broadcast import render, stills, voice_notes
from broadcast.alerts import MAX_TEXT, text_problem
from broadcast.fanout import MessageRef
from broadcast.intake import (
    CHOICES,
    Choice,
    Doubled,
    FileRef,
    IntakeDesk,
    Kind,
    Offer,
    OfferBox,
    Sent,
    expire,
    new_offer,
    plainly_an_alert,
    words_of,
)
from broadcast.radio.bridge import RadioBridge
from broadcast.texts import alerts as alert_texts
from broadcast.texts import intake as words
from broadcast.texts import refusals as refusal_texts
from config.errors import (
    InvalidPhotoError,
    Refusal,
    ReportClosedError,
    StorageError,
    TooManyAlertsError,
)
from config.vocabulary import RoleOrigin, Urgency
from handlers.context import Membership, ShopWatchContext
from handlers.keyboards import keyboard
from handlers.photo_size import evidence_size
from handlers.roles import EVERYONE_ACTIVE, requires
from handlers.start import SEEN_PRIVATE
from handlers.voice import relay_voice
from storage.ids import stored_id
from storage.models import Member, utcnow
from storage.outbox import Delivery
from storage.outbox_payloads import Buttons, MessagePayload
from storage.photo_limits import PhotoLimits
from storage.photos import TOO_LARGE, check_size

logger = logging.getLogger(__name__)

REPORTERS = EVERYONE_ACTIVE
PREFIX = "in"
ALBUM_SETTLE_SECONDS = 1.0
"""Telegram delivers an album as one update a photo, back to back: the alert waits this
long after the last one for the rest."""
BOT_FILE_LIMIT = 20 * 1024 * 1024
"""The Bot API fetches files up to 20 MB."""

_LABELS = {
    Choice.SEND: {
        Kind.PHOTO: words.BUTTON_SEND_AS_ALERT,
        Kind.TEXT: words.BUTTON_SEND_NOW,
    },
    Choice.WORDS: {Kind.PHOTO: words.BUTTON_ADD_WORDS},
    Choice.LOG: {Kind.TEXT: words.BUTTON_LOG_ONLY},
    Choice.CANCEL: {k: words.BUTTON_CANCEL for k in Kind},
    Choice.AGAIN: {Kind.DOUBLE: words.BUTTON_SEND_AGAIN},
}


def _desk(context: ShopWatchContext) -> IntakeDesk:
    return IntakeDesk(context.services.alerts, still=stills.decoder())


def _box(context: ShopWatchContext) -> OfferBox:
    return OfferBox(context.user_data)


def _buttons(context: ShopWatchContext, offer: Offer) -> Buttons:
    sign = context.services.signer.sign
    return tuple(
        ((_LABELS[choice][offer.kind], sign(PREFIX, offer.id, choice)),)
        for choice in CHOICES[offer.kind]
    )


def _fetcher(bot: Bot, context: ShopWatchContext) -> Any:
    limits = context.services.photos.limits

    async def fetch(ref: FileRef) -> bytes:
        if ref.kind == "photo":
            check_size(ref.size, limits)
        elif ref.size is not None and ref.size > BOT_FILE_LIMIT:
            raise InvalidPhotoError(TOO_LARGE)
        try:
            file = await bot.get_file(ref.file_id)
        except BadRequest as exc:
            if "too big" in exc.message.lower():
                raise InvalidPhotoError(TOO_LARGE) from None
            raise
        return bytes(await file.download_as_bytearray())

    return fetch


def _offer(
    kind: Kind,
    message: Message,
    membership: Membership,
    *,
    text: str = "",
    files: list[FileRef] | None = None,
) -> Offer:
    return new_offer(
        kind,
        scheme_id=stored_id(membership.scheme),
        member_id=stored_id(membership.member),
        chat_id=message.chat_id,
        message_id=message.message_id,
        now=utcnow(),
        text=text,
        files=files,
        album=message.media_group_id,
    )


# --- saying what happened -----------------------------------------------------------


def _card(context: ShopWatchContext, sent: Sent) -> tuple[str, InlineKeyboardMarkup | None]:
    submitted = sent.submitted
    report = submitted.report
    report_id = stored_id(report)
    if report.urgency != Urgency.NOW:
        return words.logged_only(report_id), None
    if not submitted.counted:
        return alert_texts.alert_saved_sending_shortly(report_id), None
    card = render.confirmation(
        report,
        shops=submitted.shops,
        neighbours=submitted.neighbours,
        signer=context.services.signer,
        replaced=submitted.replaced,
    )
    return card.text, keyboard(card.buttons)


@dataclass(frozen=True)
class _Said:
    """What to say about an offer sent: a confirmation card, a double's question (`doubled`
    the offer it asks about), or a refusal."""

    text: str
    markup: InlineKeyboardMarkup | None = None
    sent: Sent | None = None
    doubled: Doubled | None = None


async def _go(
    context: ShopWatchContext,
    offer: Offer,
    *,
    urgency: Urgency = Urgency.NOW,
    anyway: bool = False,
) -> _Said:
    """Send the offer; what to say about it."""
    box = _box(context)
    videos = any(ref.kind == "video" for ref in offer.files)
    try:
        outcome = await _desk(context).send(
            box,
            offer,
            _fetcher(context.bot, context),
            urgency=urgency,
            anyway=anyway,
            without_words=words.PHOTO_WITHOUT_WORDS,
        )
    except stills.NoDecoderError:
        return _Said(words.VIDEO_NO_DECODER)
    except InvalidPhotoError as exc:
        if videos:
            return _Said(words.VIDEO_TOO_BIG if str(exc) == TOO_LARGE else words.VIDEO_UNREADABLE)
        return _Said(alert_texts.photo_refused(str(exc)))
    except TooManyAlertsError:
        return _Said(alert_texts.TOO_MANY_ALERTS)
    except StorageError:
        logger.exception("an alert from chat %s could not be stored", offer.chat_id)
        return _Said(alert_texts.ALERT_NOT_STORED)
    if isinstance(outcome, Doubled):
        earlier = stored_id(outcome.earlier)
        markup = keyboard(_buttons(context, outcome.offer))
        return _Said(words.double(earlier), markup, doubled=outcome)
    if isinstance(outcome, Sent):
        text, markup = _card(context, outcome)
        return _Said(text, markup, sent=outcome)
    return _Said(words.already_done(outcome.offer.outcome, outcome.offer.report_id))


async def _send_and_answer(
    message: Message, context: ShopWatchContext, offer: Offer
) -> Sent | None:
    if text_problem(offer.text) == "too_long":
        await message.reply_text(alert_texts.alert_too_long(MAX_TEXT), do_quote=True)
        return None
    member = offer.member_id
    if context.services.alerts.posting_limit.exhausted(member):
        await message.reply_text(alert_texts.TOO_MANY_ALERTS, do_quote=True)  # before any download
        return None
    said = await _go(context, offer)
    if message.chat.type != message.chat.PRIVATE:
        reply = ReplyParameters(message.message_id, allow_sending_without_reply=True)
        if said.sent is not None:
            await _confirm_privately(context, offer, said.sent, reply)
            return said.sent
        if said.doubled is not None:
            await _double_privately(context, said.doubled, reply)
            return None
    await message.reply_text(said.text, reply_markup=said.markup, do_quote=True)
    return said.sent


async def _ask(
    message: Message, context: ShopWatchContext, membership: Membership, offer: Offer, text: str
) -> None:
    """The offer's question, under the member's message; the box remembers where it is.

    Each question counts as one of the member's changes a minute, as a press does: a
    phone stuck sending gets one answer a message, not a question with buttons each."""
    refused = await context.services.alerts.may_act(membership.member)
    if refused is not None:
        await message.reply_text(refused, do_quote=True)
        return
    _box(context).put(offer)
    if message.chat.type != message.chat.PRIVATE:
        reply = ReplyParameters(message.message_id, allow_sending_without_reply=True)
        await _ask_privately(context, offer, text, reply)
        return
    asked = await message.reply_text(
        text, reply_markup=keyboard(_buttons(context, offer)), do_quote=True
    )
    offer.asked_in, offer.asked_id = asked.chat_id, asked.message_id
    _box(context).put(offer)


async def _ask_privately(
    context: ShopWatchContext, offer: Offer, text: str, reply: ReplyParameters
) -> None:
    """A question about a group message (a photo without words) goes to the sender's
    private chat: only they may answer it, and the group sees no buttons. Sent at once,
    not queued, so the question is known and words typed there join the photo. Where the
    bot may not write first (or Telegram refuses), one line in the group says how to
    send it instead, and the offer is closed, as nobody can answer it."""
    member = await context.store.members.get_by_id(offer.member_id)
    if _may_write_first_to(context, member):
        try:
            asked = await context.bot.send_message(
                member.telegram_user_id, text, reply_markup=keyboard(_buttons(context, offer))
            )
        except Forbidden:
            logger.info("member %s has blocked the bot: asked in the group", member.id)
        else:
            offer.asked_in, offer.asked_id = asked.chat_id, asked.message_id
            _box(context).put(offer)
            return
    _desk(context).close(_box(context), offer, "cancelled")
    await context.bot.send_message(
        offer.chat_id,
        words.group_photo_start_me(member.display_name, context.bot.username or ""),
        reply_parameters=reply,
    )


# --- photos, albums, files, videos ------------------------------------------------------


@requires(*REPORTERS, action="alert")
async def photo_arrived(update: Update, context: ShopWatchContext, membership: Membership) -> None:
    message = update.effective_message
    if message is None:
        return
    ref = _picture_of(message, context.services.photos.limits)
    if ref is None:
        if message.chat.type == message.chat.PRIVATE or message.caption:
            await message.reply_text(words.FILE_NOT_A_PICTURE, do_quote=True)
        return
    caption = message.caption or ""
    if message.media_group_id:
        _album_part(context, message, membership, ref, caption)
        return
    if text_problem(caption) == "empty":
        offer = _offer(Kind.PHOTO, message, membership, files=[ref])
        await _ask(message, context, membership, offer, words.photo_question(1))
        return
    await _send_and_answer(
        message, context, _offer(Kind.TEXT, message, membership, text=caption, files=[ref])
    )


def _picture_of(message: Message, limits: PhotoLimits) -> FileRef | None:
    """The message's picture: a photo (the size kept as evidence), a video (a still is
    taken), or a file that is one of those; None for any other file."""
    if message.photo:
        size = evidence_size(message.photo, limits)
        return FileRef(size.file_id, size.file_size, "photo")
    video = message.video or message.video_note or message.animation
    if video is not None:
        return FileRef(video.file_id, video.file_size, "video")
    document = message.document
    if document is None:
        return None
    mime = (document.mime_type or "").lower()
    name = (document.file_name or "").lower()
    if mime.startswith("video/") or name.endswith((".mp4", ".mov", ".webm", ".mkv", ".3gp")):
        return FileRef(document.file_id, document.file_size, "video")
    return FileRef(document.file_id, document.file_size, "photo")


def _album_part(
    context: ShopWatchContext,
    message: Message,
    membership: Membership,
    ref: FileRef,
    caption: str,
) -> None:
    """One photo of an album: kept with the others until the album has settled."""
    box = _box(context)
    group = message.media_group_id
    assert group is not None
    offer = box.album(group)
    if offer is None:
        offer = _offer(Kind.ALBUM, message, membership)
    if ref.file_id not in {f.file_id for f in offer.files}:
        offer.files.append(ref)
    if caption.strip() and caption not in offer.text:
        offer.text = f"{offer.text}\n{caption}".strip()
    box.put(offer)
    queue = cast("JobQueue[ShopWatchContext] | None", context.job_queue)
    assert queue is not None
    name = f"album:{message.chat_id}:{group}"
    for job in queue.get_jobs_by_name(name):
        job.schedule_removal()
    queue.run_once(
        _album_settled,
        ALBUM_SETTLE_SECONDS,
        data=offer.id,
        name=name,
        chat_id=message.chat_id,
        user_id=message.from_user.id if message.from_user else None,
    )


async def _album_settled(context: ShopWatchContext) -> None:
    """The whole album is in: one alert with all its photos, or one question about them."""
    job = context.job
    assert job is not None
    assert job.chat_id is not None
    box = _box(context)
    offer = box.get(str(job.data))
    if offer is None or offer.outcome is not None:
        return
    bot = context.bot
    reply = ReplyParameters(offer.message_id, allow_sending_without_reply=True)
    if text_problem(offer.text) == "empty":
        photos = replace(offer, kind=Kind.PHOTO)
        box.put(photos)
        if job.chat_id != job.user_id:
            await _ask_privately(context, photos, words.photo_question(len(photos.files)), reply)
            return
        asked = await bot.send_message(
            job.chat_id,
            words.photo_question(len(photos.files)),
            reply_markup=keyboard(_buttons(context, photos)),
            reply_parameters=reply,
        )
        photos.asked_in, photos.asked_id = asked.chat_id, asked.message_id
        box.put(photos)
        return
    offer.kind = Kind.TEXT
    box.put(offer)
    if text_problem(offer.text) == "too_long":
        said, markup = alert_texts.alert_too_long(MAX_TEXT), None
    else:
        outcome = await _go(context, offer)
        said, markup = outcome.text, outcome.markup
        if job.chat_id != job.user_id and outcome.sent is not None:
            await _confirm_privately(context, offer, outcome.sent, reply)
            return
        if job.chat_id != job.user_id and outcome.doubled is not None:
            await _double_privately(context, outcome.doubled, reply)
            return
    await bot.send_message(job.chat_id, said, reply_markup=markup, reply_parameters=reply)


async def _confirm_privately(
    context: ShopWatchContext, offer: Offer, sent: Sent, reply: ReplyParameters
) -> None:
    """An alert from the group: its confirmation and the buttons that change it go to the
    member's private chat, so the group never sees them; a member who has not started
    the bot is told in one line in the group how to, as Telegram lets a bot write first
    only to someone who has."""
    report = sent.submitted.report
    report_id = stored_id(report)
    member = await context.store.members.get_by_id(offer.member_id)
    if not _may_write_first_to(context, member):
        await context.bot.send_message(
            offer.chat_id,
            words.group_alert_start_me(report_id, member.display_name, context.bot.username or ""),
            reply_parameters=reply,
        )
        return
    text, markup = _card(context, sent)
    rows = markup.inline_keyboard if markup else ()
    buttons: Buttons = tuple(tuple((b.text, str(b.callback_data)) for b in row) for row in rows)
    await context.store.outbox.enqueue(
        report.scheme_id,
        Delivery(
            member.telegram_user_id,
            MessagePayload(text=text, buttons=buttons),
            dedupe_key=f"confirmation:{report_id}",
        ),
    )
    context.services.outbox.wake()


async def _double_privately(
    context: ShopWatchContext, doubled: Doubled, reply: ReplyParameters
) -> None:
    """The same alert again in the group: "Send again anyway?" is asked in the member's
    private chat, so the group sees neither the question nor its buttons (and only the
    member could answer them: the offer is in their own box). Where the bot may not
    write first, one line in the group says it was not sent again and where to go; the
    offer is closed, as nobody can answer it."""
    offer = doubled.offer
    earlier = stored_id(doubled.earlier)
    member = await context.store.members.get_by_id(offer.member_id)
    if not _may_write_first_to(context, member):
        _desk(context).close(_box(context), offer, "cancelled")
        await context.bot.send_message(
            offer.chat_id,
            words.group_double_start_me(earlier, member.display_name, context.bot.username or ""),
            reply_parameters=reply,
        )
        return
    await context.store.outbox.enqueue(
        offer.scheme_id,
        Delivery(
            member.telegram_user_id,
            MessagePayload(text=words.group_double(earlier), buttons=_buttons(context, offer)),
            dedupe_key=f"double:{offer.chat_id}:{offer.message_id}",
        ),
    )
    context.services.outbox.wake()


# --- words: /alert, plain text in private, "ALERT …" in the group -------------------------


@requires(*REPORTERS, action="alert")
async def alert_command(update: Update, context: ShopWatchContext, membership: Membership) -> None:
    message = update.effective_message
    if message is None or message.text is None:
        return
    parts = message.text.split(maxsplit=1)
    text = parts[1] if len(parts) > 1 else ""
    if text_problem(text) == "empty":
        await message.reply_text(alert_texts.ALERT_EMPTY_COMMAND, do_quote=True)
        return
    await _send_and_answer(message, context, _offer(Kind.TEXT, message, membership, text=text))


@requires(*REPORTERS, action="alert")
async def private_text(update: Update, context: ShopWatchContext, membership: Membership) -> None:
    """Words with no command: the caption of the photo just sent, or offered as an alert."""
    message = update.effective_message
    if message is None or message.text is None:
        return
    _seen_private(context)
    box = _box(context)
    photos = box.open_photos(message.chat_id, utcnow())
    if photos is not None and text_problem(message.text) is None:
        joined = _desk(context).with_words(box, photos, message.text)
        sent = await _send_and_answer(message, context, joined)
        if sent is not None and photos.asked_id is not None:
            report_id = stored_id(sent.submitted.report)
            await _edit(context.bot, photos, words.sent_with_words(report_id), None)
        return
    text = words_of(message.text) or message.text
    if text_problem(text) == "too_long":
        await message.reply_text(alert_texts.alert_too_long(MAX_TEXT), do_quote=True)
        return
    offer = _offer(Kind.TEXT, message, membership, text=text)
    await _ask(message, context, membership, offer, words.text_offer(text))


async def group_text(update: Update, context: ShopWatchContext) -> None:
    """ "ALERT man in red coat…" in the group: offered to the sender privately, or told how."""
    message = update.effective_message
    viewer = context.viewer
    if message is None or message.text is None or viewer is None:
        return
    membership = viewer.acting_as(REPORTERS)
    if membership is None or not plainly_an_alert(message.text):
        return
    text = words_of(message.text)
    if text_problem(text) is not None:
        return
    offer = _offer(Kind.TEXT, message, membership, text=text)
    name = membership.member.display_name
    refused = await context.services.alerts.may_act(membership.member)
    if refused is not None:
        await message.reply_text(refused, do_quote=True)
        return
    if not _may_write_first(context, membership):
        await message.reply_text(
            words.group_offer_how(name, context.bot.username or "", text), do_quote=True
        )
        return
    _box(context).put(offer)
    scheme_id = stored_id(membership.scheme)
    await context.store.outbox.enqueue(
        scheme_id,
        Delivery(
            membership.member.telegram_user_id,
            MessagePayload(text=words.text_offer(text), buttons=_buttons(context, offer)),
            dedupe_key=f"offer:{message.chat_id}:{message.message_id}",
        ),
    )
    context.services.outbox.wake()
    await message.reply_text(words.group_offer_sent(name), do_quote=True)


def _may_write_first(context: ShopWatchContext, membership: Membership) -> bool:
    return _may_write_first_to(context, membership.member)


def _may_write_first_to(context: ShopWatchContext, member: Member) -> bool:
    """Telegram lets a bot write first only to someone who has started it: whoever joined
    by an invite did (the invite is a /start link), and whoever has written to it since."""
    seen = bool((context.user_data or {}).get(SEEN_PRIVATE))
    return seen or member.role_origin == RoleOrigin.INVITE


def _seen_private(context: ShopWatchContext) -> None:
    if context.user_data is not None and not context.user_data.get(SEEN_PRIVATE):
        context.user_data[SEEN_PRIVATE] = True


# --- a voice note, with the radio off ------------------------------------------------------


async def voice_arrived(
    update: Update, context: ShopWatchContext, membership: Membership, radio: RadioBridge | None
) -> None:
    """Heard and offered as an alert with its transcript; on the radio if the scheme has one."""
    message = update.effective_message
    if message is None or message.voice is None:
        return
    scheme_id = stored_id(membership.scheme)
    if radio is not None and radio.link_for(scheme_id) is not None:
        await relay_voice(update, context, radio)  # the radio's own way: relayed and filed
        return
    _seen_private(context)
    config = context.services.schemes.scheme(membership.scheme.slug)
    size = message.voice.file_size
    if size is not None and size > voice_notes.MAX_VOICE_BYTES:
        await message.reply_text(words.VOICE_UNREADABLE, do_quote=True)
        return
    data = bytes(await (await message.voice.get_file()).download_as_bytearray())
    try:
        transcript, pcm = await voice_notes.hear(config, data)
    except voice_notes.NoEngineError:
        await message.reply_text(words.VOICE_NO_ENGINE, do_quote=True)
        return
    except ValueError:
        await message.reply_text(words.VOICE_UNREADABLE, do_quote=True)
        return
    if text_problem(transcript) is not None:
        await message.reply_text(words.VOICE_NOT_HEARD, do_quote=True)
        return
    offer = _offer(Kind.TEXT, message, membership, text=transcript)
    offer.recording = await voice_notes.keep(
        context.services.settings.data_dir, membership.scheme.slug, pcm
    )
    await _ask(message, context, membership, offer, words.voice_offer(transcript))


# --- the offer's buttons ------------------------------------------------------------------


@requires(*REPORTERS, action="alert_offer")
async def offer_pressed(update: Update, context: ShopWatchContext, membership: Membership) -> None:
    query = update.callback_query
    assert query is not None
    parts = context.services.signer.verify(query.data)
    if parts is None or len(parts) != 3 or parts[2] not in tuple(Choice):
        await query.answer(refusal_texts.refusal(Refusal.FORGED), show_alert=True)
        return
    box = _box(context)
    offer = box.get(parts[1])
    if offer is None:
        await query.answer(words.NOT_YOURS, show_alert=True)
        return
    choice = Choice(parts[2])
    if offer.outcome is not None or choice not in CHOICES.get(offer.kind, ()):
        await query.answer(words.already_done(offer.outcome, offer.report_id), show_alert=True)
        return
    refused = await context.services.alerts.may_act(membership.member)
    if refused is not None:
        await query.answer(refused, show_alert=True)
        return
    if offer.asked_id is None and isinstance(query.message, Message):
        offer.asked_in, offer.asked_id = query.message.chat_id, query.message.message_id
        box.put(offer)
    if choice == Choice.CANCEL:
        _desk(context).close(box, offer, "cancelled")
        await query.answer(words.CANCELLED)
        await _edit(context.bot, offer, words.CANCELLED, None)
        return
    if choice == Choice.WORDS:
        offer.at = utcnow().isoformat()  # the words to come join it from now
        box.put(offer)
        await query.answer()
        await _edit(context.bot, offer, words.ASK_FOR_WORDS, None)
        return
    urgency = Urgency.LOG if choice == Choice.LOG else Urgency.NOW
    if offer.kind == Kind.DOUBLE:
        urgency = offer.urgency  # sent again as it was meant the first time
    said = await _go(context, offer, urgency=urgency, anyway=choice == Choice.AGAIN)
    await query.answer(said.text if said.sent is None else None)
    await _edit(context.bot, offer, said.text, said.markup)


async def _edit(bot: Bot, offer: Offer, text: str, markup: InlineKeyboardMarkup | None) -> None:
    if offer.asked_in is None or offer.asked_id is None:
        return
    try:
        await bot.edit_message_text(
            text, chat_id=offer.asked_in, message_id=offer.asked_id, reply_markup=markup
        )
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


# --- an edited alert ----------------------------------------------------------------------


async def edited(update: Update, context: ShopWatchContext) -> None:
    """The member edits the message their alert came from: every copy shows the correction."""
    message = update.edited_message
    viewer = context.viewer
    if message is None or viewer is None:
        return
    text = message.text or message.caption or ""
    if message.text and message.text.startswith("/alert"):
        text = message.text.split(maxsplit=1)[1] if " " in message.text.strip() else ""
    if text_problem(text) is not None:
        return
    box = _box(context)
    waiting = box.for_message(message.chat_id, message.message_id)
    if waiting is not None and waiting.outcome is None:
        changed = _desk(context).with_words(box, waiting, words_of(text) or text)
        if changed.kind == Kind.TEXT and changed.asked_id is not None:
            await _edit(
                context.bot,
                changed,
                words.text_offer(changed.text),
                keyboard(_buttons(context, changed)),
            )
        return
    alerts = context.services.alerts
    report = await alerts.find(MessageRef(message.chat_id, message.message_id))
    if report is None:
        return
    report_id = stored_id(report)
    membership = next(
        (
            m
            for m in viewer.active
            if m.scheme.id == report.scheme_id and m.member.id == report.member_id
        ),
        None,
    )
    if membership is None:
        return
    refused = await alerts.may_act(membership.member)
    if refused is not None:
        await message.reply_text(refused, do_quote=True)
        return
    try:
        await alerts.update(report_id, words.corrected(text), by=membership.member)
    except ReportClosedError:
        await message.reply_text(words.CORRECTION_TOO_LATE, do_quote=True)
        return
    await message.reply_text(words.correction_added(report_id), do_quote=True)


# --- expiry -------------------------------------------------------------------------------


async def expire_offers(
    application: Application[Any, Any, Any, Any, Any, Any], now: datetime | None = None
) -> int:
    """Offers nobody answered: each question says nothing went out. The number expired.

    A question not yet on screen (an album cut short by a restart; a group message's
    offer still in the outbox) gets a note of its own in the member's private chat.
    """
    now = now or utcnow()
    count = 0
    for user_id, data in list(application.user_data.items()):
        box = OfferBox(data)
        for offer in expire(box, now):
            count += 1
            photos = offer.kind in (Kind.PHOTO, Kind.ALBUM)
            what = words.EXPIRED_PHOTO if photos else words.EXPIRED_TEXT
            try:
                if offer.asked_id is not None:
                    await _edit(application.bot, offer, words.expired(what), None)
                else:
                    await application.bot.send_message(user_id, words.expired(what))
            except TelegramError as exc:
                logger.info("offer %s of %s: could not say it expired: %s", offer.id, user_id, exc)
    return count


async def _expiry_job(context: ShopWatchContext) -> None:
    await expire_offers(context.application)


# --- wiring -------------------------------------------------------------------------------


def intake_handlers() -> list[BaseHandler[Update, ShopWatchContext, object]]:
    """Register after the guided `/report` (its questions take their answers first) and
    before the alerts' replies and buttons."""
    chats = (filters.ChatType.PRIVATE | filters.ChatType.GROUPS) & filters.UpdateType.MESSAGE
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    groups = filters.ChatType.GROUPS & filters.UpdateType.MESSAGE
    pictures = filters.PHOTO | filters.VIDEO | filters.VIDEO_NOTE | filters.ANIMATION
    files = filters.Document.ALL & (filters.ChatType.PRIVATE | filters.CAPTION)
    return [
        CommandHandler("alert", alert_command, filters=chats),
        MessageHandler(chats & (pictures | files), photo_arrived),
        MessageHandler(private & filters.TEXT & ~filters.COMMAND & ~filters.REPLY, private_text),
        MessageHandler(groups & filters.TEXT & ~filters.COMMAND & ~filters.REPLY, group_text),
        MessageHandler(
            filters.UpdateType.EDITED_MESSAGE & (filters.TEXT | filters.CAPTION), edited
        ),
        CallbackQueryHandler(offer_pressed, pattern=f"^{PREFIX}:"),
    ]


def voice_note_handlers(
    radio: RadioBridge | None,
) -> list[BaseHandler[Update, ShopWatchContext, object]]:
    """Register before the radio's voice handler, which this one hands over to when the
    scheme's radio (`radio`, None when no scheme has one) is on."""

    @requires(*REPORTERS, action="alert")
    async def heard(update: Update, context: ShopWatchContext, membership: Membership) -> None:
        await voice_arrived(update, context, membership, radio)

    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    return [MessageHandler(private & filters.VOICE, heard)]


def schedule_intake(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Every minute, offers past their time are expired and their questions say so."""
    queue: JobQueue[ShopWatchContext] | None = application.job_queue
    if queue is not None:
        queue.run_repeating(_expiry_job, 60, first=60, name="intake:expiry")
