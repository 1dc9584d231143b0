"""The guided `/report`: one question at a time, a tap where a tap will do, in a private chat.

For the member who has a minute after the event (or during it) and wants the
report complete: what happened, now or log only, when, what happened in words,
the people (how many, sex, age, height, build, hair, clothing, marks, a name),
which way they went, a vehicle, the loss, CCTV, a statement, a police reference,
photos. Every optional question has Skip (or Not sure) and every question has
Cancel.

A live report ("Happening now") does not wait for all that: its alert goes out
as soon as there is a description or a photo, and each later answer is added to
every copy at once (`AlertService.amend`); Cancel becomes Finish, since the
alert is out. A photo sent once it is out goes under every copy as a message of
its own (`AlertService.add_photo`), the last question asking for more. A
log-only report ends with a summary to send or cancel.

The conversation is named and persistent: its state and the draft (in
`user_data`, see `handlers.report_draft`) are kept in the database by
`bot.persistence`, so a restart in the middle loses nothing. Timeouts are jobs
in memory and are not restored, so the draft also carries the time of its last
answer and a conversation that outlived its timeout across a restart ends at
the next message, as it would have without the restart.

Buttons carry signed callback data tied to the draft and to their question
(`r:<token>:<question>:<value>:<mac>`): a button left on screen from an earlier
report cannot answer this one, and a second tap on Skip cannot answer the
question after it.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime, timedelta
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

from broadcast import commands, render
from broadcast.alerts import ReportDraft, Submitted
from broadcast.descriptors import subject_summary
from broadcast.fanout import MessageRef
from broadcast.texts import alerts as alert_texts
from broadcast.texts import formats
from broadcast.texts import report as report_texts
from config.errors import (
    DuplicateError,
    InvalidPhotoError,
    ReportClosedError,
    StorageError,
    TooManyAlertsError,
)
from handlers.context import Membership, ShopWatchContext
from handlers.keyboards import keyboard
from handlers.photo_size import evidence_size
from handlers.report_draft import (
    CANCEL,
    DONE,
    LIMITS,
    MAX_PHOTOS,
    NOT_SURE_STEPS,
    SEND,
    SKIP,
    TYPED_STEPS,
    UNSKIPPABLE,
    USER_DATA_KEY,
    AnswerError,
    Draft,
    Step,
)
from handlers.roles import requires
from storage.ids import stored_id

logger = logging.getLogger(__name__)

NAME = "report"
TIMEOUT = timedelta(minutes=20)
PREFIX = "r"
REPORTERS = commands.roles_of("report")

State = Step | int
Callback = Callable[[Update, ShopWatchContext], Coroutine[Any, Any, object]]

_END = ConversationHandler.END
_QUESTIONS: dict[Step, str] = {
    Step.CATEGORY: report_texts.REPORT_ASK_CATEGORY,
    Step.URGENCY: report_texts.REPORT_ASK_URGENCY,
    Step.WHEN: report_texts.REPORT_ASK_WHEN,
    Step.WHEN_TIME: report_texts.REPORT_ASK_WHEN_TIME,
    Step.DESCRIPTION: report_texts.REPORT_ASK_DESCRIPTION,
    Step.PEOPLE: report_texts.REPORT_ASK_PEOPLE,
    Step.GENDER: report_texts.REPORT_ASK_GENDER,
    Step.AGE: report_texts.REPORT_ASK_AGE,
    Step.HEIGHT: report_texts.REPORT_ASK_HEIGHT,
    Step.BUILD: report_texts.REPORT_ASK_BUILD,
    Step.HAIR: report_texts.REPORT_ASK_HAIR,
    Step.APPEARANCE: report_texts.REPORT_ASK_APPEARANCE,
    Step.CLOTHING: report_texts.REPORT_ASK_CLOTHING,
    Step.MARKS: report_texts.REPORT_ASK_MARKS,
    Step.NAME: report_texts.REPORT_ASK_NAME,
    Step.DIRECTION: report_texts.REPORT_ASK_DIRECTION,
    Step.VEHICLE: report_texts.REPORT_ASK_VEHICLE,
    Step.PROPERTY: report_texts.REPORT_ASK_PROPERTY,
    Step.VALUE: report_texts.REPORT_ASK_VALUE,
    Step.CCTV: report_texts.REPORT_ASK_CCTV,
    Step.STATEMENT: report_texts.REPORT_ASK_STATEMENT,
    Step.POLICE_REFERENCE: report_texts.REPORT_ASK_POLICE_REFERENCE,
    Step.PHOTOS: report_texts.REPORT_ASK_PHOTOS,
}
LABELS: dict[Step, tuple[tuple[str, str], ...]] = {
    Step.CATEGORY: tuple(alert_texts.CATEGORY_NAMES.items()),
    Step.URGENCY: report_texts.REPORT_URGENCIES,
    Step.WHEN: report_texts.REPORT_WHENS,
    Step.WHEN_TIME: report_texts.REPORT_PARTS_OF_DAY,
    Step.PEOPLE: report_texts.REPORT_PEOPLE,
    Step.GENDER: report_texts.REPORT_GENDERS,
    Step.AGE: report_texts.REPORT_AGES,
    Step.HEIGHT: report_texts.REPORT_HEIGHTS,
    Step.BUILD: report_texts.REPORT_BUILDS,
    Step.HAIR: report_texts.REPORT_HAIR,
    Step.APPEARANCE: report_texts.REPORT_APPEARANCES,
    Step.CCTV: report_texts.REPORT_YES_NO,
    Step.STATEMENT: report_texts.REPORT_YES_NO,
}
"""The labels of each question's buttons, value by value (the values: `BUTTONS`)."""
_PER_ROW = {
    Step.WHEN: 3,
    Step.WHEN_TIME: 3,
    Step.PEOPLE: 5,
    Step.GENDER: 3,
    Step.AGE: 3,
    Step.BUILD: 2,
    Step.HAIR: 2,
    Step.CCTV: 3,
    Step.STATEMENT: 3,
}


