"""Quick alerts: one photo with a caption, or `/alert text`, and every chat hears of it.

A member in a hurry sends one message, in a private chat with the bot or in the
scheme's group. The bot sends its own copy to every chat the routing names
(the group included: the member's own message stays where it is, the bot's copy
carries the scheme's protection and is deleted after the chat TTL), and answers
the member only once the report is in the log. Afterwards the member corrects
or adds with a tap or a reply, and the control room answers with its buttons.

Each handler authorises, parses and makes one call into `AlertService`; what
the chats then say is the service's business.
"""

from __future__ import annotations

import logging
from collections.abc import Collection

from telegram import ForceReply, Message, Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, MessageHandler, filters

from broadcast import render
from broadcast.alerts import (
    MAX_NOTE,
    MAX_TEXT,
    Submitted,
    UnchangedError,
    note_problem,
    text_problem,
)
from broadcast.fanout import MessageRef
from broadcast.police_refs import police_reference_in
from broadcast.texts import alerts as alert_texts
from broadcast.texts import control_room as control_room_texts
from config.errors import (
    DuplicateError,
    NotFoundError,
    Refusal,
    ReportClosedError,
)
from config.vocabulary import Category, OperatorStatus, ReportStatus, Role, Urgency
from handlers.context import Membership, ShopWatchContext, Viewer
from handlers.keyboards import keyboard
from handlers.roles import EVERYONE_ACTIVE, refuse, requires
from storage.ids import stored_id
from storage.models import Report

logger = logging.getLogger(__name__)

UPDATE_ASKS = "update_asks"
"""user_data: the bot's "what happened next?" questions (message id -> report id), so the
answer to one is the update of its report."""

REPORTERS = EVERYONE_ACTIVE
"""Who may send an alert: every active role but the police, who receive and do not post."""
OPERATORS = (Role.OPERATOR, Role.COORDINATOR, Role.ADMIN)


def _confirmation(context: ShopWatchContext, submitted: Submitted) -> render.Card:
    return render.confirmation(
        submitted.report,
        shops=submitted.shops,
        neighbours=submitted.neighbours,
        signer=context.services.signer,
        replaced=submitted.replaced,
    )


# --- the member adds to their alert: a reply, a location -------------------------------


async def reply_update(update: Update, context: ShopWatchContext) -> None:
    """A text reply to an alert's copy (or the member's own alert, or its confirmation).

    From the member who sent it, an update on every copy; from an operator, the police
    reference when it reads as one; from anyone else, and from an operator otherwise,
    a note on the report (`AlertService.note`). Every one is answered. A reply to
    anything else is conversation between people and is left alone, silently.
    """
    message = update.effective_message
    if message is None or message.text is None or message.reply_to_message is None:
        return
    report = await _asked_about(context, message.reply_to_message)
    if report is None:
        report = await _report_of(context, message.reply_to_message)
    if report is None:
        return
    operator = _acting_for(context.viewer, report, OPERATORS)
    if operator is not None:
        expected = await _police_just_informed(context, report)
        reference = police_reference_in(message.text, expected=expected)
        if reference is not None:
            await _police_reference(context, message, report, reference, operator)
            return
    membership = _acting_for(context.viewer, report, REPORTERS)
    if membership is None or report.member_id != membership.member.id:
        await _note(context, message, report, membership)
        return
    problem = text_problem(message.text)
    if problem is not None:
        if problem == "too_long":
            await message.reply_text(alert_texts.alert_too_long(MAX_TEXT), do_quote=True)
        return
    report_id = stored_id(report)
    if (refused := await _refused(context, membership)) is not None:
        await message.reply_text(refused, do_quote=True)
        return
    try:
        await context.services.alerts.update(report_id, message.text, by=membership.member)
    except ReportClosedError:
        await message.reply_text(alert_texts.ALERT_NO_MORE_CHANGES, do_quote=True)
        return
    await message.reply_text(alert_texts.alert_update_added(report_id), do_quote=True)


