"""Subjects in the chats: New subject on a report's card, `/link` and `/merge`, `/gallery`
and a coordinator's Link / Not them under a suggestion, all in a private chat (in a
group `handlers.start` says where they work); and a member's I know who this is under a
face in the group, answered in their private chat.

Thin on purpose: each handler authorises, parses the signed button or the command, and
makes one call into `SubjectService`, which checks the role again, refuses what the
scheme's policy does not allow and audits either way.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable
from datetime import date
from typing import TypeVar

from telegram import ForceReply, Message, Update
from telegram.error import Forbidden
from telegram.ext import (
    BaseHandler,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from broadcast import render
from broadcast.subjects.notices import NoticeTerms
from broadcast.subjects.service import (
    DECIDERS,
    GALLERY,
    INTEL_MAX,
    MAKERS,
    SUGGESTED,
    VIEWERS,
    Actor,
    local_today,
)
from broadcast.subjects.watch import KNOW, LINK, NOT_THEM
from broadcast.texts import refusals
from broadcast.texts import subjects as subject_texts
from config.errors import (
    AccessDeniedError,
    InvalidInputError,
    NotFoundError,
    Refusal,
    ReportClosedError,
)
from config.vocabulary import AppealOutcome, NoticeStage, SubjectStatus, SuggestionState
from handlers.context import Membership, ShopWatchContext, Viewer
from handlers.roles import refuse, requires
from storage.ids import stored_id
from storage.places import scheme_prefix
from storage.query import calendar_day
from storage.subject_models import Notice

logger = logging.getLogger(__name__)

T = TypeVar("T")


async def _or_refused(message: Message, what: str, call: Awaitable[T]) -> T | None:
    """What the service's call returns; or, when it finds no `what` or refuses the
    input, that said in the chat and None, for the handler to stop there."""
    try:
        return await call
    except NotFoundError:
        await message.reply_text(subject_texts.not_found(what))
    except InvalidInputError as exc:
        await message.reply_text(subject_texts.refused(exc.reason, exc.value))
    return None


@requires(*MAKERS, action="subject.create")
async def new_subject_pressed(
    update: Update, context: ShopWatchContext, membership: Membership
) -> None:
    """New subject, on the control room's card or under `/show`: the report's person
    becomes an ID-sought subject with the report's photos."""
    query = update.callback_query
    assert query is not None
    parts = context.services.signer.verify(query.data)
    if not parts or len(parts) != 3 or parts[1] != render.NEW_SUBJECT or not parts[2].isdigit():
        await refuse(update, context, "subject.create", Refusal.FORGED)
        return
    report_id = int(parts[2])
    try:
        report = await context.store.reports.get(report_id)
    except NotFoundError:
        await query.answer(subject_texts.SUBJECT_PRESS_GONE, show_alert=True)
        return
    viewer = context.viewer
    acting = viewer.acting_as(MAKERS, for_scheme=report.scheme_id) if viewer else None
    if acting is None:
        await refuse(
            update,
            context,
            "subject.create",
            Refusal.OTHER_SCHEME,
            detail={"report_id": report_id},
        )
        return
    try:
        subject = await context.services.subjects.create_from_report(
            Actor(acting.member), report_id, first_only=True
        )
    except ReportClosedError:
        await query.answer(subject_texts.subject_report_withdrawn(report_id), show_alert=True)
        return
    except InvalidInputError as exc:
        if exc.reason == "report_has_subject":
            said = subject_texts.subject_report_has_subject(report_id, exc.value)
        else:
            said = subject_texts.problem(exc.reason, exc.value)
        await query.answer(said, show_alert=True)
        return
    except AccessDeniedError:
        await query.answer(refusals.refusal(Refusal.WRONG_ROLE), show_alert=True)
        return
    subject_id = stored_id(subject)
    photos = await context.store.subjects.photos(subject_id)
    await query.answer(subject_texts.subject_made(subject_id, report_id, len(photos)))


@requires(*VIEWERS, action="subject.view")
async def gallery_command(
    update: Update, context: ShopWatchContext, membership: Membership
) -> None:
    """`/gallery`: the first card of the galleries the member may see."""
    await _show(update, context, membership, 1)


