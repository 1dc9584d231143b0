"""Conversations and per-user data kept in the log's database, so a restart loses nobody's place.

python-telegram-bot keeps conversation states and `user_data` in memory and hands
them to a `BasePersistence` every `update_interval` seconds and at shutdown. This
one writes them through `storage.conversations` into the same database as the
log: no pickle file beside it to back up, lose or leave behind on another host,
and the same SQLite/PostgreSQL code path as everything else.

Only conversations and `user_data` are kept. `bot_data` holds live services (the
store, the outbox worker) and is never persisted; chat data and callback data
are unused.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import Any

from telegram.ext import BasePersistence, PersistenceInput

from handlers.context import BotData
from storage.conversations import ConversationKey, ConversationRepository, check_json
from storage.models import utcnow

logger = logging.getLogger(__name__)

WRITE_INTERVAL_SECONDS = 1.0
"""How often answered steps are written: a crash loses at most this much of anyone's progress.

A run with nothing new writes nothing, so a short interval costs little.
"""

FORGET_IDLE_AFTER = timedelta(days=1)
"""Conversations untouched this long are dropped at start-up.

Timeouts are jobs in memory and do not survive a restart, so without this a draft
abandoned just before one would stay in the database for good.
"""

BIGINT = 2**63

UserData = dict[Any, Any]
ChatData = dict[Any, Any]


class DatabasePersistence(BasePersistence[UserData, ChatData, BotData]):
    """Writes every change as it is handed over; there is nothing to flush."""

    def __init__(
        self,
        conversations: ConversationRepository,
        *,
        update_interval: float = WRITE_INTERVAL_SECONDS,
        forget_idle_after: timedelta = FORGET_IDLE_AFTER,
    ) -> None:
        super().__init__(
            store_data=PersistenceInput(
                bot_data=False, chat_data=False, user_data=True, callback_data=False
            ),
            update_interval=update_interval,
        )
        self._conversations = conversations
        self._forget_idle_after = forget_idle_after
        self._forgot_idle = False
        self._unwritten: dict[int, UserData] = {}
        self._writing = asyncio.Lock()

    async def _forget_idle_once(self) -> None:
        if not self._forgot_idle:
            self._forgot_idle = True
            await self._conversations.forget_idle(utcnow() - self._forget_idle_after)

    async def get_user_data(self) -> dict[int, UserData]:
        await self._forget_idle_once()
        return dict(await self._conversations.all_user_data())

    async def update_user_data(self, user_id: int, data: UserData) -> None:
        """Written with the others handed over at the same time, in one transaction.

        python-telegram-bot hands over every changed person's data at once, one call
        each, side by side: a commit each would be a burst of writers queueing in front
        of whatever an alert is writing. A call returns once its data is stored."""
        if not _storable(user_id):
            return
        check_json(data, "the user data")  # refused here, for this person alone
        self._unwritten[user_id] = data
        await asyncio.sleep(0)  # the other calls of the hand-over join the batch
        async with self._writing:
            if user_id not in self._unwritten:
                return  # written by the batch before this one
            batch, self._unwritten = self._unwritten, {}
            try:
                await self._conversations.set_many_user_data(batch)
            except BaseException:
                for user, kept in batch.items():  # tried again with the next hand-over
                    self._unwritten.setdefault(user, kept)
                raise

    async def refresh_user_data(self, user_id: int, user_data: UserData) -> None:
        """Nothing to do: this process is the only writer, so memory is already current."""

    async def drop_user_data(self, user_id: int) -> None:
        if _storable(user_id):
            async with self._writing:  # after any batch holding it, and instead of its data
                self._unwritten.pop(user_id, None)
                await self._conversations.drop_user_data(user_id)

    async def get_conversations(self, name: str) -> dict[ConversationKey, object]:
        await self._forget_idle_once()
        return dict(await self._conversations.states(name))

    async def update_conversation(
        self, name: str, key: ConversationKey, new_state: object | None
    ) -> None:
        await self._conversations.set_state(name, key, new_state)

    async def flush(self) -> None:
        """Nothing to do: every update was written when it was handed over."""

    # Not kept (see PersistenceInput above); the application never asks for these.

    async def get_chat_data(self) -> dict[int, ChatData]:
        return {}

    async def update_chat_data(self, chat_id: int, data: ChatData) -> None:
        pass

    async def refresh_chat_data(self, chat_id: int, chat_data: ChatData) -> None:
        pass

    async def drop_chat_data(self, chat_id: int) -> None:
        pass

    async def get_bot_data(self) -> BotData:
        raise RuntimeError("bot_data holds live services and is never persisted")

    async def update_bot_data(self, data: BotData) -> None:
        pass

    async def refresh_bot_data(self, bot_data: BotData) -> None:
        pass

    async def get_callback_data(self) -> None:
        return None

    async def update_callback_data(self, data: Any) -> None:
        pass


def _storable(user_id: int) -> bool:
    """A forged update's id past 64 bits fits no column; it was never stored, so it is
    never written or dropped either (the access check has already ignored its update)."""
    return type(user_id) is int and -BIGINT <= user_id < BIGINT
