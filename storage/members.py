"""Who belongs to which scheme, in what role; the basis of every authorisation check."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from config.errors import NotFoundError
from storage.enums import MemberStatus
from storage.models import Member, Scheme, utcnow
from storage.transaction import transaction


class MemberRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def get(self, scheme_id: int, telegram_user_id: int) -> Member | None:
        """The user's membership of this scheme in any status; None if they never joined."""
        async with transaction(self._sessions, "read the member") as session:
            return (
                await session.exec(
                    select(Member).where(
                        Member.scheme_id == scheme_id, Member.telegram_user_id == telegram_user_id
                    )
                )
            ).one_or_none()

    async def get_by_id(self, member_id: int) -> Member:
        async with transaction(self._sessions, "read the member") as session:
            member = await session.get(Member, member_id)
        if member is None:
            raise NotFoundError(f"no member {member_id}")
        return member

    async def find_active(self, telegram_user_id: int) -> list[Member]:
        """Every scheme the user may alert in now, e.g. to ask which one a private chat is for."""
        async with transaction(self._sessions, "read the member") as session:
            return list(
                (
                    await session.exec(
                        select(Member)
                        .where(
                            Member.telegram_user_id == telegram_user_id,
                            Member.status == MemberStatus.ACTIVE,
                        )
                        .order_by(col(Member.scheme_id))
                    )
                ).all()
            )

    async def for_user(self, telegram_user_id: int) -> list[tuple[Member, Scheme]]:
        """Every membership the user has, in any status, with its scheme: the access check."""
        query = (
            select(Member, Scheme)
            .join(Scheme, col(Scheme.id) == col(Member.scheme_id))
            .where(Member.telegram_user_id == telegram_user_id)
            .order_by(col(Scheme.slug))
        )
        async with transaction(self._sessions, "read the member") as session:
            return [(member, scheme) for member, scheme in (await session.exec(query)).all()]

    async def add(self, member: Member) -> Member:
        """Store a new member; `DuplicateError` if they already belong to that scheme."""
        async with transaction(self._sessions, "add the member") as session:
            session.add(member)
        return member

    async def set_status(
        self,
        member_id: int,
        status: MemberStatus,
        *,
        by: int | None = None,
        now: datetime | None = None,
    ) -> Member:
        """Change a member's status; activating records who approved them (`by`, a Telegram id)."""
        async with transaction(self._sessions, "change the member's status") as session:
            member = await session.get(Member, member_id, with_for_update=True)
            if member is None:
                raise NotFoundError(f"no member {member_id}")
            member.status = status
            if status is MemberStatus.ACTIVE and by is not None:
                member.approved_by = by
                member.approved_at = now or utcnow()
        return member

    async def list_by_status(self, scheme_id: int, status: MemberStatus) -> list[Member]:
        """Oldest first, so a coordinator approves people in the order they asked."""
        async with transaction(self._sessions, "list the members") as session:
            return list(
                (
                    await session.exec(
                        select(Member)
                        .where(Member.scheme_id == scheme_id, Member.status == status)
                        .order_by(col(Member.created_at), col(Member.id))
                    )
                ).all()
            )
