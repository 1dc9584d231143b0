"""The guided `/report`: one question at a time, a tap where a tap will do, in a private chat.

For the member who has a minute after the event (or during it) and wants the
report complete: what happened, now or log only, the person, which way they
went, the loss, a police reference, photos, then a summary to send or cancel.
Every optional question has Skip and every question has Cancel.

The conversation is named and persistent: its state and the draft (in
`user_data`, see `handlers.report_draft`) are kept in the database by
`bot.persistence`, so a restart in the middle loses nothing. Timeouts are jobs
in memory and are not restored, so the draft also carries the time of its last
answer and a conversation that outlived its timeout across a restart ends at
the next message, as it would have without the restart.

Buttons carry signed callback data tied to the draft (`r:<token>:<value>:<mac>`):
a button left on screen from an earlier question or report cannot answer this one.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Coroutine, Sequence
from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from broadcast import render
from broadcast.alerts import MessageRef, ReportDraft
from broadcast.outbox import keyboard
from broadcast.texts import alerts as alert_texts
from broadcast.texts import report as report_texts
from config.errors import InvalidPhotoError, StorageError, TooManyAlertsError
from handlers.context import Membership, ShopWatchContext
from handlers.photo_size import evidence_size
from handlers.report_draft import (
    CANCEL,
    DONE,
    LIMITS,
    MAX_PHOTOS,
    SEND,
    SKIP,
    TYPED_STEPS,
    USER_DATA_KEY,
    AnswerError,
    Draft,
    Step,
)
from handlers.roles import requires
from storage.enums import Role

logger = logging.getLogger(__name__)

NAME = "report"
TIMEOUT = timedelta(minutes=20)
PREFIX = "r"
REPORTERS = (Role.MEMBER, Role.OPERATOR, Role.COORDINATOR)

State = Step | int
Callback = Callable[[Update, ShopWatchContext], Coroutine[Any, Any, object]]

_END = ConversationHandler.END
_QUESTIONS: dict[Step, str] = {
    Step.CATEGORY: report_texts.REPORT_ASK_CATEGORY,
    Step.URGENCY: report_texts.REPORT_ASK_URGENCY,
    Step.DESCRIPTION: report_texts.REPORT_ASK_DESCRIPTION,
    Step.GENDER: report_texts.REPORT_ASK_GENDER,
    Step.AGE: report_texts.REPORT_ASK_AGE,
    Step.CLOTHING: report_texts.REPORT_ASK_CLOTHING,
    Step.DIRECTION: report_texts.REPORT_ASK_DIRECTION,
    Step.VALUE: report_texts.REPORT_ASK_VALUE,
    Step.POLICE_REFERENCE: report_texts.REPORT_ASK_POLICE_REFERENCE,
    Step.PHOTOS: report_texts.REPORT_ASK_PHOTOS,
}
_OPTIONS: dict[Step, tuple[tuple[str, str], ...]] = {
    Step.CATEGORY: tuple(alert_texts.CATEGORY_NAMES.items()),
    Step.URGENCY: report_texts.REPORT_URGENCIES,
    Step.GENDER: (*report_texts.REPORT_GENDERS, (SKIP, report_texts.REPORT_BUTTON_NOT_SURE)),
    Step.AGE: (*report_texts.REPORT_AGES, (SKIP, report_texts.REPORT_BUTTON_NOT_SURE)),
    Step.PHOTOS: ((SKIP, report_texts.REPORT_BUTTON_SKIP),),
    **{step: ((SKIP, report_texts.REPORT_BUTTON_SKIP),) for step in TYPED_STEPS},
}
_PER_ROW = {Step.GENDER: 3, Step.AGE: 3}


# --- the draft and the question on screen ------------------------------------------


def _load(context: ShopWatchContext) -> Draft | None:
    return Draft.from_json((context.user_data or {}).get(USER_DATA_KEY))


def _save(context: ShopWatchContext, draft: Draft) -> None:
    draft.touch()
    if context.user_data is not None:
        context.user_data[USER_DATA_KEY] = draft.to_json()


def _forget(context: ShopWatchContext) -> None:
    if context.user_data is not None:
        context.user_data.pop(USER_DATA_KEY, None)


def _keyboard(
    context: ShopWatchContext, draft: Draft, options: Sequence[tuple[str, str]], per_row: int = 1
) -> InlineKeyboardMarkup:
    signer = context.services.signer
    buttons = [
        InlineKeyboardButton(label, callback_data=signer.sign(PREFIX, draft.token, value))
        for value, label in options
    ]
    rows = [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
    cancel = signer.sign(PREFIX, draft.token, CANCEL)
    rows.append([InlineKeyboardButton(report_texts.REPORT_BUTTON_CANCEL, callback_data=cancel)])
    return InlineKeyboardMarkup(rows)


async def _put_away(
    context: ShopWatchContext, chat_id: int, draft: Draft, text: str | None
) -> None:
    """Take the buttons off the question on screen, showing the answer if it was a tap."""
    if draft.asked is None:
        return
    message_id, draft.asked = draft.asked, None
    try:
        if text is None:
            await context.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
        else:
            await context.bot.edit_message_text(text, chat_id, message_id)
    except BadRequest as exc:  # gone, or already without buttons: nothing to tidy
        logger.debug("could not tidy question %s: %s", message_id, exc)


async def _show(
    context: ShopWatchContext,
    message: Message,
    draft: Draft,
    text: str,
    markup: InlineKeyboardMarkup,
) -> None:
    await _put_away(context, message.chat_id, draft, None)
    sent = await message.reply_text(text, reply_markup=markup)
    draft.asked = sent.message_id
    _save(context, draft)


async def _ask(
    context: ShopWatchContext, message: Message, draft: Draft, step: Step, problem: str = ""
) -> Step:
    """Put `step`'s question on screen (after `problem`, if the last answer was not taken)."""
    options: tuple[tuple[str, str], ...]
    if step is Step.SUMMARY:
        text = _summary(draft)
        options = ((SEND, report_texts.REPORT_BUTTON_SEND),)
    else:
        text = _QUESTIONS[step]
        options = _OPTIONS.get(step, ())
        if step is Step.PHOTOS and draft.photos:
            options = ((DONE, report_texts.REPORT_BUTTON_DONE),)
    markup = _keyboard(context, draft, options, _PER_ROW.get(step, 1))
    await _show(context, message, draft, f"{problem}\n\n{text}" if problem else text, markup)
    return step


