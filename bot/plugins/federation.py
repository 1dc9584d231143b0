"""Neighbouring towns on other deployments: alerts and their events out through the outbox,
and in on the bot's web server (`broadcast.federation`). Present only when the schemes
file names peers."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from aiohttp import web

from bot.plugins.base import Assembly, Plugin
from broadcast.alerts import AlertService
from broadcast.delivery import Sender
from broadcast.fanout import FanOut
from broadcast.federation import FederationLink, federation_link
from broadcast.federation.inbound import FederationReceiver
from config.vocabulary import OutboxKind


class FederationPlugin(Plugin):
    name = "federation"

    def __init__(self, link: FederationLink) -> None:
        self.link = link

    @classmethod
    def build(cls, assembly: Assembly) -> FederationPlugin | None:
        settings = assembly.settings
        link = federation_link(
            assembly.schemes,
            assembly.store,
            settings.federation_private_key,
            old_signatures_until=settings.federation_old_signatures_until,
            wake=assembly.wake,
        )
        return None if link is None else cls(link)

    @property
    def fan_out(self) -> FanOut:
        return self.link

    def senders(self) -> Mapping[OutboxKind, Sender]:
        return {OutboxKind.FEDERATION: self.link.sender}

    def routes(self, alerts: AlertService) -> Sequence[web.RouteDef]:
        return FederationReceiver(self.link, alerts).routes()

    async def stop(self) -> None:
        await self.link.stop()
