"""`shopwatch worker`: one more outbox sender beside the process that receives updates.

It builds its bot and its sending side as `shopwatch run` does (`bot.services`),
so its senders, rate limiter, connection pool and settings are the same, and
nothing else: no Application, no handlers, no polling or webhook, no scheduled
jobs, no conversation persistence (its writes would race the receiving
process's), no radio. The radio's rows stay with the receiving process, which
holds the radio links.

It serves `/healthz`, `/readyz` and `/metrics` on `SHOPWATCH_WORKER_PORT`, so an
orchestrator can probe it and Prometheus can count the copies it sends: its
counters are its own, as every process's are.

SQLite is single-process: the worker refuses to start on it.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot import cli_texts
from bot.health import Readiness
from bot.services import Sending, ShopWatchBot, build_sending, telegram_bot
from bot.web import build_health_app, serve
from broadcast.outbox import OutboxWorker
from config.errors import ConfigError
from config.schemes import SchemesFile
from config.settings import Settings
from storage.files import private_dir
from storage.store import Store

logger = logging.getLogger(__name__)


def refuse_sqlite(settings: Settings) -> None:
    if not settings.database_url.startswith("postgresql"):
        raise ConfigError(cli_texts.WORKER_NEEDS_POSTGRESQL)


class OutboxProcess:
    """The outbox worker of a `shopwatch worker` process; `start()` returns once it runs."""

    def __init__(self, settings: Settings, schemes: SchemesFile) -> None:
        refuse_sqlite(settings)
        self.settings = settings
        self.schemes = schemes
        self._store: Store | None = None
        self._bot: ShopWatchBot | None = None
        self._sending: Sending | None = None
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        """Where its health, readiness and metrics are served, once started."""

    @property
    def sending(self) -> Sending:
        if self._sending is None:
            raise RuntimeError("the worker is not started")
        return self._sending

    @property
    def outbox(self) -> OutboxWorker:
        return self.sending.outbox

    async def start(self) -> None:
        private_dir(self.settings.data_dir)
        # The receiving process migrates; a worker on an older or newer schema stops here.
        store = self._store = await Store.open(self.settings.database_url, migrate=False)
        bot = self._bot = telegram_bot(self.settings, polling=False)
        self._sending = build_sending(self.settings, self.schemes, store, bot, receiving=False)
        await bot.initialize()
        await self._serve_health(store, bot)  # a taken port stops it before it sends anything
        await self.sending.start()
        logger.info("outbox worker %s is running", self.outbox.worker_id)

    async def _serve_health(self, store: Store, bot: ShopWatchBot) -> None:
        readiness = Readiness(store, bot, self.sending.metrics, shards=self.outbox.shards)
        host, port = self.settings.listen_host, self.settings.worker_port
        try:
            self._runner, self.port = await serve(
                build_health_app(readiness, self.settings.metrics_token), host, port
            )
        except OSError as exc:
            await self.stop()
            raise ConfigError(cli_texts.worker_port_taken(host, port, exc.strerror)) from None
        logger.info("worker health, readiness and metrics on port %s", self.port)

    async def stop(self) -> None:
        """Finish the chats in hand and hand the shards back, so others take over at once."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        sending, self._sending = self._sending, None
        if sending is not None:
            await sending.stop()
            await sending.close()
        bot, self._bot = self._bot, None
        if bot is not None:
            await bot.shutdown()
        store, self._store = self._store, None
        if store is not None:
            await store.close()