def _summary(draft: Draft) -> str:
    return report_texts.report_summary(
        what=alert_texts.category_name(draft.category_value),
        urgency=draft.urgency_value,
        description=draft.description,
        subject=report_texts.subject_description(draft.gender, draft.age, draft.clothing),
        direction=draft.direction,
        value_pence=draft.value_pence,
        police_reference=draft.police_reference,
        photos=len(draft.photos),
    )


def _answered(step: Step, value: str) -> str | None:
    """The question with its tapped answer, as it stays in the chat; None to just drop buttons."""
    label = dict(_OPTIONS.get(step, ())).get(value)
    if step is Step.PHOTOS or label is None:
        return None
    return report_texts.report_answered(_QUESTIONS[step], label)


# --- ending ---------------------------------------------------------------------------


async def _end(update: Update, context: ShopWatchContext, draft: Draft | None, text: str) -> int:
    chat = update.effective_chat
    if chat is not None:
        if draft is not None:
            await _put_away(context, chat.id, draft, None)
        await context.bot.send_message(chat.id, text)
    _forget(context)
    return _END


async def _current(update: Update, context: ShopWatchContext) -> Draft | int:
    """The draft to continue, or END (with a word to the member) if there is none to continue."""
    draft = _load(context)
    if draft is None:
        return await _end(update, context, None, report_texts.REPORT_LOST)
    if draft.is_stale(TIMEOUT.total_seconds()):
        return await _end(update, context, draft, report_texts.REPORT_TIMED_OUT)
    return draft


async def timed_out(update: Update, context: ShopWatchContext) -> None:
    """The conversation's timeout: the member is told, the draft goes."""
    await _end(update, context, _load(context), report_texts.REPORT_TIMED_OUT)
    if update.effective_user is not None:
        # A timeout runs as a job, after which the application saves no one's data.
        context.application.mark_data_for_update_persistence(user_ids=update.effective_user.id)


async def cancel(update: Update, context: ShopWatchContext) -> int:
    if update.callback_query is not None:
        await update.callback_query.answer()
    return await _end(update, context, _load(context), report_texts.REPORT_CANCELLED)


# --- the steps ------------------------------------------------------------------------


