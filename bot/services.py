"""The composition root: the one place that builds a process's bot, services and features.

`shopwatch run` (`bot.runtime`) and `shopwatch worker` (`bot.worker`) both build
their bot with `telegram_bot` and their sending side with `build_sending`, so a
worker sends exactly as the receiving process does: same token, server, rate
limits, connection pool, senders. Only the receiving process adds what handlers
use (`build_services`: the alert service and its fan-outs) and the
python-telegram-bot Application around the same bot (`bot.app`).

Nothing here has a default collaborator: a service missing one does not build.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from bot.plugins import Assembly, Plugin, plugins
from bot.rate_limit import LaneRateLimiter
from bot.updates import SkippingUpdatesRequest
from broadcast.alerts import AlertService
from broadcast.callbacks import CallbackSigner
from broadcast.lanes import Lanes
from broadcast.metrics import Metrics
from broadcast.outbox import OutboxWorker
from broadcast.posting_limit import PostingLimit
from broadcast.subjects.service import SubjectService
from config.schemes import SchemesFile
from config.settings import Settings
from handlers.context import Services
from storage.photos import PhotoStore
from storage.store import Store

TELEGRAM_MESSAGES_PER_SECOND = 30.0
TELEGRAM_MESSAGES_PER_GROUP_MINUTE = 20
SENDING_CONNECTIONS = 256
"""Connections to the Bot API for sending, as python-telegram-bot's Application gives its
bot: the outbox has up to 32 chats in hand at once, each with a request open."""

ShopWatchBot = ExtBot[Any]


def rate_limiter(settings: Settings) -> LaneRateLimiter:
    """Telegram's limits (30 msg/s, 20 msg/min per group), the most urgent call first;
    off for benches that measure the bot alone, where "retry after" is still honoured.

    The 30 a second is the bot token's, so the processes sending the outbox share it
    evenly; the per-group limit stays whole, as each chat has one sending process
    at a time (`storage.outbox.ChatShards`).
    """
    if settings.telegram_rate_limit:
        lanes = Lanes(
            per_second=TELEGRAM_MESSAGES_PER_SECOND / settings.outbox_workers,
            per_group_minute=TELEGRAM_MESSAGES_PER_GROUP_MINUTE,
        )
    else:
        lanes = Lanes(per_second=0, per_group_minute=0)
    return LaneRateLimiter(lanes, max_retries=3)


def telegram_bot(settings: Settings, *, polling: bool) -> ShopWatchBot:
    """The bot every process sends with; `polling` gives it the getUpdates connection
    that reads unreadable updates as bare ids (`bot.updates`)."""
    updates = SkippingUpdatesRequest(connection_pool_size=1) if polling else None
    return ExtBot(
        settings.require_token(),
        base_url=settings.telegram_api_url,
        base_file_url=settings.file_url,
        request=HTTPXRequest(connection_pool_size=SENDING_CONNECTIONS),
        get_updates_request=updates,
        rate_limiter=rate_limiter(settings),
    )


@dataclass(frozen=True)
class Sending:
    """What every sending process runs: the outbox worker and the features' senders."""

    store: Store
    photos: PhotoStore
    signer: CallbackSigner
    metrics: Metrics
    outbox: OutboxWorker
    plugins: tuple[Plugin, ...]

    async def start(self) -> None:
        self.outbox.start()
        for plugin in self.plugins:
            await plugin.start()

    async def stop(self) -> None:
        """The outbox finishes the chats in hand first; then each feature lets go."""
        await self.outbox.stop()
        for plugin in reversed(self.plugins):
            await plugin.stop()

    async def close(self) -> None:
        """Once no update is in hand any more: the photo store's child processes end
        (`stop` comes first, while the last updates may still need a photo made clean)."""
        await self.photos.close()


def build_sending(
    settings: Settings,
    schemes: SchemesFile,
    store: Store,
    bot: ShopWatchBot,
    *,
    receiving: bool,
) -> Sending:
    """The outbox worker with every feature's senders; `receiving` is False for a
    `shopwatch worker`, which leaves the radio to the process that receives updates."""
    photos = PhotoStore(settings.photos_dir)
    metrics = Metrics()
    outbox = OutboxWorker(
        store,
        metrics=metrics,
        lease_seconds=settings.outbox_lease_seconds,
        processes=settings.outbox_workers,
    )
    if not receiving:
        outbox.beside_receiver()
    signer = CallbackSigner.from_token(settings.require_token())
    assembly = Assembly(settings, schemes, store, photos, signer, bot, outbox.wake, receiving)
    found = tuple(plugins(assembly))
    for plugin in found:
        for kind, sender in plugin.senders().items():
            outbox.register(kind, sender)
    return Sending(store, photos, signer, metrics, outbox, found)


def build_services(settings: Settings, schemes: SchemesFile, sending: Sending) -> Services:
    """What the handlers use, around the sending side: the alert service asks every
    feature's fan-out, in the features' order."""
    alerts = AlertService(
        schemes,
        sending.store,
        sending.photos,
        fan_outs=[plugin.fan_out for plugin in sending.plugins if plugin.fan_out is not None],
        wake=sending.outbox.wake,
        metrics=sending.metrics,
        posting_limit=PostingLimit(),
    )
    return Services(
        settings=settings,
        schemes=schemes,
        store=sending.store,
        photos=sending.photos,
        outbox=sending.outbox,
        signer=sending.signer,
        metrics=sending.metrics,
        alerts=alerts,
        subjects=SubjectService(schemes, sending.store, sending.photos, on_linked=alerts.refresh),
    )
