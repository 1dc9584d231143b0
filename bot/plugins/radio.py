"""Each scheme's radio channel: alerts read out, calls heard logged and filed, members'
voice notes relayed (`broadcast.radio`). Only the process that receives updates holds
the radio links, so a `shopwatch worker` has no radio."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.plugins.base import Assembly, Handler, Plugin
from broadcast.delivery import Sender
from broadcast.fanout import FanOut
from broadcast.radio.bridge import RadioBridge, radio_bridge
from broadcast.radio.script import RadioScripts
from config.vocabulary import OutboxKind
from handlers.intake import voice_note_handlers
from handlers.radio import radio_handlers
from handlers.voice import voice_handlers


class RadioPlugin(Plugin):
    name = "radio"

    def __init__(self, bridge: RadioBridge | None) -> None:
        """`bridge` is None when no scheme has its radio on: the handlers stay, idle."""
        self.bridge = bridge
        self.scripts = RadioScripts()

    @classmethod
    def build(cls, assembly: Assembly) -> RadioPlugin | None:
        if not assembly.receiving:
            return None
        settings = assembly.settings
        bridge = radio_bridge(
            assembly.schemes,
            assembly.store,
            settings.data_dir,
            assembly.signer,
            wake=assembly.wake,
            opus_library=settings.opus_library,
        )
        return cls(bridge)

    @property
    def fan_out(self) -> FanOut:
        return self.scripts

    def handlers(self) -> Sequence[Handler]:
        # a voice note with the radio off is heard and offered as an alert (intake),
        # which hands a note for a scheme with its radio on over to the relay
        return [
            *radio_handlers(),
            *voice_note_handlers(self.bridge),
            *voice_handlers(self.bridge),
        ]

    def senders(self) -> Mapping[OutboxKind, Sender]:
        return {} if self.bridge is None else {OutboxKind.RADIO: self.bridge.sender}

    async def start(self) -> None:
        if self.bridge is not None:
            await self.bridge.start()

    async def stop(self) -> None:
        if self.bridge is not None:
            await self.bridge.stop()
