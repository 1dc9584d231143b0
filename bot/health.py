"""Readiness: can this deployment take an alert and deliver it right now?

`/healthz` only says the process is up; `/readyz` checks what an alert needs —
the database answers, Telegram accepts our token, and the outbox is not backed
up — so a load balancer or an operator's dashboard sees trouble before a shop does.
A `shopwatch worker` also checks it holds shards: one holding none sends nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import text
from telegram import Bot
from telegram.error import TelegramError

from broadcast.metrics import Metrics
from storage.outbox import ChatShards
from storage.store import Store

logger = logging.getLogger(__name__)

CHECK_TIMEOUT_SECONDS = 5.0
BOT_CHECK_CACHE_SECONDS = 30.0


@dataclass(frozen=True)
class Thresholds:
    max_backlog: int = 500
    max_oldest_age: timedelta = timedelta(minutes=2)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


class Readiness:
    def __init__(
        self,
        store: Store,
        bot: Bot,
        metrics: Metrics,
        thresholds: Thresholds | None = None,
        *,
        shards: ChatShards | None = None,
    ) -> None:
        self.store = store
        self.bot = bot
        self.metrics = metrics
        self.thresholds = thresholds or Thresholds()
        self.shards = shards
        self._bot_checked_at = 0.0
        self._bot_check: Check | None = None

    async def checks(self) -> list[Check]:
        shards = [] if self.shards is None else [self._shards(self.shards)]
        return [await self._database(), await self._telegram(), *shards, *await self._outbox()]

    async def _database(self) -> Check:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                async with self.store.engine.connect() as connection:
                    await connection.execute(text("SELECT 1"))
        except Exception as exc:
            logger.warning("readiness: database unreachable: %s", type(exc).__name__)
            return Check("database", False, f"unreachable ({type(exc).__name__})")
        return Check("database", True, self.store.backend)

    async def _telegram(self) -> Check:
        """getMe proves the token works; cached briefly so probes do not flood the API."""
        now = time.monotonic()
        if self._bot_check and now - self._bot_checked_at < BOT_CHECK_CACHE_SECONDS:
            return self._bot_check
        try:
            async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
                me = await self.bot.get_me()
            check = Check("telegram", True, f"authorised as @{me.username}")
        except (TelegramError, TimeoutError) as exc:
            # The error's type only: its text may quote Telegram's answer, and an upstream
            # error page can quote the request's URL, which holds the bot's token.
            logger.warning("readiness: Telegram refused or unreachable: %s", type(exc).__name__)
            check = Check(
                "telegram", False, f"not authorised or unreachable ({type(exc).__name__})"
            )
        self._bot_check, self._bot_checked_at = check, now
        return check

    @staticmethod
    def _shards(shards: ChatShards) -> Check:
        """As of the worker's last rebalance (about every second); none while the
        database is away, or for the moment after start-up before any is free."""
        held = len(shards.owned)
        return Check(
            "shards", held > 0, f"holding {held} of {shards.count}, {shards.live} process(es) live"
        )

    async def _outbox(self) -> list[Check]:
        try:
            backlog = await self.store.outbox.backlog()
        except Exception as exc:
            return [Check("outbox", False, f"cannot read the outbox ({type(exc).__name__})")]
        age = backlog.oldest_age or timedelta(0)
        self.metrics.outbox_backlog.set(backlog.due)
        self.metrics.outbox_oldest_age.set(age.total_seconds())
        self.metrics.outbox_failed.set(backlog.failed)
        return [
            Check(
                "outbox_backlog",
                backlog.due <= self.thresholds.max_backlog,
                f"{backlog.due} due (limit {self.thresholds.max_backlog})",
            ),
            Check(
                "outbox_oldest",
                age <= self.thresholds.max_oldest_age,
                f"oldest due {age.total_seconds():.0f}s "
                f"(limit {self.thresholds.max_oldest_age.total_seconds():.0f}s)",
            ),
        ]
