"""Start and stop the whole bot: the log, the Application, polling or webhook, the web app.

`shopwatch run`, the demo and the tests all go through `BotRuntime`, so what the
tests prove is what production runs.
"""

from __future__ import annotations

import logging
import socket

from aiohttp import web

from bot.app import ALLOWED_UPDATES, ShopWatchApplication, build_application
from bot.chat_rights import check_rights, roles_withdrawn
from bot.health import Readiness
from bot.miniapp import add_miniapp_routes, miniapp_for
from bot.plugins import P, Plugin, find
from bot.services import Sending, build_sending, build_services, telegram_bot
from bot.web import build_web_app, serve
from broadcast.outbox import OutboxWorker
from config.schemes import SchemesFile
from config.settings import Settings
from handlers.context import Services
from storage.files import private_dir, tighten_tree
from storage.store import Store

logger = logging.getLogger(__name__)


class BotRuntime:
    """One running deployment; `start()` returns once it is receiving updates."""

    def __init__(
        self,
        settings: Settings,
        schemes: SchemesFile,
        *,
        listen_socket: socket.socket | None = None,
    ) -> None:
        """`listen_socket`, already bound, is served instead of listen_host:listen_port."""
        self.settings = settings
        self.schemes = schemes
        self._listen_socket = listen_socket
        self._store: Store | None = None
        self._application: ShopWatchApplication | None = None
        self._sending: Sending | None = None
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            raise RuntimeError("the runtime is not started")
        return self._store

    @property
    def application(self) -> ShopWatchApplication:
        if self._application is None:
            raise RuntimeError("the runtime is not started")
        return self._application

    @property
    def services(self) -> Services:
        services = self.application.bot_data.services
        if services is None:
            raise RuntimeError("the runtime is not started")
        return services

    @property
    def outbox(self) -> OutboxWorker:
        return self.services.outbox

    @property
    def plugins(self) -> tuple[Plugin, ...]:
        if self._sending is None:
            raise RuntimeError("the runtime is not started")
        return self._sending.plugins

    def plugin(self, kind: type[P]) -> P | None:
        """The running feature of that class, if this deployment has it."""
        return find(self.plugins, kind)

    async def start(self) -> None:
        settings = self.settings
        private_dir(settings.data_dir)
        tighten_tree(settings.data_dir)  # what an older version left readable to others
        self._store = await Store.open(settings.database_url, migrate=True)
        synced = await self._store.schemes.follow(self.schemes)
        webhook = settings.webhook_url is not None
        bot = telegram_bot(settings, polling=not webhook)
        sending = self._sending = build_sending(
            settings, self.schemes, self._store, bot, receiving=True
        )
        services = build_services(settings, self.schemes, sending)
        self._application = build_application(
            settings, self._store, bot, services, sending.plugins, webhook=webhook
        )
        application = self._application
        await application.initialize()
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        await check_rights(application.bot, self._store, self.schemes)
        await roles_withdrawn(self._store, self.schemes, synced.demoted)
        if self._store.backend == "sqlite":
            await self._requeue_dead_claims(self._store)
        await sending.start()
        secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
        readiness = Readiness(services.store, application.bot, services.metrics)
        web_app = build_web_app(
            application,
            readiness=readiness,
            webhook_url=settings.webhook_url,
            webhook_secret=secret,
            routes=[r for plugin in sending.plugins for r in plugin.routes(services.alerts)],
            metrics_token=settings.metrics_token,
        )
        if (miniapp := miniapp_for(settings, services)) is not None:
            add_miniapp_routes(web_app, miniapp)
        self._runner, self.port = await serve(
            web_app, settings.listen_host, settings.listen_port, sock=self._listen_socket
        )
        if settings.webhook_url:
            await application.bot.set_webhook(
                settings.webhook_url, secret_token=secret, allowed_updates=ALLOWED_UPDATES
            )
            logger.info("receiving updates by webhook on port %s", self.port)
        else:
            await application.bot.delete_webhook()
            assert application.updater is not None
            await application.updater.start_polling(
                allowed_updates=ALLOWED_UPDATES, timeout=10, poll_interval=0.0
            )
            logger.info("receiving updates by polling; health check on port %s", self.port)

    @staticmethod
    async def _requeue_dead_claims(store: Store) -> None:
        """On SQLite this process alone sends, so a claim in the log is a dead process's:
        send its rows now rather than after their lease. A copy Telegram took just
        before that process died, not yet recorded, goes a second time: Telegram has
        no idempotency key to ask it."""
        released = await store.outbox.release_claims(None)
        if released:
            logger.warning("%s message(s) claimed by a stopped process queued again", released)

    async def stop(self) -> None:
        application = self._application
        sending, self._sending = self._sending, None
        if sending is not None:
            await sending.stop()
        if application is not None:
            if application.updater is not None and application.updater.running:
                await application.updater.stop()
            if application.running:
                await application.stop()
            await application.shutdown()
            self._application = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if sending is not None:  # no update, peer's alert or mini-app request in hand now
            await sending.close()
        if self._store is not None:
            await self._store.close()
            self._store = None
