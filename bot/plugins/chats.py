"""The scheme's chats: a card for every chat a report is routed to, kept up to date, and
every other message to a Telegram chat (documents, voice notes, the chat guard's bans,
join links and take-downs) sent by the Telegram senders (`bot.senders`)."""

from __future__ import annotations

from collections.abc import Mapping

from bot.plugins.base import Assembly, Plugin
from bot.senders import telegram_senders
from broadcast.chat_copies import ChatCopies
from broadcast.delivery import Sender
from broadcast.fanout import FanOut
from config.vocabulary import OutboxKind


class ChatsPlugin(Plugin):
    name = "chats"

    def __init__(self, assembly: Assembly) -> None:
        self.copies = ChatCopies(assembly.schemes, assembly.store, assembly.signer)
        self._senders = telegram_senders(
            assembly.bot,
            assembly.store,
            assembly.photos,
            assembly.settings.data_dir,
            assembly.schemes,
            wake=assembly.wake,
        )

    @property
    def fan_out(self) -> FanOut:
        return self.copies

    def senders(self) -> Mapping[OutboxKind, Sender]:
        return self._senders