def _options(step: Step, draft: Draft) -> tuple[tuple[str, str], ...]:
    if step is Step.SUMMARY:
        return ((SEND, report_texts.REPORT_BUTTON_SEND),)
    if step is Step.PHOTOS and draft.photos:
        return ((DONE, report_texts.REPORT_BUTTON_DONE),)
    options = LABELS.get(step, ())
    if step in UNSKIPPABLE:
        return options
    skip = report_texts.REPORT_BUTTON_NOT_SURE if step in NOT_SURE_STEPS else None
    return (*options, (SKIP, skip or report_texts.REPORT_BUTTON_SKIP))


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


def _keyboard(context: ShopWatchContext, draft: Draft, step: Step) -> InlineKeyboardMarkup:
    signer = context.services.signer
    per_row = _PER_ROW.get(step, 1)
    buttons = [
        InlineKeyboardButton(label, callback_data=signer.sign(PREFIX, draft.token, step, value))
        for value, label in _options(step, draft)
    ]
    rows = [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]
    cancel = signer.sign(PREFIX, draft.token, step, CANCEL)
    label = report_texts.REPORT_BUTTON_FINISH if draft.sent else report_texts.REPORT_BUTTON_CANCEL
    rows.append([InlineKeyboardButton(label, callback_data=cancel)])
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


async def _ask(
    context: ShopWatchContext, message: Message, draft: Draft, step: Step, problem: str = ""
) -> Step:
    """Put `step`'s question on screen (after `problem`, if the last answer was not taken)."""
    if step is Step.SUMMARY:
        text = _summary(draft)
    elif step is Step.PHOTOS and draft.sent:
        text = report_texts.REPORT_ASK_MORE_PHOTOS
    else:
        text = _QUESTIONS[step]
    await _put_away(context, message.chat_id, draft, None)
    sent = await message.reply_text(
        f"{problem}\n\n{text}" if problem else text, reply_markup=_keyboard(context, draft, step)
    )
    draft.asked = sent.message_id
    _save(context, draft)
    return step


def _when(draft: Draft) -> str | None:
    moment = draft.occurred
    if moment is None:
        return report_texts.report_label(report_texts.REPORT_WHENS, draft.when)
    return formats.moment(moment, draft.timezone)


