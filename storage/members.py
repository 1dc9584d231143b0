"""Who belongs to which scheme, in what role; the basis of every authorisation check."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from config.errors import DuplicateError, NotFoundError
from config.vocabulary import MemberStatus, Role
from storage.models import Invite, Member, Scheme, utcnow
from storage.outbox import Delivery
from storage.schemes import COORDINATOR_PLACEHOLDER_NAME
from storage.transaction import transaction

PLACEHOLDER_NAME_LIMIT = 64
"""Telegram's first and last names are 64 characters each; the full name is cut to that."""


@dataclass(frozen=True, slots=True)
class Applicant:
    """What a newcomer told the bot while joining: it becomes their pending membership."""

    telegram_user_id: int
    display_name: str
    username: str | None
    shop_name: str
    street: str


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

    async def name_placeholders(self, telegram_user_id: int, name: str) -> int:
        """Give `name` to the user's memberships still named by placeholder (a coordinator
        the schemes file listed before they ever spoke to the bot); how many changed."""
        name = " ".join(name.split())[:PLACEHOLDER_NAME_LIMIT]
        if not name:
            return 0
        query = select(Member).where(
            Member.telegram_user_id == telegram_user_id,
            Member.display_name == COORDINATOR_PLACEHOLDER_NAME,
        )
        async with transaction(self._sessions, "name the coordinator") as session:
            unnamed = list((await session.exec(query)).all())
            for member in unnamed:
                member.display_name = name
                session.add(member)
        return len(unnamed)

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

    async def set_weekly_digest(self, member_id: int, on: bool) -> Member:
        """Turn the member's Monday digest on or off."""
        async with transaction(self._sessions, "change the member's digest") as session:
            member = await session.get(Member, member_id, with_for_update=True)
            if member is None:
                raise NotFoundError(f"no member {member_id}")
            member.weekly_digest = on
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

    async def count_active(self, scheme_id: int, role: Role, *, besides: int | None = None) -> int:
        """How many active members of `role` the scheme has, `besides` one (the reporter):
        counted in the database, as an alert's confirmation needs the number alone."""
        query = select(func.count()).where(
            Member.scheme_id == scheme_id,
            Member.status == MemberStatus.ACTIVE,
            Member.role == role,
        )
        if besides is not None:
            query = query.where(col(Member.id) != besides)
        async with transaction(self._sessions, "count the members") as session:
            return int((await session.exec(query)).one())

    async def join(self, invite_id: int, applicant: Applicant, now: datetime) -> Member:
        """Use up the invite and make the applicant a pending member: both, or neither.

        `NotFoundError` if the invite is used, expired or unknown by now (two people
        may have opened one link); `DuplicateError` if the applicant already belongs
        to the scheme. Someone who was removed may come back with a new invite: their
        row is reopened, so the scheme's history of them stays in one place.
        """
        claim = (
            update(Invite)
            .where(
                col(Invite.id) == invite_id,
                col(Invite.used_at).is_(None),
                col(Invite.expires_at) > now,
            )
            .values(used_at=now, used_by=applicant.telegram_user_id)
            .returning(Invite)
            .execution_options(synchronize_session=False)
        )
        async with transaction(self._sessions, "store the new member") as session:
            invite: Invite | None = (await session.exec(claim)).scalars().one_or_none()
            if invite is None:
                raise NotFoundError("this invite code is unknown, already used or expired")
            member = (
                await session.exec(
                    select(Member).where(
                        Member.scheme_id == invite.scheme_id,
                        Member.telegram_user_id == applicant.telegram_user_id,
                    )
                )
            ).one_or_none()
            if member is None:
                member = Member(
                    scheme_id=invite.scheme_id,
                    telegram_user_id=applicant.telegram_user_id,
                    display_name=applicant.display_name,
                )
                session.add(member)
            elif member.status is not MemberStatus.REMOVED:
                raise DuplicateError(f"already a {member.status} member of the scheme")
            member.display_name = applicant.display_name
            member.username = applicant.username
            member.shop_name = applicant.shop_name
            member.street = applicant.street
            member.role = invite.role
            member.status = MemberStatus.PENDING
            member.agreement_accepted_at = now
            member.approved_by = None
            member.approved_at = None
        return member

    async def transition(
        self,
        member_id: int,
        status: MemberStatus,
        *,
        allowed_from: Collection[MemberStatus],
        by: int,
        now: datetime | None = None,
        then: Sequence[Delivery] = (),
    ) -> tuple[Member, bool]:
        """Move a member to `status` only from one of `allowed_from`, in one statement.

        Returns the member as it now is and whether this call changed it, so two
        coordinators pressing Approve at once approve once and the second is told
        it was done already. Activating records `by` (a Telegram id) as approver.
        `then` is queued in the same transaction, only if this call changed the
        member: the bans or join links a decision brings are queued with it or not at all.
        """
        values: dict[str, object] = {"status": status}
        if status is MemberStatus.ACTIVE:
            values |= {"approved_by": by, "approved_at": now or utcnow()}
        change = (
            update(Member)
            .where(col(Member.id) == member_id, col(Member.status).in_(list(allowed_from)))
            .values(**values)
            .returning(col(Member.id))
            .execution_options(synchronize_session=False)
        )
        async with transaction(self._sessions, "change the member's status") as session:
            changed = (await session.exec(change)).scalars().one_or_none() is not None
            member = await session.get(Member, member_id, populate_existing=True)
            if changed and member is not None:
                for delivery in then:
                    session.add(delivery.to_row(member.scheme_id, None))
        if member is None:
            raise NotFoundError(f"no member {member_id}")
        return member, changed
