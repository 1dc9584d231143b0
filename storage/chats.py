"""What the bot keeps about the scheme's chats: its personal join links, and its rights there."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import BotRights, ChatLink, utcnow
from storage.transaction import transaction


class ChatRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    # --- join links ------------------------------------------------------------------------

    async def add_link(self, link: ChatLink) -> ChatLink:
        async with transaction(self._sessions, "store the join link") as session:
            session.add(link)
        return link

    async def links_made_by(self, outbox_id: int) -> list[ChatLink]:
        """The links one delivery already made, so a retried delivery sends them again."""
        query = select(ChatLink).where(ChatLink.outbox_id == outbox_id)
        async with transaction(self._sessions, "read the join links") as session:
            return list((await session.exec(query.order_by(col(ChatLink.id)))).all())

    async def find_link(self, invite_link: str) -> ChatLink | None:
        query = select(ChatLink).where(ChatLink.invite_link == invite_link)
        async with transaction(self._sessions, "read the join link") as session:
            return (await session.exec(query)).one_or_none()

    async def open_links(self, member_id: int, chat_id: int, now: datetime) -> list[ChatLink]:
        """The member's links to that chat that still work (not revoked, not expired)."""
        query = select(ChatLink).where(
            ChatLink.member_id == member_id,
            ChatLink.chat_id == chat_id,
            col(ChatLink.revoked_at).is_(None),
            col(ChatLink.expires_at) > now,
        )
        async with transaction(self._sessions, "read the join links") as session:
            return list((await session.exec(query)).all())

    async def mark_revoked(self, link_ids: Collection[int], now: datetime | None = None) -> None:
        if not link_ids:
            return
        change = (
            update(ChatLink)
            .where(col(ChatLink.id).in_(list(link_ids)))
            .values(revoked_at=now or utcnow())
            .execution_options(synchronize_session=False)
        )
        async with transaction(self._sessions, "revoke the join links") as session:
            await session.exec(change)

    # --- the bot's rights ------------------------------------------------------------------

    async def record_rights(self, rights: BotRights) -> BotRights | None:
        """Store what Telegram says the bot may do in a chat; returns what was known before."""
        async with transaction(self._sessions, "store the bot's rights") as session:
            before = await session.get(BotRights, rights.chat_id)
            previous = None
            if before is not None:
                previous = BotRights.model_validate(before.model_dump())
                for name in ("status", *RIGHTS):
                    setattr(before, name, getattr(rights, name))
                before.checked_at = rights.checked_at
            else:
                session.add(rights)
        return previous

    async def rights(self, chat_id: int) -> BotRights | None:
        """None while the bot has never looked (start-up looks in every scheme chat)."""
        async with transaction(self._sessions, "read the bot's rights") as session:
            return await session.get(BotRights, chat_id)


RIGHTS = ("can_invite_users", "can_restrict_members", "can_delete_messages")
"""The administrator rights the bot needs in a scheme chat, as the Bot API names them."""