def _summary(draft: Draft) -> str:
    return report_texts.report_summary(
        what=alert_texts.category_name(draft.category_value),
        urgency=draft.urgency_value,
        when=_when(draft),
        description=draft.description,
        subject=subject_summary(draft.descriptors().columns()),
        direction=draft.direction,
        taken=draft.taken if draft.asks_value else None,
        value_pence=draft.value_pence if draft.asks_value else None,
        cctv=draft.cctv,
        statement=draft.statement,
        police_reference=draft.police_reference,
        photos=len(draft.photos),
    )


def _answered(step: Step, value: str, draft: Draft) -> str | None:
    """The question with its tapped answer, as it stays in the chat; None to just drop buttons."""
    label = dict(_options(step, draft)).get(value)
    if step in (Step.PHOTOS, Step.SUMMARY) or label is None:
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


def _farewell(draft: Draft | None) -> str:
    """Cancel before the alert went out stores nothing; after, the alert stays as it is."""
    if draft is not None and draft.report_id is not None:
        return report_texts.report_finished(draft.report_id)
    return report_texts.REPORT_CANCELLED


async def _current(update: Update, context: ShopWatchContext) -> Draft | int:
    """The draft to continue, or END (with a word to the member) if there is none to continue."""
    draft = _load(context)
    if draft is None:
        return await _end(update, context, None, report_texts.REPORT_LOST)
    if draft.is_stale(TIMEOUT.total_seconds()):
        text = _farewell(draft) if draft.sent else report_texts.REPORT_TIMED_OUT
        return await _end(update, context, draft, text)
    return draft


async def timed_out(update: Update, context: ShopWatchContext) -> None:
    """The conversation's timeout: the member is told, the draft goes (a sent alert stays)."""
    draft = _load(context)
    text = _farewell(draft) if draft and draft.sent else report_texts.REPORT_TIMED_OUT
    await _end(update, context, draft, text)
    if update.effective_user is not None:
        # A timeout runs as a job, after which the application saves no one's data.
        context.application.mark_data_for_update_persistence(user_ids=update.effective_user.id)


async def cancel(update: Update, context: ShopWatchContext) -> int:
    if update.callback_query is not None:
        await update.callback_query.answer()
    draft = _load(context)
    return await _end(update, context, draft, _farewell(draft))


# --- the steps ------------------------------------------------------------------------


@requires(*REPORTERS, action="report")
async def start(update: Update, context: ShopWatchContext, membership: Membership) -> State:
    """`/report`, also in the middle of one: the earlier draft is dropped and its buttons go."""
    message = update.effective_message
    if message is None:
        return _END
    old = _load(context)
    if old is not None:
        await _put_away(context, message.chat_id, old, None)
    config = context.services.schemes.scheme(membership.scheme.slug)
    draft = Draft(timezone=config.timezone, appearance_on=config.subjects.ethnicity_descriptor)
    return await _ask(context, message, draft, Step.CATEGORY)


async def _advance(
    update: Update,
    context: ShopWatchContext,
    membership: Membership,
    *,
    message: Message,
    draft: Draft,
    step: Step,
) -> State:
    """After an answer to `step`: the alert out if it is due, the answer onto a sent
    alert's copies, then the next question (or the end of a sent report's questions)."""
    prefix = ""
    if draft.sent:
        changes = draft.changes_for(step)
        if changes:
            try:
                await context.services.alerts.amend(
                    draft.report_id or 0, changes, by=membership.member
                )
            except ReportClosedError:
                closed = report_texts.report_closed_meanwhile(draft.report_id or 0)
                return await _end(update, context, draft, closed)
            except StorageError as exc:
                logger.warning("report %s: answer not added: %s", draft.report_id, exc)
                return await _ask(context, message, draft, step, report_texts.REPORT_NOT_UPDATED)
    elif draft.live and (step is Step.DESCRIPTION or (draft.photos and step is Step.URGENCY)):
        problem = await _alert_now(context, membership, message, draft)
        if problem is not None:
            return await _ask(context, message, draft, step, problem)
        prefix = report_texts.REPORT_KEEP_ASKING
        if step is Step.URGENCY:  # the photo went out; the words can still follow
            return await _ask(context, message, draft, Step.DESCRIPTION, prefix)
    following = draft.next_step(step)
    if following is None:
        return await _end(update, context, draft, _farewell(draft))
    return await _ask(context, message, draft, following, prefix)


