"""The schemes table follows the schemes file, which stays the single source of truth."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from config.errors import NotFoundError
from config.schemes import SchemeConfig, SchemesFile
from storage.enums import MemberStatus, Role
from storage.models import Member, Scheme, utcnow
from storage.transaction import transaction

logger = logging.getLogger(__name__)

COORDINATOR_PLACEHOLDER_NAME = "Coordinator"


def _apply(row: Scheme, config: SchemeConfig) -> None:
    # Assigning an unchanged value is no change to the ORM, so updated_at only
    # moves when the file really changed.
    row.name = config.name
    row.timezone = config.timezone
    row.group_chat_id = config.group_chat_id
    row.control_room_chat_id = config.control_room_chat_id
    row.retention_days = config.retention_days
    row.chat_ttl_hours = config.chat_ttl_hours
    row.protect_content = config.protect_content


class SchemeRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def sync(self, schemes: SchemesFile) -> list[Scheme]:
        """Make the table match the file; safe to run at every start-up.

        Schemes missing from the file are kept: their reports stay in the log until
        retention removes them. Every listed coordinator becomes an active
        coordinator of the scheme, promoting an existing member if need be, except
        one who has been suspended or removed: that decision was made by a person.
        """
        async with transaction(self._sessions, "update the schemes") as session:
            existing = {row.slug: row for row in (await session.exec(select(Scheme))).all()}
            rows: list[Scheme] = []
            for config in schemes.schemes:
                row = existing.get(config.slug)
                if row is None:
                    row = Scheme(
                        slug=config.slug,
                        name=config.name,
                        timezone=config.timezone,
                        group_chat_id=config.group_chat_id,
                        control_room_chat_id=config.control_room_chat_id,
                        retention_days=config.retention_days,
                        chat_ttl_hours=config.chat_ttl_hours,
                        protect_content=config.protect_content,
                    )
                    session.add(row)
                    logger.info("scheme %s added", config.slug)
                else:
                    _apply(row, config)
                rows.append(row)
            await session.flush()
            for config, row in zip(schemes.schemes, rows, strict=True):
                await self._ensure_coordinators(session, row, config.coordinators)
        return rows

    async def _ensure_coordinators(
        self, session: AsyncSession, scheme: Scheme, telegram_user_ids: list[int]
    ) -> None:
        assert scheme.id is not None
        for user_id in telegram_user_ids:
            member = (
                await session.exec(
                    select(Member).where(
                        Member.scheme_id == scheme.id, Member.telegram_user_id == user_id
                    )
                )
            ).one_or_none()
            if member is None:
                session.add(
                    Member(
                        scheme_id=scheme.id,
                        telegram_user_id=user_id,
                        display_name=COORDINATOR_PLACEHOLDER_NAME,
                        role=Role.COORDINATOR,
                        status=MemberStatus.ACTIVE,
                        approved_at=utcnow(),
                    )
                )
                logger.info("coordinator %s added to %s", user_id, scheme.slug)
                continue
            if member.status in (MemberStatus.SUSPENDED, MemberStatus.REMOVED):
                logger.warning(
                    "coordinator %s of %s is %s: left as it is",
                    user_id,
                    scheme.slug,
                    member.status,
                )
                continue
            if member.role not in (Role.COORDINATOR, Role.ADMIN):
                member.role = Role.COORDINATOR
            if member.status is MemberStatus.PENDING:
                member.status = MemberStatus.ACTIVE
                member.approved_at = utcnow()

    async def get(self, scheme_id: int) -> Scheme:
        async with transaction(self._sessions, "read the scheme") as session:
            row = await session.get(Scheme, scheme_id)
        if row is None:
            raise NotFoundError(f"no scheme {scheme_id}")
        return row

    async def get_by_slug(self, slug: str) -> Scheme:
        async with transaction(self._sessions, "read the scheme") as session:
            row = (await session.exec(select(Scheme).where(Scheme.slug == slug))).one_or_none()
        if row is None:
            raise NotFoundError(f"no scheme {slug!r}")
        return row

    async def get_by_chat_id(self, chat_id: int) -> Scheme | None:
        """The scheme whose group or control room this chat is; None for any other chat.

        Should a scheme dropped from the file still name the chat, the one most
        recently changed wins, which is the one the file now declares.
        """
        async with transaction(self._sessions, "read the scheme") as session:
            return (
                await session.exec(
                    select(Scheme)
                    .where(
                        or_(
                            Scheme.group_chat_id == chat_id, Scheme.control_room_chat_id == chat_id
                        )
                    )
                    .order_by(col(Scheme.updated_at).desc(), col(Scheme.id).desc())
                    .limit(1)
                )
            ).first()

    async def list_all(self) -> list[Scheme]:
        async with transaction(self._sessions, "read the schemes") as session:
            return list((await session.exec(select(Scheme).order_by(col(Scheme.slug)))).all())