@requires(*VIEWERS, action="subject.view")
async def gallery_pressed(
    update: Update, context: ShopWatchContext, membership: Membership
) -> None:
    """Previous / Next under a gallery card: the card at that position, as a new message."""
    query = update.callback_query
    assert query is not None
    parts = context.services.signer.verify(query.data)
    if not parts or len(parts) != 2 or parts[0] != GALLERY or not parts[1].isdigit():
        await refuse(update, context, "subject.view", Refusal.FORGED)
        return
    await query.answer()
    await _show(update, context, membership, int(parts[1]))


async def _show(
    update: Update, context: ShopWatchContext, membership: Membership, position: int
) -> None:
    chat = update.effective_chat
    assert chat is not None
    services = context.services
    shown = await services.subjects.show_gallery(
        Actor(membership.member), chat.id, position, services.signer.sign
    )
    if shown is None:
        await chat.send_message(subject_texts.GALLERY_EMPTY)
        return
    services.outbox.wake()


def _numbers(context: ShopWatchContext) -> tuple[int, int] | None:
    args = [a.removeprefix("#") for a in context.args or []]
    if len(args) != 2 or not all(a.isascii() and a.isdigit() and len(a) <= 12 for a in args):
        return None
    return int(args[0]), int(args[1])


@requires(*DECIDERS, action="subject.link")
async def link_command(update: Update, context: ShopWatchContext, membership: Membership) -> None:
    """`/link 12 40`: report #40 is (also) Subject #12."""
    message = update.effective_message
    assert message is not None
    numbers = _numbers(context)
    if numbers is None:
        await _refuse_early(
            context, message, membership, "subject.link", "usage", subject_texts.LINK_USAGE
        )
        return
    subject_id, report_id = numbers
    try:
        done = await _or_refused(
            message,
            f"Subject #{subject_id} or report #{report_id}",
            context.services.subjects.link(Actor(membership.member), subject_id, report_id),
        )
    except ReportClosedError:
        await message.reply_text(subject_texts.subject_report_withdrawn(report_id))
        return
    if done is None:
        return
    said = subject_texts.linked if done else subject_texts.already_linked
    await message.reply_text(said(subject_id, report_id))


@requires(*DECIDERS, action="subject.merge")
async def merge_command(update: Update, context: ShopWatchContext, membership: Membership) -> None:
    """`/merge 12 15`: Subject #15 is the same person as Subject #12, and folds into it."""
    message = update.effective_message
    assert message is not None
    numbers = _numbers(context)
    if numbers is None:
        await _refuse_early(
            context, message, membership, "subject.merge", "usage", subject_texts.MERGE_USAGE
        )
        return
    kept, gone = numbers
    merged = await _or_refused(
        message,
        f"Subject #{kept} or #{gone}",
        context.services.subjects.merge(Actor(membership.member), kept, gone),
    )
    if merged is None:
        return
    await message.reply_text(subject_texts.merged(kept, gone))