@requires(*REPORTERS, action="report")
async def start(update: Update, context: ShopWatchContext, _membership: Membership) -> State:
    """`/report`, also in the middle of one: the earlier draft is dropped and its buttons go."""
    message = update.effective_message
    if message is None:
        return _END
    old = _load(context)
    if old is not None:
        await _put_away(context, message.chat_id, old, None)
    return await _ask(context, message, Draft(), Step.CATEGORY)


def _pressed(step: Step) -> Callback:
    async def pressed(update: Update, context: ShopWatchContext) -> State | None:
        query = update.callback_query
        if query is None or not isinstance(query.message, Message):
            return None
        draft = await _current(update, context)
        if isinstance(draft, int):
            await query.answer()
            return draft
        parts = context.services.signer.verify(query.data)
        if parts is None or len(parts) != 3 or parts[1] != draft.token:
            await query.answer(report_texts.REPORT_OLD_BUTTON)
            return None
        value = parts[2]
        if value == CANCEL:
            return await cancel(update, context)
        if step is Step.SUMMARY and value == SEND:
            return await _send(update, context)
        try:
            draft.choose(step, value)
        except AnswerError as problem:
            await query.answer(report_texts.report_answer_problem(problem.reason), show_alert=True)
            return None
        await query.answer()
        await _put_away(context, query.message.chat_id, draft, _answered(step, value))
        return await _ask(context, query.message, draft, draft.next_step(step))

    return pressed


def _typed(step: Step) -> Callback:
    async def typed(update: Update, context: ShopWatchContext) -> State | None:
        message = update.effective_message
        if message is None or message.text is None:
            return None
        draft = await _current(update, context)
        if isinstance(draft, int):
            return draft
        try:
            draft.type_in(step, message.text)
        except AnswerError as problem:
            reason = report_texts.report_answer_problem(problem.reason, LIMITS.get(step))
            return await _ask(context, message, draft, step, reason)
        return await _ask(context, message, draft, draft.next_step(step))

    return typed


def _photo_added(step: Step) -> Callback:
    """A photo goes with the report whenever it comes; the question on screen stays."""

    async def photo_added(update: Update, context: ShopWatchContext) -> State | None:
        message = update.effective_message
        if message is None or not message.photo:
            return None
        draft = await _current(update, context)
        if isinstance(draft, int):
            return draft
        try:
            size = evidence_size(message.photo, context.services.photos.limits)
            draft.add_photo(size.file_id)
        except AnswerError:
            text = report_texts.report_too_many_photos(MAX_PHOTOS)
        else:
            text = report_texts.report_photo_added(len(draft.photos), MAX_PHOTOS)
            if step is not Step.PHOTOS:
                text = report_texts.report_photo_kept(len(draft.photos))
        if step is not Step.PHOTOS:
            return await _ask(context, message, draft, step, text)
        markup = _keyboard(context, draft, ((DONE, report_texts.REPORT_BUTTON_DONE),))
        await _show(context, message, draft, text, markup)
        return Step.PHOTOS

    return photo_added


def _not_expected(step: Step) -> Callback:
    """Anything else sent at `step` (text where a tap is wanted, a sticker): the question again."""

    async def not_expected(update: Update, context: ShopWatchContext) -> State | None:
        message = update.effective_message
        if message is None:
            return None
        draft = await _current(update, context)
        if isinstance(draft, int):
            return draft
        if step is Step.PHOTOS:
            problem = report_texts.REPORT_SEND_PHOTO
        elif step in TYPED_STEPS:
            problem = report_texts.report_answer_problem("empty")
        else:
            problem = report_texts.REPORT_USE_BUTTONS
        return await _ask(context, message, draft, step, problem)

    return not_expected