async def _note(
    context: ShopWatchContext, message: Message, report: Report, membership: Membership | None
) -> None:
    """Someone else's reply to an alert: a note on the report, or why it is not one.

    The answer to a note comes through the outbox with the note itself, so a message
    delivered twice is noted and answered once; a refusal is said at once and changes
    nothing.
    """
    report_id = stored_id(report)
    assert message.text is not None
    if membership is None:
        police = _acting_for(context.viewer, report, (Role.POLICE,))
        refused = alert_texts.NOTE_POLICE if police else alert_texts.note_not_a_member(report_id)
        await message.reply_text(refused, do_quote=True)
        return
    refusal: str | None = None
    if note_problem(message.text) == "too_long":
        refusal = alert_texts.note_too_long(MAX_NOTE)
    elif report.status == ReportStatus.WITHDRAWN:
        refusal = alert_texts.note_report_withdrawn(report_id)
    elif report.status == ReportStatus.CLOSED:
        refusal = alert_texts.note_report_closed(report_id)
    else:
        refusal = await _refused(context, membership)
    if refusal is not None:
        await message.reply_text(refusal, do_quote=True)
        return
    staff = membership.member.role != Role.MEMBER
    answer = (
        control_room_texts.operator_note_added(report_id)
        if staff
        else alert_texts.note_added(report_id)
    )
    source = MessageRef(message.chat_id, message.message_id)
    try:
        await context.services.alerts.note(
            report_id, message.text, by=membership.member, source=source, answer=answer
        )
    except DuplicateError:
        logger.info("reply %s came again: noted already", source)
    except ReportClosedError:  # closed since it was read
        await message.reply_text(alert_texts.note_report_closed(report_id), do_quote=True)
    except ValueError:  # nothing to show: invisible characters only
        return


async def _asked_about(context: ShopWatchContext, target: Message) -> Report | None:
    """The report whose "what happened next?" question `target` is, if it is one."""
    asks = (context.user_data or {}).get(UPDATE_ASKS) or {}
    if target.from_user is None or target.from_user.id != context.bot.id:
        return None
    report_id = asks.get(f"{target.chat_id}:{target.message_id}")
    if not isinstance(report_id, int):
        return None
    try:
        return await context.store.reports.get(report_id)
    except NotFoundError:
        return None


async def _ask_for_update(context: ShopWatchContext, message: Message, report_id: int) -> None:
    """Add update: a question the member's phone opens the keyboard to answer."""
    asked = await message.reply_text(
        alert_texts.ask_for_update(report_id),
        reply_markup=ForceReply(
            selective=True, input_field_placeholder=alert_texts.UPDATE_PLACEHOLDER
        ),
        do_quote=True,
    )
    if context.user_data is not None:
        asks = dict(context.user_data.get(UPDATE_ASKS) or {})
        asks[f"{asked.chat_id}:{asked.message_id}"] = report_id
        context.user_data[UPDATE_ASKS] = dict(list(asks.items())[-20:])


async def _police_just_informed(context: ShopWatchContext, report: Report) -> bool:
    """The control room's last call on the report was Police informed: a reference is due."""
    report_id = stored_id(report)
    events = await context.services.store.reports.events(report_id)
    calls = [e.status for e in events if e.status in tuple(OperatorStatus)]
    return bool(calls) and calls[-1] == OperatorStatus.POLICE_INFORMED


async def _police_reference(
    context: ShopWatchContext,
    message: Message,
    report: Report,
    reference: str,
    operator: Membership,
) -> None:
    """An operator's "ref 36/12345/26" in reply to a copy: the police reference, logged."""
    report_id = stored_id(report)
    if (refused := await _refused(context, operator)) is not None:
        await message.reply_text(refused, do_quote=True)
        return
    try:
        await context.services.alerts.set_police_reference(
            report_id, reference, by=operator.member
        )
    except ReportClosedError:
        await message.reply_text(alert_texts.ALERT_NO_MORE_CHANGES, do_quote=True)
        return
    await message.reply_text(
        control_room_texts.police_reference_added(report_id, reference), do_quote=True
    )


