"""The plugin contract: what a feature may bring (see `bot.plugins` for the whole story)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from telegram import Bot, Update
from telegram.ext import BaseHandler, JobQueue

from broadcast.alerts import AlertService
from broadcast.callbacks import CallbackSigner
from broadcast.delivery import Sender
from broadcast.fanout import FanOut
from config.schemes import SchemesFile
from config.settings import Settings
from config.vocabulary import OutboxKind
from handlers.context import ShopWatchContext
from storage.photos import PhotoStore
from storage.store import Store

Handler = BaseHandler[Update, ShopWatchContext, Any]


@dataclass(frozen=True)
class Assembly:
    """What every feature may be built from."""

    settings: Settings
    schemes: SchemesFile
    store: Store
    photos: PhotoStore
    signer: CallbackSigner
    bot: Bot
    wake: Callable[[], None]
    """Tells the outbox worker that rows are waiting (after a write outside the alert service)."""
    receiving: bool
    """This process receives updates (`shopwatch run`), not only sends (`shopwatch worker`)."""


class Plugin:
    """One feature; every part is optional, so a feature overrides what it brings."""

    name = "plugin"

    @property
    def fan_out(self) -> FanOut | None:
        return None

    def handlers(self) -> Sequence[Handler]:
        return ()

    def senders(self) -> Mapping[OutboxKind, Sender]:
        return {}

    def schedule(self, jobs: JobQueue[ShopWatchContext]) -> None:
        """Register the feature's scheduled jobs (the receiving process only)."""

    def routes(self, alerts: AlertService) -> Sequence[web.RouteDef]:
        """Routes on the bot's web server (the receiving process only)."""
        return ()

    async def start(self) -> None:
        """Once the outbox worker runs (the receiving process only)."""

    async def stop(self) -> None:
        """Once the outbox worker has stopped: let go of what `start` (or sending) took."""
