"""A `shopwatch worker` can be probed and scraped like the receiving bot.

The worker (a real subprocess, as a deployment starts it) sends a town's alerts
on PostgreSQL; its own `/metrics` counts them, `/healthz` says it is up and
`/readyz` says it is ready, until its database goes away: then `/readyz` answers
503 naming the database, while `/healthz` still says the process is up. A second
worker given the same port stops at once with one line saying so.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from config.schemes import load_schemes
from config.vocabulary import OutboxState
from sandbox import BotApiSandbox, SandboxLimits
from storage.store import Store
from tests.scratch import scratch_postgres_database
from tests.storage_fixtures import POSTGRES_URL_ENV
from tests.tcp_proxy import proxied
from tests.test_worker import eventually, queue_alerts, worker_environment, worker_process
from tests.town import BOT_TOKEN, EXAMPLE_SCHEMES

SHOP_GROUPS = [-1002100000000 - n for n in range(1, 4)]
ALERTS = 2
COPIES = len(SHOP_GROUPS) * ALERTS


@pytest.fixture
def postgres_server() -> str:
    server_url = os.environ.get(POSTGRES_URL_ENV)
    if not server_url:
        pytest.skip(f"PostgreSQL not tested: set {POSTGRES_URL_ENV} to a server database URL")
    return server_url


def samples(exposition: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a /metrics page, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(exposition)
        for sample in family.samples
    }


async def get(http: aiohttp.ClientSession, url: str) -> tuple[int, Any]:
    async with http.get(url) as response:
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text()


async def test_a_worker_counts_the_copies_it_sends_and_is_not_ready_without_its_database(
    tmp_path: Path, postgres_server: str
) -> None:
    async with (
        scratch_postgres_database(postgres_server, "shopwatch_worker_metrics") as database_url,
        BotApiSandbox(limits=SandboxLimits.off()) as sandbox,
        proxied(database_url) as (line, worker_database_url),
        aiohttp.ClientSession() as http,
    ):
        bot = sandbox.add_bot(BOT_TOKEN, "shopwatch_bot", "ShopWatch")
        for chat in SHOP_GROUPS:
            sandbox.group(chat, f"Shop street {chat}", bots=[bot])
        store = await Store.open(database_url, migrate=True)
        try:
            await store.schemes.sync(load_schemes(EXAMPLE_SCHEMES))
            env = worker_environment(sandbox, worker_database_url, tmp_path / "data")
            env["SHOPWATCH_OUTBOX_WORKERS"] = "1"  # the only sender here: all 30 a second
            async with worker_process(env, tmp_path / "worker.log") as worker:

                async def holding_shards() -> bool:
                    return worker.health_port() is not None and "worker(s) live" in worker.said()

                await eventually(sandbox, holding_shards, "the worker holding shards", within=30)
                base = f"http://127.0.0.1:{worker.health_port()}"

                assert await get(http, f"{base}/healthz") == (200, {"status": "ok"})
                status, ready = await get(http, f"{base}/readyz")
                assert (status, ready["status"]) == (200, "ready"), ready
                assert ready["checks"]["shards"]["ok"]

                reports = await queue_alerts(store, ALERTS, SHOP_GROUPS)

                async def all_sent() -> bool:
                    rows = [
                        row
                        for report in reports
                        if report.id is not None
                        for row in await store.outbox.for_report(report.id)
                    ]
                    return len(rows) == COPIES and all(r.state == OutboxState.SENT for r in rows)

                await eventually(sandbox, all_sent, "every copy sent", within=60)
                for chat in SHOP_GROUPS:
                    bodies = [m.body for m in sandbox.chat_messages(bot, chat) if m.from_bot]
                    assert bodies == ["Alert 1", "Alert 2"]

                status, page = await get(http, f"{base}/metrics")
                assert status == 200
                scraped = samples(page)
                sent = frozenset({("kind", "alert"), ("outcome", "sent")})
                assert scraped[("shopwatch_deliveries_total", sent)] == COPIES
                assert scraped[("shopwatch_alert_copy_latency_seconds_count", frozenset())] == (
                    COPIES
                )
                assert scraped[("shopwatch_outbox_backlog", frozenset())] == 0
                relayed = {"X-Forwarded-For": "198.51.100.7"}  # a proxy here, for anyone
                async with http.get(f"{base}/metrics", headers=relayed) as response:
                    assert response.status == 403, "the worker's metrics stay on this machine"

                port = worker.health_port()
                second_env = env | {"SHOPWATCH_WORKER_PORT": str(port)}
                async with worker_process(second_env, tmp_path / "second.log") as second:
                    assert await second.process.wait() == 2, "a port taken stops it in one line"
                    refusal = second.said().splitlines()[-1]
                assert refusal.startswith(
                    f"shopwatch: SHOPWATCH_WORKER_PORT: cannot serve health and metrics on "
                    f"127.0.0.1:{port} ("
                ), refusal
                assert "Traceback" not in second.said()

                line.cut()
                status, ready = await get(http, f"{base}/readyz")
                assert (status, ready["status"]) == (503, "not ready")
                assert not ready["checks"]["database"]["ok"], ready

                async def shards_lost() -> bool:
                    _, ready = await get(http, f"{base}/readyz")
                    return not ready["checks"]["shards"]["ok"]

                await eventually(sandbox, shards_lost, "shards let go", within=10)
                assert await get(http, f"{base}/healthz") == (200, {"status": "ok"})

                line.restore()
                worker.process.send_signal(signal.SIGTERM)
                assert await worker.process.wait() == 0, worker.said()
        finally:
            await store.close()