async def location(update: Update, context: ShopWatchContext) -> None:
    """A location as a reply to an alert, or sent just after one, is where it happens."""
    message = update.effective_message
    if message is None or message.location is None:
        return
    private = message.chat.type == message.chat.PRIVATE
    report: Report | None = None
    if message.reply_to_message is not None:
        report = await _report_of(context, message.reply_to_message)
    else:
        report = await _latest_own_report(context)
    membership = _acting_for(context.viewer, report, REPORTERS) if report else None
    if report is None or membership is None or report.member_id != membership.member.id:
        if private and context.viewer is not None and context.viewer.active:
            await message.reply_text(alert_texts.ALERT_LOCATION_NO_REPORT, do_quote=True)
        return
    report_id = stored_id(report)
    if (refused := await _refused(context, membership)) is not None:
        await message.reply_text(refused, do_quote=True)
        return
    where = message.location
    try:
        await context.services.alerts.locate(
            report_id, where.latitude, where.longitude, by=membership.member
        )
    except ReportClosedError:
        await message.reply_text(alert_texts.ALERT_NO_MORE_CHANGES, do_quote=True)
        return
    await message.reply_text(alert_texts.alert_location_added(report_id), do_quote=True)


async def _latest_own_report(context: ShopWatchContext) -> Report | None:
    viewer = context.viewer
    if viewer is None:
        return None
    found: list[Report] = []
    for membership in viewer.active:
        if viewer.chat_scheme is not None and membership.scheme.id != viewer.chat_scheme.id:
            continue
        report = await context.services.alerts.latest_of(membership.member)
        if report is not None:
            found.append(report)
    return max(found, key=lambda r: r.created_at, default=None)


async def _report_of(context: ShopWatchContext, target: Message) -> Report | None:
    """The report a replied-to message belongs to.

    The bot's confirmation names it in its signed buttons; a copy, or the
    member's own alert, is found in the log by its chat and message id.
    """
    report_id = _signed_report_id(context, target)
    try:
        if report_id is not None:
            return await context.store.reports.get(report_id)
        return await context.services.alerts.find(MessageRef(target.chat_id, target.message_id))
    except NotFoundError:
        return None


def _signed_report_id(context: ShopWatchContext, target: Message) -> int | None:
    markup = target.reply_markup
    if markup is None or target.from_user is None or target.from_user.id != context.bot.id:
        return None
    for row in markup.inline_keyboard:
        for button in row:
            data = button.callback_data if isinstance(button.callback_data, str) else None
            parts = context.services.signer.verify(data)
            if parts and parts[0] in render.MEMBER_PREFIXES and parts[1].isdigit():
                return int(parts[1])
    return None


async def _refused(context: ShopWatchContext, acting: Membership) -> str | None:
    """Counts one change to alerts for the member; the answer to give them when they are
    over their limit (then nothing is stored or sent), else None."""
    return await context.services.alerts.may_act(acting.member)


def _acting_for(
    viewer: Viewer | None, report: Report, roles: Collection[Role]
) -> Membership | None:
    """The viewer's active membership of the report's scheme, if it holds one of `roles`."""
    return viewer.acting_as(roles, for_scheme=report.scheme_id) if viewer else None


# --- buttons: the control room's statuses, the member's corrections ---------------------


def _verified(
    context: ShopWatchContext, data: str | None, prefixes: Collection[str]
) -> list[str] | None:
    parts = context.services.signer.verify(data)
    if not parts or len(parts) < 2 or parts[0] not in prefixes or not parts[1].isdigit():
        return None
    return parts


@requires(*OPERATORS, action="alert_status")
async def operator_pressed(
    update: Update, context: ShopWatchContext, membership: Membership
) -> None:
    """Acknowledge / On camera / Police informed / Lost on the control room's copy."""
    query = update.callback_query
    assert query is not None
    parts = _verified(context, query.data, (render.OPERATOR_PREFIX,))
    if parts is None or len(parts) != 3 or parts[2] not in tuple(OperatorStatus):
        await refuse(update, context, "alert_status", Refusal.FORGED)
        return
    report = await _report(int(parts[1]), update, context)
    if report is None:
        return
    acting = _acting_for(context.viewer, report, OPERATORS)
    if acting is None:
        await refuse(update, context, "alert_status", Refusal.OTHER_SCHEME)
        return
    status = OperatorStatus(parts[2])
    report_id = stored_id(report)
    if (refused := await _refused(context, acting)) is not None:
        await query.answer(refused, show_alert=True)
        return
    try:
        await context.services.alerts.set_status(report_id, status, by=acting.member)
    except ReportClosedError:
        await query.answer(alert_texts.ALERT_NO_MORE_CHANGES, show_alert=True)
        return
    except UnchangedError as unchanged:
        await query.answer(unchanged.answer, show_alert=True)
        return
    await query.answer(control_room_texts.operator_status_recorded(status))