def _pressed(step: Step) -> Callback:
    @requires(*REPORTERS, action="report")
    async def pressed(
        update: Update, context: ShopWatchContext, membership: Membership
    ) -> State | None:
        query = update.callback_query
        if query is None or not isinstance(query.message, Message):
            return None
        draft = await _current(update, context)
        if isinstance(draft, int):
            await query.answer()
            return draft
        parts = context.services.signer.verify(query.data)
        if parts is None or len(parts) != 4 or parts[1] != draft.token or parts[2] != step:
            # Another report's button, or this one's earlier question (a second tap).
            await query.answer(report_texts.REPORT_OLD_BUTTON)
            return None
        value = parts[3]
        if value == CANCEL:
            return await cancel(update, context)
        if step is Step.SUMMARY and value == SEND:
            return await _send(update, context, membership, draft)
        try:
            draft.choose(step, value, datetime.now(UTC))
        except AnswerError as problem:
            await query.answer(report_texts.report_answer_problem(problem.reason), show_alert=True)
            return None
        await query.answer()
        await _put_away(context, query.message.chat_id, draft, _answered(step, value, draft))
        return await _advance(
            update, context, membership, message=query.message, draft=draft, step=step
        )

    return pressed


def _typed(step: Step) -> Callback:
    @requires(*REPORTERS, action="report")
    async def typed(
        update: Update, context: ShopWatchContext, membership: Membership
    ) -> State | None:
        message = update.effective_message
        if message is None or message.text is None:
            return None
        draft = await _current(update, context)
        if isinstance(draft, int):
            return draft
        try:
            draft.type_in(step, message.text, datetime.now(UTC))
        except AnswerError as problem:
            reason = report_texts.report_answer_problem(problem.reason, LIMITS.get(step))
            return await _ask(context, message, draft, step, reason)
        return await _advance(update, context, membership, message=message, draft=draft, step=step)

    return typed


def _photo_added(step: Step) -> Callback:
    """A photo goes with the report whenever it comes, the question on screen stays; for a
    live report at its description, the photo is enough for the alert to go out."""

    @requires(*REPORTERS, action="report")
    async def photo_added(
        update: Update, context: ShopWatchContext, membership: Membership
    ) -> State | None:
        message = update.effective_message
        if message is None or not message.photo:
            return None
        draft = await _current(update, context)
        if isinstance(draft, int):
            return draft
        if draft.sent:
            return await _photo_onto_alert(
                update, context, membership, message=message, draft=draft, step=step
            )
        try:
            size = evidence_size(message.photo, context.services.photos.limits)
            draft.add_photo(size.file_id)
        except AnswerError:
            text = report_texts.report_too_many_photos(MAX_PHOTOS)
        else:
            if draft.live and step is Step.DESCRIPTION:
                problem = await _alert_now(context, membership, message, draft)
                if problem is not None:
                    return await _ask(context, message, draft, step, problem)
                return await _ask(context, message, draft, step, report_texts.REPORT_KEEP_ASKING)
            text = report_texts.report_photo_added(len(draft.photos), MAX_PHOTOS)
            if step is not Step.PHOTOS:
                text = report_texts.report_photo_kept(len(draft.photos))
        return await _ask(context, message, draft, step, text)

    return photo_added


async def _photo_onto_alert(
    update: Update,
    context: ShopWatchContext,
    membership: Membership,
    *,
    message: Message,
    draft: Draft,
    step: Step,
) -> State:
    """A photo once the alert is out goes under every copy of it (`AlertService.add_photo`):
    Telegram cannot turn a text card into a photo, nor add a photo to a photo card."""
    report_id = draft.report_id or 0
    try:
        size = evidence_size(message.photo, context.services.photos.limits)
        draft.add_photo(size.file_id)
    except AnswerError:
        return await _ask(
            context, message, draft, step, report_texts.report_too_many_photos(MAX_PHOTOS)
        )
    try:
        data = await _download(context, size.file_id)
        await context.services.alerts.add_photo(report_id, data, by=membership.member)
    except ReportClosedError:
        closed = report_texts.report_closed_meanwhile(report_id)
        return await _end(update, context, draft, closed)
    except DuplicateError:
        draft.photos.pop()
        text = report_texts.report_photo_already_on(report_id)
    except InvalidPhotoError as exc:
        draft.photos.pop()
        text = alert_texts.photo_refused(str(exc))
    except (StorageError, TelegramError) as exc:
        logger.warning("report %s: photo not added: %s", report_id, exc)
        draft.photos.pop()
        text = report_texts.REPORT_PHOTO_NOT_ADDED
    else:
        text = report_texts.report_photo_under_copies(report_id)
    return await _ask(context, message, draft, step, text)


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


