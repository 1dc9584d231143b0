"""Fixtures for tests that run a bot against the local Bot API sandbox.

Import them explicitly in conftest.py:

    from tests.sandbox_fixtures import client_fixture, sandbox_fixture, shop_bot_fixture

``sandbox`` runs with flood limits off (a test that checks them sets ``sandbox.limits``);
``client`` is an initialised ``telegram.Bot`` for ``shop_bot`` pointed at the sandbox.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pytest
import telegram
from PIL import Image

from sandbox import BotApiSandbox, BotHandle, SandboxLimits

SHOP_BOT_TOKEN = "7000000001:AAHsandboxShopWatchTokenForTests_0001"
SHOP_BOT_USERNAME = "shopwatch_bot"


def make_jpeg(width: int = 64, height: int = 48, colour: str = "grey") -> bytes:
    """A real JPEG, so size checks and downloads behave as with a phone's photo."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, format="JPEG")
    return buffer.getvalue()


def client_for(sandbox: BotApiSandbox, bot: BotHandle) -> telegram.Bot:
    """An unmodified python-telegram-bot client for ``bot``; use ``async with``."""
    return telegram.Bot(bot.token, base_url=sandbox.base_url, base_file_url=sandbox.base_file_url)


@pytest.fixture(name="sandbox")
async def sandbox_fixture() -> AsyncIterator[BotApiSandbox]:
    async with BotApiSandbox(limits=SandboxLimits.off()) as running:
        yield running


@pytest.fixture(name="shop_bot")
def shop_bot_fixture(sandbox: BotApiSandbox) -> BotHandle:
    return sandbox.add_bot(token=SHOP_BOT_TOKEN, username=SHOP_BOT_USERNAME)


@pytest.fixture(name="client")
async def client_fixture(
    sandbox: BotApiSandbox, shop_bot: BotHandle
) -> AsyncIterator[telegram.Bot]:
    async with client_for(sandbox, shop_bot) as bot:
        yield bot
