"""One database URL in, an async engine out; what differs between SQLite and PostgreSQL stays here.

SQLite is the single-town default and must behave like a server database where it
matters: WAL so another process (a command, a backup) can read while the bot writes,
foreign keys on so retention's cascades happen, and a busy timeout so two processes'
writers wait for each other instead of failing an alert.

Within the bot's process SQLite gets one connection, and the pool in front of it is the
queue. SQLite takes one writer at a time; two connections of one process that both
write meet in SQLite's busy handler, which sleeps in growing steps (1, 2, 5, 10 ... 100
ms) until the lock is free, so an alert's writes waited behind the outbox's and the
persistence's for up to a tenth of a second each, and a transaction that read before
another committed could not write at all. Measured on the alert-latency benchmark: text
p99 471 ms with the default pool, 197 ms with one connection. Reads wait their turn
too; each is a few milliseconds, and the one long read (an export's) is its own.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

from config.errors import StorageError
from storage.files import private_dir, tighten, touch_private

logger = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 5000
SQLITE_LOCKED_OUT_MS = 100
"""The wait once another program has held the write lock past the whole busy timeout.

With one connection the transactions queue, and each would wait the whole timeout in
turn: the third in line would hear "not stored" after three times as long. The first
waits it out; those after it, until the lock has been free for a busy timeout's length,
wait only this long."""
SQLITE_CONNECTIONS = 1
"""See the module's docstring: the process's transactions queue in the pool, not in SQLite."""
_DRIVERS = ("sqlite+aiosqlite", "postgresql+asyncpg")


def parse_url(url: str) -> URL:
    """Accept only the two async drivers the log is tested on."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(f"not a database URL: {exc}") from None
    if parsed.drivername not in _DRIVERS:
        raise StorageError(
            f"unsupported database driver {parsed.drivername!r}: use sqlite+aiosqlite:// "
            "or postgresql+asyncpg://"
        )
    return parsed


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def sqlite_file(url: URL) -> Path | None:
    """The file behind a SQLite URL, or None for an in-memory database."""
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return Path(database)


def create_engine(url: str, *, migrating: bool = False) -> AsyncEngine:
    """Build the engine for `url`, creating a SQLite file's directory first.

    `migrating=True` is for `storage.migrate` only. On SQLite it turns foreign keys
    off (SQLite alters a table by rebuilding it, and dropping the old copy of
    `report` with foreign keys on would cascade-delete every photo and event) and
    wraps each transaction in an explicit BEGIN IMMEDIATE so a migration is all or
    nothing; the Python driver on its own would run DDL outside any transaction.
    """
    parsed = parse_url(url)
    options: dict[str, Any] = {}
    if is_sqlite(parsed):
        path = sqlite_file(parsed)
        if path is not None:
            try:
                private_dir(path.parent)
                # The log holds people's data: the file is the owner's alone, and SQLite
                # gives its WAL and shared-memory files the database file's mode.
                touch_private(path)
                for suffix in ("-wal", "-shm", "-journal"):  # left by an older version
                    tighten(path.with_name(path.name + suffix))
            except OSError as exc:
                raise StorageError(f"cannot create the database directory: {exc}") from None
            options["pool_size"] = SQLITE_CONNECTIONS  # (an in-memory database has one anyway)
            options["max_overflow"] = 0
    else:
        # A bot runs for weeks; connections dropped by the server must not fail an alert.
        options["pool_pre_ping"] = True
    engine = create_async_engine(parsed, **options)
    if is_sqlite(parsed):
        _configure_sqlite(engine, migrating=migrating)
    return engine


def _configure_sqlite(engine: AsyncEngine, *, migrating: bool) -> None:
    pragmas = (
        "PRAGMA journal_mode=WAL",
        f"PRAGMA foreign_keys={'OFF' if migrating else 'ON'}",
        f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
        # A deleted row's bytes are overwritten, not left in free space (retention).
        "PRAGMA secure_delete=ON",
    )

    locked_out = _LockedOut()

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        _execute(dbapi_connection, *pragmas)
        record.info[_BUSY_TIMEOUT] = SQLITE_BUSY_TIMEOUT_MS
        if migrating:
            dbapi_connection.isolation_level = None

    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        if _is_locked(context.original_exception):
            locked_out.until = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        wait = (
            SQLITE_LOCKED_OUT_MS if time.monotonic() < locked_out.until else SQLITE_BUSY_TIMEOUT_MS
        )
        if record.info.get(_BUSY_TIMEOUT) != wait:
            _execute(dbapi_connection, f"PRAGMA busy_timeout={wait}")
            record.info[_BUSY_TIMEOUT] = wait

    if migrating:

        @event.listens_for(engine.sync_engine, "begin")
        def _on_begin(connection: Connection) -> None:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


_BUSY_TIMEOUT = "shopwatch_busy_timeout_ms"


@dataclass
class _LockedOut:
    until: float = 0.0
    """`time.monotonic()` until which a transaction waits `SQLITE_LOCKED_OUT_MS` at most."""


def _is_locked(error: BaseException | None) -> bool:
    return isinstance(error, sqlite3.OperationalError) and "locked" in str(error)


def _execute(dbapi_connection: Any, *statements: str) -> None:
    cursor = dbapi_connection.cursor()
    try:
        for statement in statements:
            cursor.execute(statement)
    finally:
        cursor.close()


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit, since callers use them afterwards."""
    return async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