@requires(*DECIDERS, action="subject.suggestion")
async def suggestion_pressed(
    update: Update, context: ShopWatchContext, membership: Membership
) -> None:
    """Link or Not them under "Possibly Subject #12", in a coordinator's private chat."""
    query = update.callback_query
    assert query is not None
    parts = context.services.signer.verify(query.data)
    if (
        not parts
        or len(parts) != 3
        or parts[0] != SUGGESTED
        or parts[1] not in (LINK, NOT_THEM)
        or not parts[2].isdigit()
    ):
        await refuse(update, context, "subject.suggestion", Refusal.FORGED)
        return
    link = parts[1] == LINK
    suggestion_id = int(parts[2])
    try:
        found = await context.store.subjects.suggestion(suggestion_id)
        report = await context.store.reports.get(found.report_id)
    except NotFoundError:
        await query.answer(subject_texts.SUGGESTION_GONE, show_alert=True)
        return
    viewer = context.viewer
    acting = viewer.acting_as(DECIDERS, for_scheme=report.scheme_id) if viewer else None
    if acting is None:
        await refuse(
            update,
            context,
            "subject.suggestion",
            Refusal.OTHER_SCHEME,
            detail={"suggestion_id": suggestion_id},
            text=subject_texts.SUGGESTION_OTHER_SCHEME,
        )
        return
    subject_id, report_id = found.subject_id, found.report_id
    try:
        decided = await context.services.subjects.decide_suggestion(
            Actor(acting.member), suggestion_id, link=link
        )
    except ReportClosedError:
        await query.answer(subject_texts.subject_report_withdrawn(report_id), show_alert=True)
        return
    except NotFoundError:
        await query.answer(subject_texts.SUGGESTION_GONE, show_alert=True)
        return
    except InvalidInputError as exc:
        await query.answer(subject_texts.refused(exc.reason, exc.value), show_alert=True)
        return
    context.services.outbox.wake()
    state = decided.suggestion.state
    if state is SuggestionState.LINKED:
        said = subject_texts.linked if decided.changed else subject_texts.already_linked
    elif decided.changed:
        said = subject_texts.suggestion_dismissed
    else:
        said = subject_texts.suggestion_was_dismissed
    await query.answer(said(subject_id, report_id), show_alert=not decided.changed)


KNOW_ASKS = "subject_know_asks"
"""user_data: the member's open "Who is Subject #12?" questions, `chat:message` -> subject."""
KNOWN_ASKS_KEPT = 20


def _member_of(viewer: Viewer | None, scheme_id: int) -> Membership | None:
    """The viewer's active membership of that scheme, if its role sees the galleries."""
    for membership in viewer.active if viewer else ():
        if membership.scheme.id == scheme_id and membership.member.role in VIEWERS:
            return membership
    return None


async def know_pressed(update: Update, context: ShopWatchContext) -> None:
    """I know who this is, under a face in the members' group: the question goes to the
    member's private chat, where only the bot reads the answer."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None
    assert user is not None
    parts = context.services.signer.verify(query.data)
    if not parts or len(parts) != 2 or parts[0] != KNOW or not parts[1].isdigit():
        await refuse(update, context, "subject.intel", Refusal.FORGED)
        return
    subject_id = int(parts[1])
    try:
        subject = await context.store.subjects.get(subject_id)
    except NotFoundError:
        await query.answer(subject_texts.KNOW_GONE, show_alert=True)
        return
    if subject.status is not SubjectStatus.ACTIVE:
        await query.answer(subject_texts.KNOW_GONE, show_alert=True)
        return
    if _member_of(context.viewer, subject.scheme_id) is None:
        viewer = context.viewer
        ours = viewer is not None and any(m.scheme.id == subject.scheme_id for m in viewer.active)
        await refuse(
            update,
            context,
            "subject.intel",
            Refusal.WRONG_ROLE if ours else Refusal.OTHER_SCHEME,
            scheme_id=subject.scheme_id,
            detail={"subject_id": subject_id},
            text=None if ours else subject_texts.KNOW_OTHER_SCHEME,
        )
        return
    try:
        asked = await context.bot.send_message(
            user.id,
            subject_texts.know_question(subject_id, INTEL_MAX),
            reply_markup=ForceReply(input_field_placeholder=subject_texts.KNOW_PLACEHOLDER),
            protect_content=True,
        )
    except Forbidden:
        await query.answer(subject_texts.know_start_first(context.bot.username), show_alert=True)
        return
    if context.user_data is not None:
        asks = dict(context.user_data.get(KNOW_ASKS) or {})
        asks[f"{asked.chat_id}:{asked.message_id}"] = subject_id
        context.user_data[KNOW_ASKS] = dict(list(asks.items())[-KNOWN_ASKS_KEPT:])
    await query.answer(subject_texts.KNOW_ASKED, show_alert=True)


class _AnswersTheQuestion(filters.MessageFilter):
    """A reply to the bot's "Who is Subject #12?": only those, so every other reply goes
    on to the alerts' handlers."""

    def filter(self, message: Message) -> bool:
        asked = message.reply_to_message
        return (
            asked is not None
            and asked.from_user is not None
            and asked.from_user.is_bot
            and (asked.text or "").startswith(subject_texts.KNOW_QUESTION_HEAD)
        )


