"""Every message the bot sends, stored first and sent after, so none is lost or doubled.

A worker claims due rows under a lease: the claim is one statement (with
`FOR UPDATE SKIP LOCKED` on PostgreSQL, where workers run side by side), so two
workers never hold the same row. A worker that dies mid-send loses its lease and
the row is claimed again: delivery is at least once, and a row once marked sent
is never handed out again.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from config.errors import DuplicateError, NotFoundError
from storage.enums import OutboxKind, OutboxState
from storage.models import OutboxRow, utcnow
from storage.transaction import transaction

_UNSENT = (OutboxState.PENDING, OutboxState.SENDING)


@dataclass(frozen=True, slots=True)
class Delivery:
    """What to send where; `dedupe_key` makes a second enqueue of the same thing a no-op.

    `payload` is whatever the sender needs to render the message (JSON-serialisable);
    `not_before` delays the first attempt, e.g. deleting a chat copy after the TTL.
    """

    chat_id: int
    kind: OutboxKind
    payload: Mapping[str, Any] = field(default_factory=dict)
    dedupe_key: str | None = None
    not_before: datetime | None = None

    def to_row(self, scheme_id: int, report_id: int | None) -> OutboxRow:
        return OutboxRow(
            scheme_id=scheme_id,
            report_id=report_id,
            chat_id=self.chat_id,
            kind=self.kind,
            payload=dict(self.payload),
            dedupe_key=self.dedupe_key,
            next_attempt_at=self.not_before or utcnow(),
        )


@dataclass(frozen=True, slots=True)
class Backlog:
    """For health checks: `due` rows should be on their way; `oldest_age` is how late."""

    due: int
    oldest_age: timedelta | None
    failed: int


def _claimable(now: datetime) -> ColumnElement[bool]:
    return or_(
        and_(col(OutboxRow.state) == OutboxState.PENDING, col(OutboxRow.next_attempt_at) <= now),
        and_(col(OutboxRow.state) == OutboxState.SENDING, col(OutboxRow.claimed_until) < now),
    )


class OutboxRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def enqueue(
        self, scheme_id: int, delivery: Delivery, *, report_id: int | None = None
    ) -> OutboxRow:
        """Queue one message; with a dedupe key already queued, return that row unchanged."""
        try:
            async with transaction(self._sessions, "queue the message") as session:
                row = delivery.to_row(scheme_id, report_id)
                session.add(row)
            return row
        except DuplicateError:
            if delivery.dedupe_key is None:
                raise
        async with transaction(self._sessions, "read the queued message") as session:
            return (
                await session.exec(
                    select(OutboxRow).where(OutboxRow.dedupe_key == delivery.dedupe_key)
                )
            ).one()

    async def claim_due(
        self, worker_id: str, now: datetime, limit: int = 20, lease_seconds: float = 60.0
    ) -> list[OutboxRow]:
        """Lease up to `limit` due rows, oldest first; each claim counts as an attempt."""
        due = (
            select(OutboxRow.id)
            .where(_claimable(now))
            .order_by(col(OutboxRow.next_attempt_at), col(OutboxRow.id))
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        claim = (
            update(OutboxRow)
            .where(col(OutboxRow.id).in_(due.scalar_subquery()), _claimable(now))
            .values(
                state=OutboxState.SENDING,
                claimed_by=worker_id,
                claimed_until=now + timedelta(seconds=lease_seconds),
                attempts=OutboxRow.attempts + 1,
            )
            .returning(OutboxRow)
            .execution_options(synchronize_session=False)
        )
        async with transaction(self._sessions, "claim queued messages") as session:
            rows: list[OutboxRow] = list((await session.exec(claim)).scalars().all())
        return sorted(rows, key=lambda row: (row.next_attempt_at, row.id or 0))

    async def mark_sent(
        self, row_id: int, telegram_message_id: int | None, *, now: datetime | None = None
    ) -> OutboxRow:
        """Record delivery; on a row already sent this changes nothing, not even the message id."""
        return await self._finish(
            row_id,
            (OutboxState.PENDING, OutboxState.SENDING, OutboxState.FAILED),
            state=OutboxState.SENT,
            telegram_message_id=telegram_message_id,
            sent_at=now or utcnow(),
            last_error=None,
        )

    async def mark_retry(self, row_id: int, error: str, next_attempt_at: datetime) -> OutboxRow:
        """Put the row back in the queue for later; a row already sent or given up stays so."""
        return await self._finish(
            row_id,
            _UNSENT,
            state=OutboxState.PENDING,
            last_error=error,
            next_attempt_at=next_attempt_at,
        )

    async def mark_failed(self, row_id: int, error: str) -> OutboxRow:
        """Give up on the row (chat gone, bot blocked); it stays for the coordinator to see."""
        return await self._finish(row_id, _UNSENT, state=OutboxState.FAILED, last_error=error)

    async def _finish(
        self, row_id: int, from_states: tuple[OutboxState, ...], **values: Any
    ) -> OutboxRow:
        change = (
            update(OutboxRow)
            .where(col(OutboxRow.id) == row_id, col(OutboxRow.state).in_(from_states))
            .values(claimed_by=None, claimed_until=None, **values)
            .execution_options(synchronize_session=False)
        )
        async with transaction(self._sessions, "update the queued message") as session:
            await session.exec(change)
            row = await session.get(OutboxRow, row_id, populate_existing=True)
        if row is None:
            raise NotFoundError(f"no queued message {row_id}")
        return row

    async def get(self, row_id: int) -> OutboxRow:
        async with transaction(self._sessions, "read the queued message") as session:
            row = await session.get(OutboxRow, row_id)
        if row is None:
            raise NotFoundError(f"no queued message {row_id}")
        return row

    async def for_report(
        self, report_id: int, *, kind: OutboxKind | None = None, state: OutboxState | None = None
    ) -> list[OutboxRow]:
        """A report's deliveries, e.g. every sent alert whose copy an operator's update edits."""
        query = select(OutboxRow).where(OutboxRow.report_id == report_id)
        if kind is not None:
            query = query.where(OutboxRow.kind == kind)
        if state is not None:
            query = query.where(OutboxRow.state == state)
        async with transaction(self._sessions, "read the report's messages") as session:
            return list((await session.exec(query.order_by(col(OutboxRow.id)))).all())

    async def by_dedupe_prefix(self, prefix: str) -> list[OutboxRow]:
        """Rows whose dedupe key starts with `prefix`, oldest first.

        Messages that belong to no report (an approval card sent to every
        coordinator) are found again this way, to edit each copy later; end the
        prefix with a separator so `card:1:` does not also match `card:12:`.
        """
        query = (
            select(OutboxRow)
            .where(col(OutboxRow.dedupe_key).startswith(prefix, autoescape=True))
            .order_by(col(OutboxRow.id))
        )
        async with transaction(self._sessions, "read the queued messages") as session:
            return list((await session.exec(query)).all())

    async def backlog(self, now: datetime | None = None) -> Backlog:
        now = now or utcnow()
        due_query = select(func.count(), func.min(OutboxRow.next_attempt_at)).where(
            col(OutboxRow.state).in_(_UNSENT), col(OutboxRow.next_attempt_at) <= now
        )
        failed_query = select(func.count()).where(OutboxRow.state == OutboxState.FAILED)
        async with transaction(self._sessions, "measure the queue") as session:
            due, oldest = (await session.exec(due_query)).one()
            failed = (await session.exec(failed_query)).one()
        return Backlog(due=due, oldest_age=None if oldest is None else now - oldest, failed=failed)

    async def release_claims(self, worker_id: str, *, keep_chats: Collection[int] = ()) -> int:
        """Put back `worker_id`'s claimed rows outside `keep_chats` (the chats it is sending
        to); returns how many.

        A claim whose commit went through while its answer was lost with the connection
        leaves rows claimed by a worker that never saw them. Nothing is sending them, so
        they go back now instead of waiting out their lease.
        """
        release = (
            update(OutboxRow)
            .where(
                col(OutboxRow.claimed_by) == worker_id,
                col(OutboxRow.state) == OutboxState.SENDING,
                col(OutboxRow.chat_id).not_in(list(keep_chats)),
            )
            .values(state=OutboxState.PENDING, claimed_by=None, claimed_until=None)
            .execution_options(synchronize_session=False)
        )
        async with transaction(self._sessions, "put back lost claims") as session:
            result = await session.exec(release)
        return int(result.rowcount)
