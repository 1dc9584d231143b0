"""`shopwatch worker`: one more outbox sender beside the process that receives updates.

It builds the bot exactly as `shopwatch run` does (`bot.app.build_application`),
so its senders, rate limiter and settings are the same, but it starts nothing
of the Application: no polling or webhook, no scheduled jobs, no conversation
persistence (its writes would race the receiving process's). Only the outbox
worker runs, with the federation sender; the radio's rows stay with the
receiving process, which holds the radio links.

It serves `/healthz`, `/readyz` and `/metrics` on `SHOPWATCH_WORKER_PORT`, so an
orchestrator can probe it and Prometheus can count the copies it sends: its
counters are its own, as every process's are.

SQLite is single-process: the worker refuses to start on it.
"""

from __future__ import annotations

import logging

from aiohttp import web

from bot import cli_texts
from bot.app import ShopWatchApplication, build_application
from bot.health import Readiness
from bot.web import build_health_app, serve
from broadcast.outbox import OutboxWorker
from config.errors import ConfigError
from config.schemes import SchemesFile
from config.settings import Settings
from handlers.context import Services
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
        self._application: ShopWatchApplication | None = None
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        """Where its health, readiness and metrics are served, once started."""

    @property
    def services(self) -> Services:
        services = None if self._application is None else self._application.bot_data.services
        if services is None:
            raise RuntimeError("the worker is not started")
        return services

    @property
    def outbox(self) -> OutboxWorker:
        return self.services.outbox

    async def start(self) -> None:
        private_dir(self.settings.data_dir)
        # The receiving process migrates; a worker on an older or newer schema stops here.
        self._store = await Store.open(self.settings.database_url, migrate=False)
        self._application = build_application(
            self.settings, self.schemes, self._store, webhook=True, jobs=False
        )
        await self._application.bot.initialize()
        await self._serve_health()  # a taken port stops it before it sends anything
        outbox = self.outbox
        outbox.beside_receiver()
        if self.services.federation is not None:
            self.services.federation.start(outbox)
        outbox.start()
        logger.info("outbox worker %s is running", outbox.worker_id)

    async def _serve_health(self) -> None:
        services = self.services
        assert self._application is not None
        readiness = Readiness(
            services.store, self._application.bot, services.metrics, shards=self.outbox.shards
        )
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
        application, self._application = self._application, None
        if application is not None:
            services = application.bot_data.services
            if services is not None:
                await services.outbox.stop()
                if services.federation is not None:
                    await services.federation.stop()
            await application.bot.shutdown()
        store, self._store = self._store, None
        if store is not None:
            await store.close()