async def know_answered(update: Update, context: ShopWatchContext) -> None:
    """The member's reply to the question: kept on the subject for the coordinators only
    (`SubjectService.tell`, which refuses what is too long or carries a link), and sent
    to each coordinator privately."""
    message = update.effective_message
    assert message is not None
    assert message.reply_to_message is not None
    key = f"{message.chat_id}:{message.reply_to_message.message_id}"
    asks = dict((context.user_data or {}).get(KNOW_ASKS) or {})
    subject_id = asks.get(key)
    if not isinstance(subject_id, int):
        await message.reply_text(subject_texts.KNOW_EXPIRED, do_quote=True)
        return
    if message.text is None:
        await message.reply_text(subject_texts.KNOW_WORDS_ONLY, do_quote=True)
        return
    try:
        subject = await context.store.subjects.get(subject_id)
    except NotFoundError:
        await message.reply_text(subject_texts.KNOW_GONE, do_quote=True)
        return
    membership = _member_of(context.viewer, subject.scheme_id)
    if membership is None:
        await refuse(
            update,
            context,
            "subject.intel",
            Refusal.NOT_MEMBER,
            scheme_id=subject.scheme_id,
            detail={"subject_id": subject_id},
        )
        return
    try:
        await context.services.subjects.tell(Actor(membership.member), subject_id, message.text)
    except NotFoundError:
        await message.reply_text(subject_texts.KNOW_GONE, do_quote=True)
        return
    except AccessDeniedError:
        await message.reply_text(refusals.refusal(Refusal.WRONG_ROLE), do_quote=True)
        return
    except InvalidInputError as exc:
        said = {
            "intel_too_long": subject_texts.know_too_long(len(message.text), INTEL_MAX),
            "intel_has_link": subject_texts.KNOW_HAS_LINK,
        }.get(exc.reason, subject_texts.KNOW_EMPTY)
        await message.reply_text(said, do_quote=True)
        return
    context.services.outbox.wake()
    asks.pop(key, None)
    if context.user_data is not None:
        context.user_data[KNOW_ASKS] = asks
    await message.reply_text(subject_texts.know_thanks(subject_id), do_quote=True)


def _after_command(message: Message) -> str:
    """What follows the command, as typed (spacing and `|` kept)."""
    parts = (message.text or "").split(maxsplit=1)
    return parts[1] if len(parts) == 2 else ""


def _number(word: str) -> int | None:
    word = word.removeprefix("#")
    return int(word) if word.isascii() and word.isdigit() and len(word) <= 12 else None


def _day(word: str) -> date | InvalidInputError:
    """A day as /search and /export take one, 03/12/2026 or 2026-12-03."""
    try:
        return calendar_day(word)
    except ValueError:
        return InvalidInputError("notice_date_invalid", word[:40])


def _identification(text: str) -> tuple[int, str, tuple[str, ...], str] | None:
    """`12 Dean Smith aka Deano, Dino | basis`: subject, name, aliases, basis."""
    head, _, basis = text.partition("|")
    words = head.split(maxsplit=1)
    subject_id = _number(words[0]) if words else None
    if subject_id is None:
        return None
    named = re.split(r"\s+aka\s+", words[1] if len(words) == 2 else "", maxsplit=1, flags=re.I)
    aliases = tuple(a.strip() for a in named[1].split(",") if a.strip()) if len(named) > 1 else ()
    return subject_id, named[0], aliases, basis


@requires(*DECIDERS, action="subject.identify")
async def identify_command(
    update: Update, context: ShopWatchContext, membership: Membership
) -> None:
    """`/identify 12 Dean Smith | Named by PCSO Hale`: Subject #12 is Known, on that basis."""
    message = update.effective_message
    assert message is not None
    parsed = _identification(_after_command(message))
    if parsed is None:
        await _refuse_early(
            context, message, membership, "subject.identify", "usage", subject_texts.IDENTIFY_USAGE
        )
        return
    subject_id, name, aliases, basis = parsed
    subject = await _or_refused(
        message,
        f"Subject #{subject_id}",
        context.services.subjects.identify(
            Actor(membership.member), subject_id, name=name, basis=basis, aliases=aliases
        ),
    )
    if subject is None:
        return
    await message.reply_text(
        subject_texts.identified(subject_id, subject.name or name, subject.aliases)
    )