@requires(*REPORTERS, action="report")
async def _submit(update: Update, context: ShopWatchContext, membership: Membership) -> State:
    """Send: the photos are fetched, the report stored and queued, and only then confirmed."""
    query = update.callback_query
    draft = _load(context)
    if query is None or not isinstance(query.message, Message) or draft is None:
        return _END
    await query.answer()
    summary = query.message
    try:
        photos = [await _download(context, file_id) for file_id in draft.photos]
        submitted = await context.services.alerts.submit(
            _report_draft(draft, membership, photos),
            source=MessageRef(summary.chat_id, summary.message_id),
        )
    except (StorageError, TelegramError) as exc:
        logger.warning("report not stored: %s", exc)
        await summary.reply_text(report_texts.REPORT_NOT_STORED)
        return Step.SUMMARY
    except InvalidPhotoError as exc:
        await summary.reply_text(alert_texts.photo_refused(str(exc)))
        return Step.SUMMARY
    except TooManyAlertsError:
        await summary.reply_text(alert_texts.TOO_MANY_ALERTS)
        return Step.SUMMARY
    _forget(context)  # stored: from here on, a second Send could only repeat it
    report = submitted.report
    assert report.id is not None
    try:
        await _put_away(context, summary.chat_id, draft, None)
        if not submitted.counted:
            await summary.reply_text(alert_texts.alert_saved_sending_shortly(report.id))
        elif submitted.recipients:
            card = render.confirmation(
                report,
                shops=submitted.shops,
                neighbours=submitted.neighbours,
                signer=context.services.signer,
            )
            await summary.reply_text(card.text, reply_markup=keyboard(card.buttons))
        else:
            await summary.reply_text(report_texts.report_logged(report.id))
    except TelegramError as exc:
        logger.warning("report %s stored but its confirmation failed: %s", report.id, exc)
    return _END


def _report_draft(draft: Draft, membership: Membership, photos: Sequence[bytes]) -> ReportDraft:
    assert membership.scheme.id is not None
    category = draft.category_value
    return ReportDraft(
        scheme_id=membership.scheme.id,
        member_id=membership.member.id,
        category=category,
        urgency=draft.urgency_value,
        # The log needs words; with everything else structured, the category will do.
        description=draft.description or alert_texts.category_name(category),
        subject_description=report_texts.subject_description(
            draft.gender, draft.age, draft.clothing
        ),
        direction=draft.direction,
        value_pence=draft.value_pence,
        police_reference=draft.police_reference,
        photos=tuple(photos),
    )


async def _download(context: ShopWatchContext, file_id: str) -> bytes:
    file = await context.bot.get_file(file_id)
    return bytes(await file.download_as_bytearray())


async def _send(update: Update, context: ShopWatchContext) -> State | None:
    result = await _submit(update, context)
    return result if isinstance(result, Step | int) else None


async def old_button(update: Update, context: ShopWatchContext) -> None:
    """A report button pressed when no report is open: say so, and take the buttons away."""
    query = update.callback_query
    if query is None:
        return
    if isinstance(query.message, Message):
        try:
            await query.message.edit_reply_markup(reply_markup=None)
        except BadRequest as exc:
            logger.debug("could not tidy an old report question: %s", exc)
    await query.answer(report_texts.REPORT_OLD_BUTTON)


# --- the handlers ---------------------------------------------------------------------


def report_handlers() -> list[BaseHandler[Update, ShopWatchContext, object]]:
    # Edits of earlier messages are not answers to the question now on screen.
    private = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
    buttons = f"^{PREFIX}:"
    text = private & filters.TEXT & ~filters.COMMAND
    other = private & ~filters.COMMAND

    states: dict[object, list[BaseHandler[Update, ShopWatchContext, object]]] = {}
    for step in Step:
        handlers: list[BaseHandler[Update, ShopWatchContext, object]] = [
            CallbackQueryHandler(_pressed(step), pattern=buttons)
        ]
        if step in TYPED_STEPS:
            handlers.append(MessageHandler(text, _typed(step)))
        handlers.append(MessageHandler(private & filters.PHOTO, _photo_added(step)))
        handlers.append(MessageHandler(other, _not_expected(step)))
        states[step] = handlers
    states[ConversationHandler.TIMEOUT] = [TypeHandler(Update, timed_out)]

    with warnings.catch_warnings():
        # Buttons belong to the member's conversation, not to one message: per_message
        # stays False on purpose, which PTB flags for every CallbackQueryHandler.
        warnings.filterwarnings(
            "ignore", message=r"If 'per_message=False'", category=PTBUserWarning
        )
        conversation: ConversationHandler[ShopWatchContext] = ConversationHandler(
            entry_points=[CommandHandler("report", start, filters=private)],
            states=states,
            fallbacks=[CommandHandler("cancel", cancel, filters=private)],
            allow_reentry=True,
            per_chat=True,
            per_user=True,
            per_message=False,
            conversation_timeout=TIMEOUT,
            name=NAME,
            persistent=True,
        )
    return [conversation, CallbackQueryHandler(old_button, pattern=buttons)]
