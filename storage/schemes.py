"""The schemes table follows the schemes file, which stays the single source of truth."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from config.errors import NotFoundError
from config.schemes import SchemeConfig, SchemesFile
from config.vocabulary import AuditOutcome, MemberStatus, Role, RoleOrigin
from storage.ids import stored_id
from storage.models import AuditEntry, Member, Scheme, utcnow
from storage.transaction import transaction

logger = logging.getLogger(__name__)

COORDINATOR_PLACEHOLDER_NAME = "Coordinator"
PLACEHOLDER_NAMES = {Role.COORDINATOR: COORDINATOR_PLACEHOLDER_NAME, Role.ADMIN: "Administrator"}
FILE_ROLES = (Role.COORDINATOR, Role.ADMIN)
"""The roles the schemes file hands out (and takes back)."""


@dataclass(frozen=True, slots=True)
class Synced:
    """The schemes as the file now has them, and whoever lost a role the file gave."""

    schemes: list[Scheme]
    demoted: list[Member]


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


def scheme_row(config: SchemeConfig) -> Scheme:
    """A new scheme's row, as the file declares it."""
    return Scheme(
        slug=config.slug,
        name=config.name,
        timezone=config.timezone,
        group_chat_id=config.group_chat_id,
        control_room_chat_id=config.control_room_chat_id,
        retention_days=config.retention_days,
        chat_ttl_hours=config.chat_ttl_hours,
        protect_content=config.protect_content,
    )


class SchemeRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def sync(self, schemes: SchemesFile) -> list[Scheme]:
        """Make the table match the file; safe to run at every start-up (see `follow`)."""
        return (await self.follow(schemes)).schemes

    async def follow(self, schemes: SchemesFile) -> Synced:
        """Make the table match the file and say whose role the file took away.

        Schemes missing from the file are kept: their reports stay in the log until
        retention removes them. Every listed coordinator becomes an active
        coordinator of the scheme, and every listed administrator an active
        administrator of every scheme, promoting an existing member if need be,
        except one who has been suspended or removed: that decision was made by a
        person. A coordinator or administrator the file made and no longer lists
        loses the role (a coordinator stays a member shop; an administrator, who
        was never one, is removed), and the trail says so, as the system's doing.
        Roles that came by invite are a person's decision and stay.
        """
        demoted: list[Member] = []
        async with transaction(self._sessions, "update the schemes") as session:
            existing = {row.slug: row for row in (await session.exec(select(Scheme))).all()}
            rows: list[Scheme] = []
            for config in schemes.schemes:
                row = existing.get(config.slug)
                if row is None:
                    row = scheme_row(config)
                    session.add(row)
                    logger.info("scheme %s added", config.slug)
                else:
                    _apply(row, config)
                rows.append(row)
            await session.flush()
            admins = list(dict.fromkeys(schemes.administrators))
            for config, row in zip(schemes.schemes, rows, strict=True):
                listed = {uid: Role.COORDINATOR for uid in config.coordinators}
                listed |= {uid: Role.ADMIN for uid in admins}
                for user_id, role in listed.items():
                    await self._ensure_role(session, row, user_id, role)
                demoted += await self._demote_unlisted(session, row, set(listed))
        return Synced(rows, demoted)

    async def _ensure_role(
        self, session: AsyncSession, scheme: Scheme, user_id: int, role: Role
    ) -> None:
        scheme_id = stored_id(scheme)
        member = (
            await session.exec(
                select(Member).where(
                    Member.scheme_id == scheme_id, Member.telegram_user_id == user_id
                )
            )
        ).one_or_none()
        if member is None:
            session.add(
                Member(
                    scheme_id=scheme_id,
                    telegram_user_id=user_id,
                    display_name=PLACEHOLDER_NAMES[role],
                    role=role,
                    role_origin=RoleOrigin.FILE,
                    status=MemberStatus.ACTIVE,
                    approved_at=utcnow(),
                )
            )
            logger.info("%s %s added to %s", role, user_id, scheme.slug)
            return
        if member.status in (MemberStatus.SUSPENDED, MemberStatus.REMOVED):
            logger.warning(
                "%s %s of %s is %s: left as it is", role, user_id, scheme.slug, member.status
            )
            return
        # Administrators come only from the file (nobody invites one), so the file's
        # word on the role is final: listed as both, administrator wins.
        member.role = role
        member.role_origin = RoleOrigin.FILE
        if member.status is MemberStatus.PENDING:
            member.status = MemberStatus.ACTIVE
            member.approved_at = utcnow()

    async def _demote_unlisted(
        self, session: AsyncSession, scheme: Scheme, listed: set[int]
    ) -> list[Member]:
        """The file's coordinators and administrators it no longer names lose the role."""
        scheme_id = stored_id(scheme)
        gone = (
            await session.exec(
                select(Member).where(
                    Member.scheme_id == scheme_id,
                    col(Member.role).in_(list(FILE_ROLES)),
                    Member.role_origin == RoleOrigin.FILE,
                    col(Member.telegram_user_id).not_in(listed or {0}),
                )
            )
        ).all()
        for member in gone:
            before = member.role
            member.role = Role.MEMBER
            member.role_origin = RoleOrigin.INVITE
            if before == Role.ADMIN and member.status != MemberStatus.REMOVED:
                member.status = MemberStatus.REMOVED
            session.add(
                AuditEntry(
                    actor_telegram_id=None,
                    scheme_id=scheme_id,
                    actor_member_id=None,
                    action="role_withdrawn",
                    outcome=AuditOutcome.ALLOWED,
                    detail={
                        "member_id": member.id,
                        "from": str(before),
                        "to": str(member.role),
                        "status": str(member.status),
                        "reason": "no longer in the schemes file",
                    },
                )
            )
            logger.warning(
                "%s %s of %s is no longer in the schemes file: now %s, %s",
                before,
                member.telegram_user_id,
                scheme.slug,
                member.role,
                member.status,
            )
        return list(gone)

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
