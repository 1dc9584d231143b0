"""A town in a line: the sandbox, the bot running for real against it, and its people.

Tests read like a user's story: `town.coordinator` sends `/start`, the test reads
what her chat holds. The bot is the unmodified python-telegram-bot Application
built by `bot.app`, talking HTTP to the sandbox.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from bot.runtime import BotRuntime
from bot.sandbox import BotApiSandbox, BotHandle, Group, Person, SandboxLimits
from config.schemes import SchemesFile, load_schemes
from config.settings import Settings

EXAMPLE_SCHEMES = Path(__file__).resolve().parent.parent / "schemes.example.toml"
BOT_TOKEN = "5550001:sandbox-token-norwich"
WEBHOOK_SECRET = "test-webhook-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Town:
    """Norwich ShopWatch as the example schemes file declares it, with its bot running."""

    sandbox: BotApiSandbox
    bot: BotHandle
    runtime: BotRuntime
    schemes: SchemesFile
    coordinator: Person
    group: Group
    control_room: Group

    def person(self, user_id: int, first_name: str) -> Person:
        return self.sandbox.user(user_id, first_name)

    def chat(self, where: Person | Group) -> list[str]:
        """What a chat shows now, message by message (text or caption)."""
        return [m.body for m in self.sandbox.chat_messages(self.bot, where) if not m.deleted]

    def bot_said(self, where: Person | Group) -> list[str]:
        """Only what the bot posted in that chat and still shows."""
        return [
            m.body
            for m in self.sandbox.chat_messages(self.bot, where)
            if m.from_bot and not m.deleted
        ]


def town_settings(
    sandbox: BotApiSandbox, directory: Path, *, webhook: bool = False, **overrides: object
) -> Settings:
    values: dict[str, object] = {
        "bot_token": BOT_TOKEN,
        "telegram_api_url": sandbox.base_url,
        "telegram_file_url": sandbox.base_file_url,
        "database_url": f"sqlite+aiosqlite:///{directory / 'shopwatch.db'}",
        "schemes_file": EXAMPLE_SCHEMES,
        "data_dir": directory / "data",
        "listen_host": "127.0.0.1",
        "listen_port": 0,
    }
    if webhook:
        port = free_port()
        values |= {
            "webhook_url": f"http://127.0.0.1:{port}/telegram",
            "webhook_secret": WEBHOOK_SECRET,
            "listen_port": port,
        }
    values |= overrides
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@asynccontextmanager
async def running_town(
    directory: Path,
    *,
    webhook: bool = False,
    limits: SandboxLimits | None = None,
    schemes: SchemesFile | None = None,
) -> AsyncIterator[Town]:
    schemes = schemes or load_schemes(EXAMPLE_SCHEMES)
    norwich = schemes.scheme("norwich")
    async with BotApiSandbox(limits=limits or SandboxLimits.off()) as sandbox:
        bot = sandbox.add_bot(BOT_TOKEN, "shopwatch_bot", "ShopWatch")
        coordinator = sandbox.user(norwich.coordinators[0], "Carol", username="carol_coord")
        group = sandbox.group(
            norwich.group_chat_id, norwich.name, members=[coordinator], bots=[bot]
        )
        control_room = sandbox.group(
            norwich.control_room_chat_id, f"{norwich.name} control room", bots=[bot]
        )
        for other in schemes.schemes[1:]:
            sandbox.group(other.group_chat_id, other.name, bots=[bot])
            sandbox.group(other.control_room_chat_id, f"{other.name} control room", bots=[bot])
        runtime = BotRuntime(town_settings(sandbox, directory, webhook=webhook), schemes)
        await runtime.start()
        try:
            yield Town(sandbox, bot, runtime, schemes, coordinator, group, control_room)
        finally:
            await runtime.stop()
