"""Who may read what the bot's web server says about itself.

`/healthz` is open to anyone (a load balancer asks it). `/readyz` and `/metrics`
say what is failing and how many alerts each scheme sends as they happen, so a
stranger on another machine, or relayed by a reverse proxy on this one, is
turned away; the operator on this machine reads them, and so does a scraper
elsewhere that holds the metrics token.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from tests.town import Town, running_town

TOKEN = "a-metrics-token-for-prometheus-only"


def another_address_of_this_machine() -> str:
    """This machine's address on its network, not a loopback one: a caller from there is,
    to the bot, a caller from elsewhere."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("203.0.113.1", 9))  # no packet is sent: only the route is chosen
        address = str(probe.getsockname()[0])
    assert not address.startswith("127."), "this machine has only loopback addresses"
    return address


async def ask(
    town: Town, path: str, *, source: str = "127.0.0.1", **headers: str
) -> tuple[int, str]:
    connector = aiohttp.TCPConnector(local_addr=(source, 0))
    url = f"http://127.0.0.1:{town.runtime.port}{path}"
    async with (
        aiohttp.ClientSession(connector=connector) as http,
        http.get(url, headers=headers) as response,
    ):
        return response.status, await response.text()


@pytest.fixture
async def town(tmp_path: Path) -> AsyncIterator[Town]:
    async with running_town(tmp_path) as town:
        yield town


@pytest.fixture
async def town_with_token(tmp_path: Path) -> AsyncIterator[Town]:
    async with running_town(tmp_path, settings={"metrics_token": TOKEN}) as town:
        yield town


async def test_a_stranger_reads_only_that_the_bot_is_up_and_the_operator_reads_the_rest(
    town: Town,
) -> None:
    elsewhere = another_address_of_this_machine()

    for path in ("/metrics", "/readyz"):
        status, page = await ask(town, path, source=elsewhere)
        assert status == 403, f"{path} from another machine"
        assert "shopwatch_" not in page
        assert "database" not in page
        relayed, _ = await ask(town, path, **{"X-Forwarded-For": "198.51.100.7"})
        assert relayed == 403, f"{path} relayed by a proxy on this machine"
    assert await ask(town, "/healthz", source=elsewhere) == (200, '{"status": "ok"}')

    status, page = await ask(town, "/metrics")
    assert status == 200
    assert "shopwatch_outbox_backlog" in page
    assert (await ask(town, "/readyz"))[0] == 200


async def test_a_scraper_elsewhere_reads_the_metrics_with_the_token_and_not_without(
    town_with_token: Town,
) -> None:
    town = town_with_token
    elsewhere = another_address_of_this_machine()

    status, page = await ask(town, "/metrics", source=elsewhere, Authorization=f"Bearer {TOKEN}")
    assert status == 200
    assert "shopwatch_outbox_backlog" in page
    wrong, _ = await ask(town, "/metrics", source=elsewhere, Authorization="Bearer guessed-it")
    assert wrong == 401
    bare, _ = await ask(town, "/readyz", source=elsewhere)
    assert bare == 401
