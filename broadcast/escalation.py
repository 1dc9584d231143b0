"""Was I heard? A live alert no operator has answered in time is raised again, once.

The radio link's standing complaint was a shopkeeper left wondering whether anyone
saw their alert. After the scheme's `escalate_after_minutes` with no answer, the
control room gets a fresh message (a new message rings where an edited card does
not), each active coordinator of the scheme is told privately, and the member who
sent it is told it is not yet acknowledged.

Any call on the card is an answer, and so is a note on the alert written by someone
of the control room (an operator's reply to the card, "Lost him at the Forum, PCSO
123 attending"): its writer has plainly seen the alert, and raising it again would
ring a room already working it and tell the shop nobody has answered when someone
has. The note is still not the Acknowledged call: the card keeps "Not yet
acknowledged" and its buttons, the shop gets no call notice and peer towns no call,
since those follow the calls alone. A shop's note (a corroboration from the group)
is no answer: it is not the control room hearing.

Driven from the log by a repeating job, not a timer per alert: what is due is read
from the stored reports and events, and raising one stores an event with its
messages, so a restart neither loses an escalation nor makes a second.

The control room's card is edited with it ("⏰ Not yet acknowledged: raised again at
14:02") until the first call, and the fresh message quotes that card, so whoever
looks up finds the buttons at once. The message names no more of the shop than the
card does (its place), and like the card it is protected and leaves the chat with
it. Peer towns the alert crossed to are not told: whether this control room has
answered is its own state, which a peer's cards never show; a peer acts on the
alert from its own card and its own operators, and a second alert from us would
read there as a second incident.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from broadcast.alerts import AlertService
from broadcast.texts import alerts as alert_texts
from broadcast.texts import control_room as control_room_texts
from broadcast.texts import formats
from config.schemes import SchemeConfig
from config.vocabulary import MemberStatus, OutboxKind, Role
from storage.ids import stored_id
from storage.models import Member, Report
from storage.outbox import Delivery
from storage.outbox_payloads import MessagePayload
from storage.places import members_place

logger = logging.getLogger(__name__)

CHECK_EVERY = timedelta(seconds=30)
"""How often the job looks; an alert is raised at most this long after it is due."""
TOO_LATE = timedelta(hours=1)
"""An alert older than this unanswered (the bot was down, say) is past raising again."""


async def raise_unheard(alerts: AlertService, now: datetime) -> list[int]:
    """Raise every live alert that is due; the ids of those raised."""
    shortest = min(
        (timedelta(minutes=s.escalate_after_minutes) for s in alerts.schemes.schemes),
        default=timedelta(minutes=2),
    )
    due = await alerts.store.reports.unanswered(now - TOO_LATE, now - shortest)
    raised: list[int] = []
    for report in due:
        report_id = stored_id(report)
        scheme = await alerts.store.schemes.get(report.scheme_id)
        config = alerts.schemes.scheme(scheme.slug)
        after = timedelta(minutes=config.escalate_after_minutes)
        if now - report.created_at < after:
            continue
        coordinators = [
            m
            for m in await alerts.store.members.list_by_status(
                report.scheme_id, MemberStatus.ACTIVE
            )
            if m.role == Role.COORDINATOR and m.id != report.member_id
        ]
        reporter = await _reporter(alerts, report)
        card = await _control_room_card(alerts, report_id, config.control_room_chat_id)

        def told(
            now_report: Report,
            config: SchemeConfig,
            coordinators: list[Member] = coordinators,
            reporter: Member | None = reporter,
            card: int | None = card,
        ) -> list[Delivery]:
            return _messages(now_report, config, coordinators, reporter, card)

        if await alerts.raise_unheard(report_id, after, told, now):
            raised.append(report_id)
    return raised


async def _reporter(alerts: AlertService, report: Report) -> Member | None:
    if report.member_id is None:
        return None
    member = await alerts.store.members.get_by_id(report.member_id)
    return member if member.status == MemberStatus.ACTIVE else None


async def _control_room_card(alerts: AlertService, report_id: int, room: int) -> int | None:
    """The message id of the alert's card in the control room, once it is out."""
    copies = await alerts.store.outbox.for_report(report_id, kind=OutboxKind.ALERT)
    return next(
        (
            row.telegram_message_id
            for row in reversed(copies)
            if row.chat_id == room and row.telegram_message_id is not None
        ),
        None,
    )


def _messages(
    report: Report,
    config: SchemeConfig,
    coordinators: list[Member],
    reporter: Member | None,
    card: int | None,
) -> list[Delivery]:
    report_id = stored_id(report)
    text = control_room_texts.raised_again(
        report_id,
        alert_texts.category_name(report.category),
        members_place(report),
        formats.time_of_day(report.created_at, config.timezone),
    )
    room = MessagePayload(
        text=text,
        reply_to=card,
        protect_content=config.protect_content,
        delete_after_hours=config.chat_ttl_hours,
    )
    out = [Delivery(config.control_room_chat_id, room)]
    out += [Delivery(m.telegram_user_id, MessagePayload(text=text)) for m in coordinators]
    if reporter is not None:
        out.append(
            Delivery(
                reporter.telegram_user_id,
                MessagePayload(text=control_room_texts.reporter_not_yet_heard(report_id)),
            )
        )
    return out
