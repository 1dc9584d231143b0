"""Hear of outbox rows queued by other processes the moment they commit (PostgreSQL).

Migration 0004's trigger calls `pg_notify('shopwatch_outbox', shard)` for every row
inserted into the outbox, whichever repository inserted it; PostgreSQL delivers
it when the transaction commits, so a listener never hears of a row it cannot
claim yet. Without it a `shopwatch worker` would find another process's rows on
its next idle poll, up to a second late.

The listener holds a connection of its own (asyncpg, outside SQLAlchemy's pool: a
LISTEN belongs to one session for as long as it lasts). When that connection goes
(a restart of the server, a network cut, `pg_terminate_backend`) it connects again
with back-off; meanwhile the worker's idle poll still finds every row, only later.
After each (re)connect it reports "something may be queued", as rows committed
while it was deaf were heard by nobody.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine

from config.backoff import Backoff

logger = logging.getLogger(__name__)

CHANNEL = "shopwatch_outbox"
RECONNECT = Backoff(first=0.5, most=30.0)
KEEPALIVE_SECONDS = 30.0
"""How often an idle listening connection is checked: a half-open TCP connection
tells nobody it is gone, and a listener on it would hear nothing for hours."""
CONNECT_TIMEOUT_SECONDS = 10.0

Queued = Callable[[int | None], None]
"""Called with the shard of a queued row's chat, or None when any shard may have rows."""


class OutboxListener:
    """LISTENs for queued outbox rows and reports each one's shard to `on_queued`."""

    def __init__(self, engine: AsyncEngine, on_queued: Queued) -> None:
        # The engine's own connection arguments (host, user, ssl...), so the listener
        # reaches the database exactly as the pool does.
        _, self._connect_args = engine.dialect.create_connect_args(engine.url)
        self._on_queued = on_queued
        self._task: asyncio.Task[None] | None = None
        self.connections = 0
        """How many times listening has started: 2 after one reconnect."""
        self.backend_pid: int | None = None
        """The server process of the listening connection, while there is one."""

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="shopwatch-outbox-listener")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        failures = 0
        while True:
            lost = asyncio.Event()
            try:
                connection = await self._listen(lost)
            except Exception as exc:  # whatever it is, the idle poll goes on
                failures += 1
                delay = RECONNECT.seconds(failures)
                logger.warning(
                    "not listening for queued outbox rows (%s); polling, retrying in %.1fs",
                    exc,
                    delay,
                )
                await asyncio.sleep(delay)
                continue
            failures = 0
            try:
                self._on_queued(None)
                await self._until_lost(connection, lost)
                logger.warning("outbox listener lost its connection; reconnecting")
            finally:
                self.backend_pid = None
                await _close(connection)

    async def _listen(self, lost: asyncio.Event) -> asyncpg.Connection:
        connection = await asyncpg.connect(**self._connect_args, timeout=CONNECT_TIMEOUT_SECONDS)
        try:
            connection.add_termination_listener(lambda _connection: lost.set())
            await connection.add_listener(CHANNEL, self._notified)
        except BaseException:
            await _close(connection)
            raise
        self.backend_pid = connection.get_server_pid()
        self.connections += 1
        if self.connections > 1:
            logger.info("outbox listener listening again")
        return connection

    async def _until_lost(self, connection: asyncpg.Connection, lost: asyncio.Event) -> None:
        while not connection.is_closed():
            try:
                await asyncio.wait_for(lost.wait(), KEEPALIVE_SECONDS)
                return
            except TimeoutError:
                pass
            try:
                await connection.execute("SELECT 1", timeout=CONNECT_TIMEOUT_SECONDS)
            except Exception as exc:  # any failure means the session is gone
                logger.debug("outbox listener keepalive failed: %s", exc)
                return

    def _notified(
        self, _connection: asyncpg.Connection, _pid: int, _channel: str, payload: str
    ) -> None:
        try:
            shard: int | None = int(payload)
        except ValueError:
            shard = None
        self._on_queued(shard)


async def _close(connection: asyncpg.Connection) -> None:
    """Close quietly: a connection already dead has nothing to say."""
    try:
        await asyncio.wait_for(connection.close(), CONNECT_TIMEOUT_SECONDS)
    except Exception:  # a dead connection cannot close politely
        connection.terminate()