_NOTICE_FIELDS = ("by", "ref", "from", "until", "review", "conditions")


def _notice_terms(text: str) -> tuple[int, NoticeTerms] | InvalidInputError | None:
    """`12 exclusion | by The board | ref BD-1 | until 2027-06-02`: the subject and terms;
    an error for a part that is not one, None when there is not even a subject."""
    head, *parts = text.split("|")
    words = head.split()
    subject_id = _number(words[0]) if words else None
    if subject_id is None or len(words) != 2:
        return None
    try:
        stage = NoticeStage(words[1].lower())
    except ValueError:
        return InvalidInputError("notice_stage_invalid", words[1][:40])
    fields: dict[str, str] = {}
    for part in parts:
        key, _, value = part.strip().partition(" ")
        if key.lower() not in _NOTICE_FIELDS:
            return InvalidInputError("notice_field_unknown", key[:40] or "an empty part")
        fields[key.lower()] = value.strip()
    dates: dict[str, date | None] = {}
    for key in ("from", "until", "review"):
        raw = fields.get(key)
        found = _day(raw) if raw else None
        if isinstance(found, InvalidInputError):
            return found
        dates[key] = found
    return subject_id, NoticeTerms(
        stage=stage,
        decided_by=fields.get("by", ""),
        board_decision_ref=fields.get("ref") or None,
        starts_on=dates["from"],
        ends_on=dates["until"],
        review_on=dates["review"],
        conditions=fields.get("conditions", ""),
    )


async def _refuse_early(  # noqa: PLR0917 - one line at each early refusal
    context: ShopWatchContext,
    message: Message,
    membership: Membership,
    action: str,
    reason: str,
    answer: str,
) -> None:
    """Answer a command refused before the service saw it, and audit it once, with the
    action and reason, as the service's own refusals are."""
    await context.services.subjects.refused(Actor(membership.member), action, reason)
    await message.reply_text(answer)


@requires(*DECIDERS, action="notice.issue")
async def notice_command(
    update: Update, context: ShopWatchContext, membership: Membership
) -> None:
    """`/notice 12 exclusion | by The board | ref BD-2026-31`: the notice is issued and its
    letter follows as a PDF in this chat."""
    message = update.effective_message
    chat = update.effective_chat
    assert message is not None
    assert chat is not None
    parsed = _notice_terms(_after_command(message))
    if parsed is None:
        await _refuse_early(
            context, message, membership, "notice.issue", "usage", subject_texts.NOTICE_USAGE
        )
        return
    if isinstance(parsed, InvalidInputError):
        answer = subject_texts.refused(parsed.reason, parsed.value)
        await _refuse_early(context, message, membership, "notice.issue", parsed.reason, answer)
        return
    subject_id, terms = parsed
    actor = Actor(membership.member)
    services = context.services
    what = f"Subject #{subject_id}"
    notice = await _or_refused(
        message, what, services.subjects.issue_notice(actor, subject_id, terms)
    )
    if notice is None:
        return
    subject = await _or_refused(message, what, services.store.subjects.get(subject_id))
    if subject is None:
        return
    notice_id = stored_id(notice)
    reference = subject_texts.notice_reference(scheme_prefix(membership.scheme.slug), notice_id)
    await message.reply_text(
        subject_texts.notice_issued(
            reference,
            notice.stage,
            subject.name or f"Subject #{subject_id}",
            starts=notice.starts_on,
            ends=notice.ends_on,
            review=notice.review_on,
        )
    )
    await _send_letter(context, message, actor, chat.id, notice_id)


async def _send_letter(
    context: ShopWatchContext, message: Message, actor: Actor, chat_id: int, notice_id: int
) -> bool:
    services = context.services
    letter = await _or_refused(
        message,
        f"notice {notice_id}",
        services.subjects.send_letter(
            actor, notice_id, chat_id=chat_id, data_dir=services.settings.data_dir
        ),
    )
    if letter is None:
        return False
    services.outbox.wake()
    return True


