"""`/grade <number>`: a coordinator sets a report's 3x5x2 grading with buttons.

The card shows the grading the report has now (a default until someone sets
it) and one row of buttons per part; a press stores that part, audited, and
the card shows the new grading. Handling code C needs its conditions, which
are typed: `/grade 123 conditions share only with Norfolk Constabulary`.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from broadcast import commands
from broadcast.texts import formats
from broadcast.texts import grading as grading_texts
from config.errors import InvalidInputError, NotFoundError, Refusal
from config.vocabulary import AuditOutcome
from handlers.context import Membership, ShopWatchContext
from handlers.keyboards import keyboard
from handlers.roles import refuse, requires
from storage.grading import Grading, GradingPart, grading_of, regrade
from storage.ids import stored_id
from storage.models import Report
from storage.search import VIEW_ACTION

logger = logging.getLogger(__name__)

GRADERS = commands.roles_of("grade")
CALLBACK_PREFIX = "grade"


def _card(
    context: ShopWatchContext, report: Report, grading: Grading, timezone: str
) -> tuple[str, list[list[list[str]]]]:
    report_id = stored_id(report)
    text = grading_texts.grade_card(
        report_id,
        category=report.category.value,
        logged=formats.moment(report.created_at, timezone),
        description=report.description,
        code=grading.code,
        basis=grading.basis.value,
        conditions=grading.handling_conditions,
    )
    sign = context.services.signer.sign

    def row(part: GradingPart, labels: dict[str, str], current: str) -> list[list[str]]:
        return [
            [
                (grading_texts.GRADE_CHOSEN if value == current else "") + label,
                sign(CALLBACK_PREFIX, report_id, part.value, value),
            ]
            for value, label in labels.items()
        ]

    buttons = [
        row(GradingPart.SOURCE, grading_texts.GRADE_SOURCE_LABELS, grading.source_evaluation),
        row(
            GradingPart.ASSESSMENT,
            grading_texts.GRADE_ASSESSMENT_LABELS,
            grading.intelligence_assessment,
        ),
        row(GradingPart.HANDLING, grading_texts.GRADE_HANDLING_LABELS, grading.handling_code),
    ]
    return text, buttons


def _grader_for(context: ShopWatchContext, scheme_id: int) -> Membership | None:
    viewer = context.viewer
    if viewer is None:
        return None
    for membership in viewer.active:
        if membership.scheme.id == scheme_id and membership.member.role in GRADERS:
            return membership
    return None


async def _report_for(
    context: ShopWatchContext, report_id: int
) -> tuple[Report, Grading, Membership] | None:
    """The report with its grading, if it belongs to a scheme the person grades for."""
    try:
        report, grading = await grading_of(context.store, report_id)
    except NotFoundError:
        return None
    membership = _grader_for(context, report.scheme_id)
    if membership is None:
        return None
    return report, grading, membership


@requires(*GRADERS, action="grade")
async def grade_command(update: Update, context: ShopWatchContext, membership: Membership) -> None:
    message = update.effective_message
    if message is None:
        return
    args = context.args or []
    # ASCII digits, at most 12: "²" is a digit to Python but no number, 10**20 fits no column.
    if not args or not (args[0].isascii() and args[0].isdigit() and len(args[0]) <= 12):
        await message.reply_text(grading_texts.GRADE_USAGE)
        return
    found = await _report_for(context, int(args[0]))
    if found is None:
        await context.store.audit.record(
            membership.member.telegram_user_id,
            VIEW_ACTION,
            AuditOutcome.REFUSED,
            scheme_id=stored_id(membership.scheme),
            actor_member_id=stored_id(membership.member),
            detail={"report": int(args[0]), "via": "grade", "reason": "not_found"},
        )
        await message.reply_text(grading_texts.grade_not_found(args[0]))
        return
    report, grading, grader = found
    report_id = stored_id(report)
    # The card shows the report's description: reading it this way is audited like /show.
    await context.store.audit.record(
        grader.member.telegram_user_id,
        VIEW_ACTION,
        AuditOutcome.ALLOWED,
        scheme_id=report.scheme_id,
        actor_member_id=stored_id(grader.member),
        detail={"report": report_id, "via": "grade"},
    )
    if len(args) >= 2 and args[1].lower() == "conditions":
        words = (message.text or "").split(maxsplit=3)
        conditions = words[3] if len(words) == 4 else ""
        if not conditions.strip():
            await message.reply_text(grading_texts.grade_conditions_needed(report_id))
            return
        await regrade(
            context.store,
            report_id,
            GradingPart.HANDLING,
            "C",
            scheme_id=report.scheme_id,
            actor_telegram_id=grader.member.telegram_user_id,
            actor_member_id=stored_id(grader.member),
            conditions=conditions,
        )
        report, grading = await grading_of(context.store, report_id)
    text, buttons = _card(context, report, grading, grader.scheme.timezone)
    await message.reply_text(text, reply_markup=keyboard(buttons))


@requires(*GRADERS, action="grade")
async def grade_pressed(update: Update, context: ShopWatchContext, membership: Membership) -> None:
    query = update.callback_query
    if query is None:
        return
    parts = context.services.signer.verify(query.data)
    if parts is None or len(parts) != 4 or parts[0] != CALLBACK_PREFIX or not parts[1].isdigit():
        await refuse(update, context, "grade", Refusal.FORGED_BUTTON)
        return
    report_id, part_name, value = int(parts[1]), parts[2], parts[3]
    found = await _report_for(context, report_id)
    if found is None:
        await query.answer(grading_texts.grade_not_found(str(report_id)), show_alert=True)
        return
    _, _, grader = found
    try:
        part = GradingPart(part_name)
        await regrade(
            context.store,
            report_id,
            part,
            value,
            scheme_id=stored_id(grader.scheme),
            actor_telegram_id=grader.member.telegram_user_id,
            actor_member_id=stored_id(grader.member),
        )
    except InvalidInputError as exc:
        if exc.reason == "conditions_required":
            await query.answer(grading_texts.grade_conditions_needed(report_id), show_alert=True)
            return
        raise
    except (ValueError, NotFoundError):
        await query.answer(grading_texts.grade_not_found(str(report_id)), show_alert=True)
        return
    report, grading = await grading_of(context.store, report_id)
    text, buttons = _card(context, report, grading, grader.scheme.timezone)
    if query.message is not None:
        try:
            await query.edit_message_text(text, reply_markup=keyboard(buttons))
        except BadRequest as exc:  # the same button pressed twice: nothing to change
            if "not modified" not in exc.message.lower():
                raise
    await query.answer(grading_texts.grade_saved(grading.code))


def grade_handlers() -> list[BaseHandler[Update, ShopWatchContext, object]]:
    return [
        CommandHandler("grade", grade_command, filters=filters.ChatType.PRIVATE),
        CallbackQueryHandler(grade_pressed, pattern=rf"^{CALLBACK_PREFIX}:"),
    ]
