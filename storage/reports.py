"""Reports with their photos, events and deliveries, each stored in one transaction.

The product promise rests on `create`: a member is told "Alert sent" only after
the report and every message announcing it are stored together, so an alert is
either in the log and on its way to every chat, or not taken at all.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from config.errors import NotFoundError
from config.vocabulary import (
    CONTROL_ROOM,
    OPERATOR_STATUSES,
    EventKind,
    OutboxKind,
    ReportChange,
    ReportStatus,
    Urgency,
)
from storage.ids import stored_id
from storage.models import Member, OutboxRow, Photo, Report, ReportEvent
from storage.outbox import Delivery
from storage.transaction import transaction

logger = logging.getLogger(__name__)

# What a report is about and where it came from never changes once it is logged.
_FIXED_FIELDS = frozenset(
    {"id", "scheme_id", "member_id", "created_at", "source", "origin_scheme"}
)


@dataclass(frozen=True, slots=True)
class BeforeAlert:
    """`made`: the report the message made already (a second delivery of it);
    `recent`: the member's reports since the doubles window opened, newest first."""

    made: Report | None
    recent: list[Report]


def _for_message(chat_id: int, message_id: int) -> SelectOfScalar[Report]:
    source = f"alert:{chat_id}:{message_id}:"
    return (
        select(Report)
        .join(OutboxRow, col(OutboxRow.report_id) == col(Report.id))
        .where(
            or_(
                (col(OutboxRow.chat_id) == chat_id)
                & (col(OutboxRow.telegram_message_id) == message_id)
                & (col(OutboxRow.kind) == OutboxKind.ALERT),
                col(OutboxRow.dedupe_key).startswith(source, autoescape=True),
            )
        )
        .limit(1)
    )


def _by_member_since(member_id: int, since: datetime) -> SelectOfScalar[Report]:
    return (
        select(Report)
        .where(Report.member_id == member_id, col(Report.created_at) >= since)
        .order_by(col(Report.created_at).desc(), col(Report.id).desc())
    )


class ReportRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def create(
        self,
        report: Report,
        deliveries: Sequence[Delivery] | Callable[[Report], Sequence[Delivery]] = (),
        photos: Sequence[Photo] = (),
    ) -> Report:
        """Store a new report with its photos and its outbox rows, all or nothing.

        `report` and `photos` are unsaved rows (photos need no `report_id`); the
        report comes back with its id. `deliveries` may be a function of the report
        with its id, for messages that name it ("Report #123", signed buttons).
        Raises `DuplicateError` when a delivery's dedupe key is already queued (the
        same alert arriving twice), and then nothing is stored.
        """
        async with transaction(self._sessions, "store the report") as session:
            session.add(report)
            await session.flush()
            report_id = stored_id(report)
            for photo in photos:
                photo.report_id = report_id
                session.add(photo)
            if callable(deliveries):
                deliveries = deliveries(report)
            for delivery in deliveries:
                session.add(delivery.to_row(report.scheme_id, report_id))
        logger.info(
            "report %s stored for scheme %s with %d deliveries",
            report.id,
            report.scheme_id,
            len(deliveries),
        )
        return report

    async def get(self, report_id: int) -> Report:
        async with transaction(self._sessions, "read the report") as session:
            report = await session.get(Report, report_id)
        if report is None:
            raise NotFoundError(f"no report {report_id}")
        return report

    async def recent(self, scheme_id: int, limit: int = 20) -> list[Report]:
        """The scheme's latest reports, newest first."""
        query = (
            select(Report)
            .where(Report.scheme_id == scheme_id)
            .order_by(col(Report.created_at).desc(), col(Report.id).desc())
            .limit(limit)
        )
        async with transaction(self._sessions, "read the reports") as session:
            return list((await session.exec(query)).all())

    async def add_event(
        self,
        event: ReportEvent,
        deliveries: Sequence[Delivery] = (),
        *,
        changes: Mapping[str, Any] | None = None,
        photos: Sequence[Photo] = (),
    ) -> ReportEvent:
        """Record what happened to a report and queue its announcements (e.g. edits) together.

        `changes` sets fields of the report in the same transaction (a new category,
        "withdrawn"), so the log never says one thing while the chats say another;
        `photos` (unsaved rows) join the report with the event that shows them.
        """
        async with transaction(self._sessions, "record the update") as session:
            report = await session.get(Report, event.report_id, with_for_update=True)
            if report is None:
                raise NotFoundError(f"no report {event.report_id}")
            for name, value in (changes or {}).items():
                if name not in Report.model_fields or name in _FIXED_FIELDS:
                    raise ValueError(f"a report's {name!r} cannot be changed")
                setattr(report, name, value)
            session.add(event)
            for photo in photos:
                photo.report_id = report.id
                session.add(photo)
            for delivery in deliveries:
                session.add(delivery.to_row(report.scheme_id, report.id))
        return event

    async def for_message(self, chat_id: int, message_id: int) -> Report | None:
        """The report a chat message belongs to: one of its copies, or the member's own message.

        A copy is found by the message id its outbox row recorded; the member's own
        message by the dedupe key `alert:<chat>:<message>:` its alert rows carry.
        """
        async with transaction(self._sessions, "find the report") as session:
            return (await session.exec(_for_message(chat_id, message_id))).first()

    async def before_alert(
        self, chat_id: int, message_id: int, member_id: int, since: datetime
    ) -> BeforeAlert:
        """What a member's message meets before it becomes an alert, read in one
        transaction: the two reads are on every alert's way to its confirmation, and the
        process's SQLite serves every transaction through one connection."""
        async with transaction(self._sessions, "read the member's reports") as session:
            made = (await session.exec(_for_message(chat_id, message_id))).first()
            recent = list((await session.exec(_by_member_since(member_id, since))).all())
        return BeforeAlert(made, recent)

    async def latest_by_member(self, member_id: int, since: datetime) -> Report | None:
        """The member's newest report made after `since`, e.g. for the location sent just after."""
        query = (
            select(Report)
            .where(Report.member_id == member_id, col(Report.created_at) >= since)
            .order_by(col(Report.created_at).desc(), col(Report.id).desc())
            .limit(1)
        )
        async with transaction(self._sessions, "read the member's reports") as session:
            return (await session.exec(query)).first()

    async def unanswered(self, made_from: datetime, made_before: datetime) -> list[Report]:
        """Open live reports made in that span that no operator has answered with any call
        or a note and that were not raised again already: the ones still waiting to be
        heard (`broadcast.escalation`)."""
        answered = select(ReportEvent.id).where(
            col(ReportEvent.report_id) == col(Report.id),
            col(ReportEvent.status).in_([*OPERATOR_STATUSES, ReportChange.ESCALATED.value]),
        )
        noted = (
            select(ReportEvent.id)
            .join(Member, col(Member.id) == col(ReportEvent.member_id))
            .where(
                col(ReportEvent.report_id) == col(Report.id),
                col(ReportEvent.kind) == EventKind.NOTE,
                col(ReportEvent.status).is_(None),
                col(Member.role).in_([role.value for role in CONTROL_ROOM]),
            )
        )
        query = (
            select(Report)
            .where(
                col(Report.status) == ReportStatus.OPEN,
                col(Report.urgency) == Urgency.NOW,
                col(Report.created_at) >= made_from,
                col(Report.created_at) < made_before,
                ~answered.exists(),
                ~noted.exists(),
            )
            .order_by(col(Report.created_at), col(Report.id))
        )
        async with transaction(self._sessions, "find the alerts not yet heard") as session:
            return list((await session.exec(query)).all())

    async def events(self, report_id: int) -> list[ReportEvent]:
        """In the order they happened."""
        query = (
            select(ReportEvent)
            .where(ReportEvent.report_id == report_id)
            .order_by(col(ReportEvent.created_at), col(ReportEvent.id))
        )
        async with transaction(self._sessions, "read the report's history") as session:
            return list((await session.exec(query)).all())

    async def photos(self, report_id: int) -> list[Photo]:
        query = select(Photo).where(Photo.report_id == report_id).order_by(col(Photo.id))
        async with transaction(self._sessions, "read the report's photos") as session:
            return list((await session.exec(query)).all())

    async def delete(self, report_id: int) -> None:
        """Erase a report with its photo records, events and queued messages.

        The database cascades the rest, so retention cannot leave orphans behind.
        Photo files stay: the photo store keeps each picture once, and another
        report may still show it.
        """
        async with transaction(self._sessions, "delete the report") as session:
            result = await session.exec(delete(Report).where(col(Report.id) == report_id))
            if result.rowcount == 0:
                raise NotFoundError(f"no report {report_id}")
        logger.info("report %s deleted", report_id)