# --- sending --------------------------------------------------------------------------


async def _store(
    context: ShopWatchContext, membership: Membership, message: Message, draft: Draft
) -> Submitted | str:
    """The report stored and its copies queued; or the sentence saying why not."""
    try:
        photos = [await _download(context, file_id) for file_id in draft.photos]
        return await context.services.alerts.submit(
            _report_draft(draft, membership, photos),
            source=MessageRef(message.chat_id, message.message_id),
        )
    except (StorageError, TelegramError) as exc:
        logger.warning("report not stored: %s", exc)
        return report_texts.REPORT_NOT_SENT_YET if draft.live else report_texts.REPORT_NOT_STORED
    except InvalidPhotoError as exc:
        return alert_texts.photo_refused(str(exc))
    except TooManyAlertsError:
        return alert_texts.TOO_MANY_ALERTS


async def _confirm(context: ShopWatchContext, message: Message, submitted: Submitted) -> None:
    """What the member reads back once the report is stored: where it went."""
    report = submitted.report
    report_id = stored_id(report)
    try:
        if not submitted.counted:
            await message.reply_text(alert_texts.alert_saved_sending_shortly(report_id))
        elif submitted.recipients:
            card = render.confirmation(
                report,
                shops=submitted.shops,
                neighbours=submitted.neighbours,
                signer=context.services.signer,
            )
            await message.reply_text(card.text, reply_markup=keyboard(card.buttons))
        else:
            await message.reply_text(report_texts.report_logged(report_id))
    except TelegramError as exc:
        logger.warning("report %s stored but its confirmation failed: %s", report_id, exc)


async def _alert_now(
    context: ShopWatchContext, membership: Membership, message: Message, draft: Draft
) -> str | None:
    """A live report's alert, out as soon as it has words or a photo; None once it is."""
    submitted = await _store(context, membership, message, draft)
    if isinstance(submitted, str):
        return submitted
    draft.report_id = stored_id(submitted.report)
    _save(context, draft)  # stored: from here on, each answer changes the report
    await _put_away(context, message.chat_id, draft, None)
    await _confirm(context, message, submitted)
    return None


async def _send(
    update: Update, context: ShopWatchContext, membership: Membership, draft: Draft
) -> State | None:
    """Send on the summary: the photos are fetched, the report stored and queued, and only
    then confirmed."""
    query = update.callback_query
    if query is None or not isinstance(query.message, Message):
        return None
    await query.answer()
    summary = query.message
    submitted = await _store(context, membership, summary, draft)
    if isinstance(submitted, str):
        await summary.reply_text(submitted)
        return Step.SUMMARY
    _forget(context)  # stored: from here on, a second Send could only repeat it
    try:
        await _put_away(context, summary.chat_id, draft, None)
    except TelegramError as exc:
        logger.debug("could not tidy the summary: %s", exc)
    await _confirm(context, summary, submitted)
    return _END


def _report_draft(draft: Draft, membership: Membership, photos: Sequence[bytes]) -> ReportDraft:
    category = draft.category_value
    fields = draft.report_fields()
    return ReportDraft(
        scheme_id=stored_id(membership.scheme),
        member_id=stored_id(membership.member),
        category=category,
        urgency=draft.urgency_value,
        # The log needs words; with everything else structured, the category will do.
        description=draft.description or alert_texts.category_name(category),
        direction=draft.direction,
        value_pence=fields["value_pence"],
        police_reference=draft.police_reference,
        photos=tuple(photos),
        occurred_at=None if draft.live else draft.occurred,
        descriptors=draft.descriptors(),
    )


async def _download(context: ShopWatchContext, file_id: str) -> bytes:
    file = await context.bot.get_file(file_id)
    return bytes(await file.download_as_bytearray())


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