@requires(*DECIDERS, action="notice.letter")
async def letter_command(
    update: Update, context: ShopWatchContext, membership: Membership
) -> None:
    """`/noticeletter 7`: notice 7's letter as a PDF, as it stands (served or not)."""
    message = update.effective_message
    chat = update.effective_chat
    assert message is not None
    assert chat is not None
    words = _after_command(message).split()
    notice_id = _number(words[0]) if len(words) == 1 else None
    if notice_id is None:
        await _refuse_early(
            context, message, membership, "notice.letter", "usage", subject_texts.LETTER_USAGE
        )
        return
    await _send_letter(context, message, Actor(membership.member), chat.id, notice_id)


@requires(*DECIDERS, action="notice.serve")
async def served_command(
    update: Update, context: ShopWatchContext, membership: Membership
) -> None:
    """`/served 7 2026-12-03 by hand, PCSO Hale`: when and how notice 7 was served."""
    message = update.effective_message
    assert message is not None
    words = _after_command(message).split(maxsplit=2)
    notice_id = _number(words[0]) if words else None
    if notice_id is None or len(words) < 2:
        await _refuse_early(
            context, message, membership, "notice.serve", "usage", subject_texts.SERVED_USAGE
        )
        return
    served_on = _day(words[1])
    if isinstance(served_on, InvalidInputError):
        answer = subject_texts.refused(served_on.reason, served_on.value)
        await _refuse_early(context, message, membership, "notice.serve", served_on.reason, answer)
        return
    how = words[2] if len(words) == 3 else ""
    notice = await _or_refused(
        message,
        f"notice {notice_id}",
        context.services.subjects.record_service(
            Actor(membership.member), notice_id, served_on=served_on, how=how
        ),
    )
    if notice is None:
        return
    reference = subject_texts.notice_reference(scheme_prefix(membership.scheme.slug), notice_id)
    await message.reply_text(
        subject_texts.notice_served(reference, served_on, notice.served_how or how)
    )


_APPEAL = re.compile(r"#?([0-9]{1,12})\s+(?:received\s+)?(\S+)(?:\s+(.*))?", re.I | re.S)
_DECISION = re.compile(
    r"#?([0-9]{1,12})\s+(\S+)(?:\s+ref\s+(.+?))?(?:\s+until\s+(\S+))?", re.I | re.S
)


def _reference(membership: Membership, notice: Notice) -> str:
    return subject_texts.notice_reference(scheme_prefix(membership.scheme.slug), stored_id(notice))


@requires(*DECIDERS, action="notice.appeal")
async def appeal_command(
    update: Update, context: ShopWatchContext, membership: Membership
) -> None:
    """`/appeal 7 received 03/12/2026 I was at work that day`: the person's appeal against
    notice 7, as the scheme received it; the notice stands until the board decides."""
    message = update.effective_message
    assert message is not None
    found = _APPEAL.fullmatch(_after_command(message).strip())
    if found is None:
        await _refuse_early(
            context, message, membership, "notice.appeal", "usage", subject_texts.APPEAL_USAGE
        )
        return
    notice_id, grounds = int(found.group(1)), (found.group(3) or "").strip()
    received_on = _day(found.group(2))
    if isinstance(received_on, InvalidInputError):
        answer = subject_texts.refused(received_on.reason, received_on.value)
        await _refuse_early(
            context, message, membership, "notice.appeal", received_on.reason, answer
        )
        return
    if not grounds:
        await _refuse_early(
            context,
            message,
            membership,
            "notice.appeal",
            "appeal_grounds_missing",
            subject_texts.APPEAL_GROUNDS_MISSING,
        )
        return
    notice = await _or_refused(
        message,
        f"notice {notice_id}",
        context.services.subjects.record_appeal(
            Actor(membership.member), notice_id, received_on=received_on, text=grounds
        ),
    )
    if notice is None:
        return
    await message.reply_text(
        subject_texts.appeal_recorded(
            _reference(membership, notice), notice, local_today(membership.scheme)
        )
    )


