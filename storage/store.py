"""The log as one object: open it once at start-up, pass it to whoever needs it."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from config.errors import StorageError
from storage.audit import AuditLog
from storage.chats import ChatRepository
from storage.conversations import ConversationRepository
from storage.engine import create_engine, is_sqlite, make_session_factory, parse_url, sqlite_file
from storage.invites import InviteRepository
from storage.members import MemberRepository
from storage.migrate import head_revision, revision_of, upgrade
from storage.outbox import OutboxRepository
from storage.reports import ReportRepository
from storage.schemes import SchemeRepository
from storage.search import ReportSearch
from storage.subjects import SubjectRepository

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Store:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    long_reads: async_sessionmaker[AsyncSession]
    """For a read that takes seconds (an export's): on SQLite a connection of its own, so
    it does not hold the one every alert's transactions queue for (`storage.engine`)."""
    reading_engine: AsyncEngine
    url: str
    """The address it was opened with, for a process of the bot's own (the export's)."""
    schemes: SchemeRepository
    members: MemberRepository
    invites: InviteRepository
    reports: ReportRepository
    outbox: OutboxRepository
    audit: AuditLog
    search: ReportSearch
    conversations: ConversationRepository
    subjects: SubjectRepository
    chats: ChatRepository

    @classmethod
    async def open(cls, url: str, *, migrate: bool = True) -> Store:
        """Connect, migrating first unless told not to.

        Without `migrate`, a database that is not at this code's revision is
        refused with a `StorageError` naming both, rather than failing later on a
        missing column in the middle of an alert.
        """
        if migrate:
            await upgrade(url)
        engine = create_engine(url)
        try:
            if not migrate:
                await _check_revision(engine)
        except BaseException:
            await engine.dispose()
            raise
        sessions = make_session_factory(engine)
        on_file = is_sqlite(parse_url(url)) and sqlite_file(parse_url(url)) is not None
        reading_engine = create_engine(url) if on_file else engine  # in memory: one database
        long_reads = (
            make_session_factory(reading_engine) if reading_engine is not engine else sessions
        )
        audit = AuditLog(sessions)
        return cls(
            engine=engine,
            sessions=sessions,
            long_reads=long_reads,
            reading_engine=reading_engine,
            url=url,
            schemes=SchemeRepository(sessions),
            members=MemberRepository(sessions),
            invites=InviteRepository(sessions),
            reports=ReportRepository(sessions),
            outbox=OutboxRepository(sessions),
            audit=audit,
            search=ReportSearch(sessions, audit),
            conversations=ConversationRepository(sessions),
            subjects=SubjectRepository(sessions),
            chats=ChatRepository(sessions),
        )

    @property
    def backend(self) -> str:
        """ "sqlite" or "postgresql"."""
        return self.engine.dialect.name

    @property
    def shared(self) -> bool:
        """Whether another process can open this log: not a SQLite database in memory."""
        url = parse_url(self.url)
        return not is_sqlite(url) or sqlite_file(url) is not None

    async def close(self) -> None:
        if self.reading_engine is not self.engine:
            await self.reading_engine.dispose()
        await self.engine.dispose()


async def _check_revision(engine: AsyncEngine) -> None:
    try:
        async with engine.connect() as connection:
            current = await connection.run_sync(revision_of)
    except (DBAPIError, OSError) as exc:
        raise StorageError(f"could not open the database: {exc}") from exc
    expected = head_revision()
    if current != expected:
        raise StorageError(
            f"the database is at revision {current or 'none'} but this version needs "
            f"{expected}: run `shopwatch migrate`"
        )
