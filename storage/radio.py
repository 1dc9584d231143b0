"""Radio calls in the log.

A call heard on the radio belongs to no report yet, but an event needs one
(`event.report_id` is NOT NULL), so each call is stored as a report of its own:
source `radio`, urgency `log`, category `other`, the transcript as its
description, and the call itself as a `radio_call` event (text
"<speaker>: <transcript>"). The operator then either attaches the call to the
report it is about (the event moves there; the stand-in report is closed with a
note saying where it went) or keeps it as a report in its own right. The
recording of event N is `radio/<scheme slug>/event-N.ogg` under the data directory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from config.errors import NotFoundError
from config.vocabulary import Category, EventKind, OutboxKind, ReportSource, ReportStatus, Urgency
from storage.files import private_dir, tighten
from storage.ids import stored_id
from storage.models import OutboxRow, Report, ReportEvent, utcnow
from storage.outbox import Delivery
from storage.transaction import transaction

NO_WORDS = "(no words recognised)"
ATTACHED = "attached"
RECORDINGS = "radio"
"""The folder under the data directory with one folder of recordings per scheme."""


def recording_path(slug: str, event_id: int) -> str:
    """Where the recording of a radio call lives, relative to the data directory."""
    return f"{RECORDINGS}/{slug}/event-{event_id}.ogg"


def _move(source: Path, target: Path) -> None:
    private_dir(target.parent)
    source.replace(target)
    tighten(target)


@dataclass(frozen=True, slots=True)
class RadioCall:
    report: Report
    event: ReportEvent
    recording: str | None


class RadioCallRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(
        self,
        scheme_id: int,
        slug: str,
        speaker: str,
        transcript: str,
        heard_at: datetime,
        *,
        data_dir: Path,
        audio: Path | None,
        deliveries: Callable[[RadioCall], Sequence[Delivery]],
    ) -> RadioCall:
        """Log a call with its recording (moved from `audio`) and its messages, together."""
        words = transcript.strip()
        report = Report(
            scheme_id=scheme_id,
            category=Category.OTHER,
            urgency=Urgency.LOG,
            description=words or NO_WORDS,
            source=ReportSource.RADIO,
            occurred_at=heard_at,
        )
        async with transaction(self._sessions, "log the radio call") as session:
            session.add(report)
            await session.flush()
            report_id = stored_id(report)
            event = ReportEvent(
                report_id=report_id,
                kind=EventKind.RADIO_CALL,
                text=f"{speaker}: {words or NO_WORDS}",
                created_at=heard_at,
            )
            session.add(event)
            await session.flush()
            recording = None
            if audio is not None:
                recording = recording_path(slug, stored_id(event))
                await asyncio.to_thread(_move, audio, data_dir / recording)
            call = RadioCall(report, event, recording)
            for delivery in deliveries(call):
                session.add(delivery.to_row(scheme_id, report_id))
        return call

    async def attach(
        self, event_id: int, report_id: int, *, member_id: int | None
    ) -> tuple[int, bool]:
        """Move a call to the report it is about.

        Returns the call's stand-in report and False when the call was filed already.
        """
        async with transaction(self._sessions, "attach the radio call") as session:
            event = await session.get(ReportEvent, event_id, with_for_update=True)
            if event is None or event.kind != EventKind.RADIO_CALL:
                raise NotFoundError(f"no radio call {event_id}")
            stand_in = await session.get(Report, event.report_id, with_for_update=True)
            target = await session.get(Report, report_id)
            if stand_in is None or target is None or target.scheme_id != stand_in.scheme_id:
                raise NotFoundError(f"no report {report_id} in this scheme")
            stand_in_id = stored_id(stand_in)
            if stand_in.status != ReportStatus.OPEN or stand_in.source != ReportSource.RADIO:
                return stand_in_id, False
            event.report_id = report_id
            stand_in.status = ReportStatus.CLOSED
            stand_in.updated_at = utcnow()
            session.add(
                ReportEvent(
                    report_id=stand_in_id,
                    member_id=member_id,
                    kind=EventKind.NOTE,
                    status=ATTACHED,
                    text=f"Radio call attached to report #{report_id}",
                )
            )
        return stand_in_id, True

    async def keep(self, event_id: int, *, member_id: int | None) -> Report:
        """The operator keeps the call as a report in its own right (a note says who)."""
        async with transaction(self._sessions, "keep the radio call") as session:
            event = await session.get(ReportEvent, event_id)
            if event is None or event.kind != EventKind.RADIO_CALL:
                raise NotFoundError(f"no radio call {event_id}")
            report = await session.get(Report, event.report_id)
            if report is None or report.status != ReportStatus.OPEN:
                raise NotFoundError("this radio call has been filed already")
            session.add(
                ReportEvent(
                    report_id=event.report_id,
                    member_id=member_id,
                    kind=EventKind.NOTE,
                    text="Radio call kept as a report",
                )
            )
        return report

    async def report_for_copy(self, chat_id: int, message_id: int) -> Report | None:
        """The report whose alert copy this chat message is, for a voice note replying to it."""
        query = (
            select(Report)
            .join(OutboxRow, col(OutboxRow.report_id) == col(Report.id))
            .where(
                OutboxRow.chat_id == chat_id,
                OutboxRow.telegram_message_id == message_id,
                OutboxRow.kind == OutboxKind.ALERT,
            )
            .limit(1)
        )
        async with transaction(self._sessions, "find the alert") as session:
            return (await session.exec(query)).first()

    async def open_reports(self, scheme_id: int, limit: int = 3) -> list[Report]:
        """Recent open reports a call may be about: live chat alerts, newest first."""
        query = (
            select(Report)
            .where(
                Report.scheme_id == scheme_id,
                Report.status == ReportStatus.OPEN,
                Report.source != ReportSource.RADIO,
            )
            .order_by(col(Report.created_at).desc(), col(Report.id).desc())
            .limit(limit)
        )
        async with transaction(self._sessions, "read the open reports") as session:
            return list((await session.exec(query)).all())
