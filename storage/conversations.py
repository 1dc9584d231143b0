"""Guided conversations and their scratch data, kept in the log's database between messages.

A shopkeeper halfway through a report must not start again because the bot was
redeployed. The bot keeps where each person stands in each conversation and
their per-user data (the draft) here, as JSON, through its Telegram persistence
(`bot.persistence`); this module knows nothing of Telegram.

Writes are single-statement upserts: the bot writes several people's data at
once, and a read-then-write would race on SQLite, where a transaction that read
before another committed may not write after it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlalchemy.sql.dml import UpdateBase
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import ConversationState, UserData, utcnow
from storage.transaction import transaction

logger = logging.getLogger(__name__)

ConversationKey = tuple[int | str, ...]
"""A conversation's key as Telegram bots build it: chat id, user id, maybe a message id."""


def check_json(value: object, where: str = "value") -> None:
    """Refuse what would not come back the same from JSON, naming where it is.

    `json.dumps` quietly turns integer keys into strings and tuples into lists;
    a draft that reads back different after a restart is a bug best caught when
    it is written, not when a member resumes.
    """
    if value is None or isinstance(value, str | bool | int | float):
        return
    if isinstance(value, list):
        for index, item in enumerate(value):
            check_json(item, f"{where}[{index}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"{where} has a key {key!r} that is not a string")
            check_json(item, f"{where}[{key!r}]")
        return
    raise TypeError(f"{where} is a {type(value).__name__}, which JSON does not keep")


def upsert(
    session: AsyncSession,
    table: type[ConversationState | UserData],
    values: Mapping[str, Any],
    keys: Sequence[str],
) -> UpdateBase:
    """INSERT, or UPDATE the row with the same `keys`: one statement on either database."""
    changes = {name: value for name, value in values.items() if name not in keys}
    if session.get_bind().dialect.name == "postgresql":
        on_postgres = postgresql.insert(table).values(**values)
        return on_postgres.on_conflict_do_update(index_elements=list(keys), set_=changes)
    on_sqlite = sqlite.insert(table).values(**values)
    return on_sqlite.on_conflict_do_update(index_elements=list(keys), set_=changes)


def encode_key(key: Sequence[int | str]) -> str:
    return json.dumps(list(key), separators=(",", ":"))


def decode_key(text: str) -> ConversationKey:
    return tuple(json.loads(text))


class ConversationRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def states(self, name: str) -> dict[ConversationKey, Any]:
        """Every open conversation of `name`, by key."""
        query = select(ConversationState).where(ConversationState.name == name)
        async with transaction(self._sessions, "read the conversations") as session:
            rows = (await session.exec(query)).all()
        return {decode_key(row.key): row.state for row in rows}

    async def set_state(
        self, name: str, key: Sequence[int | str], state: Any, *, now: datetime | None = None
    ) -> None:
        """Record where a conversation stands; None means it has ended and is forgotten."""
        encoded = encode_key(key)
        if state is None:
            async with transaction(self._sessions, "end the conversation") as session:
                await session.exec(
                    delete(ConversationState).where(
                        col(ConversationState.name) == name, col(ConversationState.key) == encoded
                    )
                )
            return
        check_json(state, "the conversation state")
        at = now or utcnow()
        async with transaction(self._sessions, "keep the conversation") as session:
            values = {"name": name, "key": encoded, "state": state, "updated_at": at}
            await session.exec(upsert(session, ConversationState, values, ["name", "key"]))

    async def all_user_data(self) -> dict[int, dict[str, Any]]:
        """Everyone's scratch data, by Telegram user id."""
        async with transaction(self._sessions, "read the user data") as session:
            rows = (await session.exec(select(UserData))).all()
        return {row.telegram_user_id: dict(row.data) for row in rows}

    async def user_data(self, telegram_user_id: int) -> dict[str, Any]:
        """One person's scratch data; empty when there is none."""
        async with transaction(self._sessions, "read the user data") as session:
            row = await session.get(UserData, telegram_user_id)
        return dict(row.data) if row is not None else {}

    async def set_user_data(
        self, telegram_user_id: int, data: Mapping[str, Any], *, now: datetime | None = None
    ) -> None:
        """Replace a person's scratch data; empty data is no row at all."""
        await self.set_many_user_data({telegram_user_id: data}, now=now)

    async def set_many_user_data(
        self, data: Mapping[int, Mapping[str, Any]], *, now: datetime | None = None
    ) -> None:
        """Replace several people's scratch data in one transaction (empty data: no row).

        The bot hands over everyone's changes at once; one commit for all of them keeps
        that burst from queueing in front of an alert's own writes."""
        documents = {user: dict(one) for user, one in data.items()}
        for document in documents.values():
            check_json(document, "the user data")
        at = now or utcnow()
        async with transaction(self._sessions, "keep the user data") as session:
            for user, document in documents.items():
                if not document:
                    await session.exec(
                        delete(UserData).where(col(UserData.telegram_user_id) == user)
                    )
                    continue
                values = {"telegram_user_id": user, "data": document, "updated_at": at}
                await session.exec(upsert(session, UserData, values, ["telegram_user_id"]))

    async def drop_user_data(self, telegram_user_id: int) -> None:
        async with transaction(self._sessions, "forget the user data") as session:
            await session.exec(
                delete(UserData).where(col(UserData.telegram_user_id) == telegram_user_id)
            )

    async def forget_idle(self, before: datetime) -> int:
        """Drop conversations and scratch data untouched since `before`; returns how many rows.

        A draft abandoned mid-way holds a description of a person; it must not
        outlive the conversation it was for.
        """
        async with transaction(self._sessions, "forget idle conversations") as session:
            states = await session.exec(
                delete(ConversationState).where(col(ConversationState.updated_at) < before)
            )
            data = await session.exec(delete(UserData).where(col(UserData.updated_at) < before))
            forgotten = int(states.rowcount) + int(data.rowcount)
        if forgotten:
            logger.info("forgot %d idle conversation rows", forgotten)
        return forgotten
