"""The audit trail: every search, view, export and refusal, for the coordinator and the police."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from config.vocabulary import AuditOutcome
from storage.models import AuditEntry
from storage.transaction import transaction


class AuditLog:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(
        self,
        actor_telegram_id: int | None,
        action: str,
        outcome: AuditOutcome,
        *,
        scheme_id: int | None = None,
        actor_member_id: int | None = None,
        detail: Mapping[str, Any] | None = None,
    ) -> AuditEntry:
        """Write one entry; the actor is a Telegram user id, None for the bot's own jobs.

        `detail` must be JSON-serialisable; name records by id rather than copying
        what they say, so the trail does not become a second copy of the log.
        """
        entry = AuditEntry(
            actor_telegram_id=actor_telegram_id,
            actor_member_id=actor_member_id,
            scheme_id=scheme_id,
            action=action,
            outcome=AuditOutcome(outcome),
            detail=dict(detail or {}),
        )
        async with transaction(self._sessions, "write the audit entry") as session:
            session.add(entry)
        return entry

    async def recent(
        self, limit: int = 50, *, scheme_id: int | None = None, actor: int | None = None
    ) -> list[AuditEntry]:
        """Newest first."""
        query = select(AuditEntry)
        if scheme_id is not None:
            query = query.where(AuditEntry.scheme_id == scheme_id)
        if actor is not None:
            query = query.where(AuditEntry.actor_telegram_id == actor)
        query = query.order_by(col(AuditEntry.at).desc(), col(AuditEntry.id).desc()).limit(limit)
        async with transaction(self._sessions, "read the audit trail") as session:
            return list((await session.exec(query)).all())

    async def of_actions(self, scheme_id: int | None, prefixes: Sequence[str]) -> list[AuditEntry]:
        """The entries (of one scheme, or of all) whose action starts with one of `prefixes`,
        oldest first: e.g. everything done with subjects, for a subject access request."""
        query = select(AuditEntry).where(
            or_(*(col(AuditEntry.action).startswith(prefix) for prefix in prefixes))
        )
        if scheme_id is not None:
            query = query.where(AuditEntry.scheme_id == scheme_id)
        query = query.order_by(col(AuditEntry.at), col(AuditEntry.id))
        async with transaction(self._sessions, "read the audit trail") as session:
            return list((await session.exec(query)).all())