@requires(*REPORTERS, action="alert_change")
async def member_pressed(
    update: Update, context: ShopWatchContext, membership: Membership
) -> None:
    """Category, urgency, stood down, wrong person: the buttons under the confirmation."""
    query = update.callback_query
    assert query is not None
    parts = _verified(context, query.data, render.MEMBER_PREFIXES)
    if parts is None:
        await refuse(update, context, "alert_change", Refusal.FORGED)
        return
    kind, value = parts[0], parts[2] if len(parts) > 2 else None
    report = await _report(int(parts[1]), update, context)
    if report is None:
        return
    acting = _acting_for(context.viewer, report, REPORTERS)
    if acting is None or report.member_id != acting.member.id:
        await refuse(update, context, "alert_change", Refusal.NOT_YOURS)
        return
    if (refused := await _refused(context, acting)) is not None:  # every press counts
        await query.answer(refused, show_alert=True)
        return
    if kind == render.UPDATE_PREFIX:
        await query.answer()
        if isinstance(query.message, Message):
            report_id = stored_id(report)
            await _ask_for_update(context, query.message, report_id)
        return
    level = render.CONFIRMATION_LEVELS.get(kind)
    if level is not None:
        signer = context.services.signer
        buttons = render.confirmation_buttons(report, signer, level)
        if report.status != ReportStatus.OPEN:  # what a closed report still takes, or none
            buttons = render.confirmation(report, shops=0, neighbours=(), signer=signer).buttons
        try:
            await query.edit_message_reply_markup(keyboard(buttons))
        except BadRequest as exc:
            if "not modified" not in exc.message.lower():
                raise
        await query.answer()  # after the edit: the next tap finds the new buttons
        return
    alerts = context.services.alerts
    report_id = stored_id(report)
    by = acting.member
    try:
        if kind == render.CATEGORY_PREFIX and value in tuple(Category):
            submitted = await alerts.reclassify(report_id, by=by, category=Category(value))
            label = alert_texts.category_name(value)
        elif kind == render.URGENCY_PREFIX and value in tuple(Urgency):
            submitted = await alerts.reclassify(report_id, by=by, urgency=Urgency(value))
            label = alert_texts.URGENCY_BUTTONS[value]
        elif kind == render.STAND_DOWN_PREFIX:
            submitted = await alerts.stand_down(report_id, by=by)
            label = alert_texts.BUTTON_STAND_DOWN
        elif kind == render.WRONG_PERSON_PREFIX:
            submitted = await alerts.withdraw(report_id, by=by)
            label = alert_texts.BUTTON_WRONG_PERSON
        else:
            await refuse(update, context, "alert_change", Refusal.FORGED)
            return
    except ReportClosedError:
        await query.answer(alert_texts.ALERT_NO_MORE_CHANGES, show_alert=True)
        return
    except UnchangedError as unchanged:
        await query.answer(unchanged.answer, show_alert=True)
        return
    await query.answer(alert_texts.alert_changed(label))
    card = _confirmation(context, submitted)
    try:
        await query.edit_message_text(card.text, reply_markup=keyboard(card.buttons))
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


async def _report(report_id: int, update: Update, context: ShopWatchContext) -> Report | None:
    """The pressed button's report, or None once the press was answered (it is gone)."""
    try:
        return await context.store.reports.get(report_id)
    except NotFoundError:
        query = update.callback_query
        if query is not None:
            await query.answer(alert_texts.ALERT_GONE, show_alert=True)
        return None


# --- wiring -----------------------------------------------------------------------------


def alert_handlers() -> list[BaseHandler[Update, ShopWatchContext, object]]:
    """Register after the guided `/report`: a photo or location that answers one of its
    questions belongs to that conversation, not to a quick alert."""
    chats = (filters.ChatType.PRIVATE | filters.ChatType.GROUPS) & filters.UpdateType.MESSAGE
    member_buttons = "|".join(render.MEMBER_PREFIXES)
    return [
        MessageHandler(chats & filters.LOCATION, location),
        MessageHandler(chats & filters.REPLY & filters.TEXT & ~filters.COMMAND, reply_update),
        CallbackQueryHandler(operator_pressed, pattern=f"^{render.OPERATOR_PREFIX}:"),
        CallbackQueryHandler(member_pressed, pattern=f"^({member_buttons}):"),
    ]
