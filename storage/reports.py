"""Reports with their photos, events and deliveries, each stored in one transaction.

The product promise rests on `create`: a member is told "Alert sent" only after
the report and every message announcing it are stored together, so an alert is
either in the log and on its way to every chat, or not taken at all.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from config.errors import NotFoundError
from storage.models import Photo, Report, ReportEvent
from storage.outbox import Delivery
from storage.transaction import transaction

logger = logging.getLogger(__name__)


class ReportRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def create(
        self,
        report: Report,
        deliveries: Sequence[Delivery] = (),
        photos: Sequence[Photo] = (),
    ) -> Report:
        """Store a new report with its photos and its outbox rows, all or nothing.

        `report` and `photos` are unsaved rows (photos need no `report_id`); the
        report comes back with its id. Raises `DuplicateError` when a delivery's
        dedupe key is already queued (the same alert arriving twice), and then
        nothing is stored.
        """
        async with transaction(self._sessions, "store the report") as session:
            session.add(report)
            await session.flush()
            assert report.id is not None
            for photo in photos:
                photo.report_id = report.id
                session.add(photo)
            for delivery in deliveries:
                session.add(delivery.to_row(report.scheme_id, report.id))
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
        self, event: ReportEvent, deliveries: Sequence[Delivery] = ()
    ) -> ReportEvent:
        """Record what happened to a report and queue its announcements (e.g. edits) together."""
        async with transaction(self._sessions, "record the update") as session:
            report = await session.get(Report, event.report_id)
            if report is None:
                raise NotFoundError(f"no report {event.report_id}")
            session.add(event)
            for delivery in deliveries:
                session.add(delivery.to_row(report.scheme_id, report.id))
        return event

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