@requires(*DECIDERS, action="notice.appeal_decided")
async def decide_command(
    update: Update, context: ShopWatchContext, membership: Membership
) -> None:
    """`/decide 7 varied ref BD-2027-02 until 02/06/2027`: the board's decision on the appeal
    against notice 7, decided today; overturned ends it, and the control room's cards of
    its subject's reports stop saying EXCLUDED."""
    message = update.effective_message
    assert message is not None
    found = _DECISION.fullmatch(_after_command(message).strip())
    decided = "notice.appeal_decided"
    if found is None:
        await _refuse_early(
            context, message, membership, decided, "usage", subject_texts.DECIDE_USAGE
        )
        return
    notice_id, ref, until = int(found.group(1)), found.group(3) or "", found.group(4)
    try:
        outcome = AppealOutcome(found.group(2).lower())
    except ValueError:
        reason = "appeal_outcome_invalid"
        answer = subject_texts.refused(reason, found.group(2))
        await _refuse_early(context, message, membership, decided, reason, answer)
        return
    new_end = _day(until) if until else None
    if isinstance(new_end, InvalidInputError):
        answer = subject_texts.refused(new_end.reason, new_end.value)
        await _refuse_early(context, message, membership, decided, new_end.reason, answer)
        return
    if new_end is not None and outcome is not AppealOutcome.VARIED:
        reason = "until_only_when_varied"
        answer = subject_texts.refused(reason, outcome.value)
        await _refuse_early(context, message, membership, decided, reason, answer)
        return
    services = context.services
    notice = await _or_refused(
        message,
        f"notice {notice_id}",
        services.subjects.decide_appeal(
            Actor(membership.member),
            notice_id,
            outcome=outcome,
            decided_on=local_today(membership.scheme),
            decision_ref=ref,
            new_end=new_end,
        ),
    )
    if notice is None:
        return
    services.outbox.wake()
    await message.reply_text(
        subject_texts.appeal_decided(
            _reference(membership, notice), notice, local_today(membership.scheme)
        )
    )


@requires(*VIEWERS, action="member.digest")
async def digest_command(
    update: Update, context: ShopWatchContext, membership: Membership
) -> None:
    """`/digest off` or `/digest on`: a member stops or restarts their own Monday digest."""
    message = update.effective_message
    assert message is not None
    args = [a.lower() for a in context.args or []]
    if args not in (["on"], ["off"]):
        await message.reply_text(subject_texts.DIGEST_USAGE)
        return
    on = args == ["on"]
    await context.services.subjects.set_digest(Actor(membership.member), on=on)
    await message.reply_text(subject_texts.digest_set(on))


def subject_handlers() -> list[BaseHandler[Update, ShopWatchContext, object]]:
    private = filters.ChatType.PRIVATE
    answers = private & filters.UpdateType.MESSAGE & filters.REPLY & _AnswersTheQuestion()
    return [
        MessageHandler(answers & ~filters.COMMAND, know_answered),
        CommandHandler("gallery", gallery_command, filters=private),
        CommandHandler("digest", digest_command, filters=private),
        CommandHandler("link", link_command, filters=private),
        CommandHandler("merge", merge_command, filters=private),
        CommandHandler("identify", identify_command, filters=private),
        CommandHandler("notice", notice_command, filters=private),
        CommandHandler("noticeletter", letter_command, filters=private),
        CommandHandler("served", served_command, filters=private),
        CommandHandler("appeal", appeal_command, filters=private),
        CommandHandler("decide", decide_command, filters=private),
        CallbackQueryHandler(
            new_subject_pressed, pattern=f"^{render.SUBJECT_PREFIX}:{render.NEW_SUBJECT}:"
        ),
        CallbackQueryHandler(gallery_pressed, pattern=f"^{GALLERY}:"),
        CallbackQueryHandler(suggestion_pressed, pattern=f"^{SUGGESTED}:"),
        CallbackQueryHandler(know_pressed, pattern=f"^{KNOW}:"),
    ]
