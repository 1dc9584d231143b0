"""More than one process sending the outbox: `shopwatch worker` beside the receiving bot.

On PostgreSQL the receiving bot and two `shopwatch worker` processes (real
subprocesses, started with the command line) share a burst of alerts against the
sandbox, which enforces Telegram's overall 30 messages a second for the bot's
token. One worker is killed with SIGKILL in the middle; the others take over its
chats once its lease is over. On SQLite the command refuses to start.

The claims underneath are checked on both databases: a small town's alert is in
the first batch whatever backlog another town has, and a chat's rows come in
order, never with a gap.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import telegram
from sqlalchemy import text

from bot import cli_texts
from bot.cli import main
from bot.runtime import BotRuntime
from broadcast.delivery import Delivered, Sender
from broadcast.metrics import Metrics
from broadcast.outbox import OutboxWorker
from config.schemes import SchemesFile, load_schemes
from config.vocabulary import Category, OutboxKind, OutboxState, Urgency
from sandbox import BotApiSandbox, BotHandle, SandboxLimits
from storage.models import OutboxRow, Report, utcnow
from storage.outbox import SHARD_COUNT, ChatShards, Delivery
from storage.outbox_notify import OutboxListener
from storage.outbox_payloads import AlertPayload, MessagePayload
from storage.photos import PhotoStore
from storage.store import Store
from tests.scratch import scratch_postgres_database
from tests.storage_fixtures import POSTGRES_URL_ENV
from tests.town import BOT_TOKEN, EXAMPLE_SCHEMES, telegram_worker, town_settings

SHARED_BUDGET = SandboxLimits(global_per_second=30.0, per_group_per_minute=600)
"""Telegram's overall limit for the token, which the three processes must share; the
per-group minute is raised so the story takes seconds, not minutes."""
LEASE_SECONDS = 2.0
PROCESSES = 3
BURST_CHATS = [-1002000000000 - 3 * n for n in range(1, 21)]
"""Twenty groups, spread over the shards."""
BURST_ALERTS = 12


def worker_environment(
    sandbox: BotApiSandbox, database_url: str, data_dir: Path
) -> dict[str, str]:
    """What `shopwatch worker` reads: the same settings as the receiving bot's."""
    return {
        **os.environ,
        "SHOPWATCH_BOT_TOKEN": BOT_TOKEN,
        "SHOPWATCH_TELEGRAM_API_URL": sandbox.base_url,
        "SHOPWATCH_TELEGRAM_FILE_URL": sandbox.base_file_url,
        "SHOPWATCH_DATABASE_URL": database_url,
        "SHOPWATCH_SCHEMES_FILE": str(EXAMPLE_SCHEMES),
        "SHOPWATCH_DATA_DIR": str(data_dir),
        "SHOPWATCH_OUTBOX_WORKERS": str(PROCESSES),
        "SHOPWATCH_OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS),
        "SHOPWATCH_LOG_LEVEL": "INFO",
        # Each worker on a free port of its own for /healthz, /readyz and /metrics.
        "SHOPWATCH_LISTEN_HOST": "127.0.0.1",
        "SHOPWATCH_WORKER_PORT": "0",
    }


@dataclass
class WorkerProcess:
    process: asyncio.subprocess.Process
    log: Path

    def said(self) -> str:
        return self.log.read_text(encoding="utf-8") if self.log.exists() else ""

    def health_port(self) -> int | None:
        found = re.search(r"worker health, readiness and metrics on port (\d+)", self.said())
        return int(found.group(1)) if found else None

    def worker_id(self) -> str | None:
        found = re.search(r"outbox worker (worker-[0-9a-f]+) is running", self.said())
        return found.group(1) if found else None


@asynccontextmanager
async def worker_process(env: dict[str, str], log: Path) -> AsyncIterator[WorkerProcess]:
    """`shopwatch worker` as a deployment starts it; killed at the end if still running."""
    with log.open("w", encoding="utf-8") as stderr:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            "worker",
            env=env,
            cwd=log.parent,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=stderr,
        )
    try:
        yield WorkerProcess(process, log)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


async def eventually(
    sandbox: BotApiSandbox, probe: Callable[[], Awaitable[bool]], what: str, within: float
) -> None:
    reached: bool = await sandbox.wait_for(probe, timeout=within, message=what)
    assert reached


async def wait_until_true(condition: Callable[[], bool], what: str) -> None:
    """For a story told by a sender's own record, where no sandbox sees the chats."""
    for _ in range(1500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"never came: {what}")


async def queue_alerts(store: Store, alerts: int, chats: Sequence[int]) -> list[Report]:
    """`alerts` Norwich alerts, each to every one of `chats`, queued as the receiving bot does."""
    scheme = await store.schemes.get_by_slug("norwich")
    assert scheme.id is not None
    reports = []
    for number in range(1, alerts + 1):
        report = Report(
            scheme_id=scheme.id,
            category=Category.THEFT,
            urgency=Urgency.NOW,
            description=f"Alert {number}: grey hoodie, heading to Haymarket",
        )
        deliveries = [Delivery(chat, AlertPayload(text=f"Alert {number}")) for chat in chats]
        reports.append(await store.reports.create(report, deliveries))
    return reports


async def queue_burst(store: Store) -> list[Report]:
    """Twelve alerts, each to twenty chats: 240 messages queued at once."""
    return await queue_alerts(store, BURST_ALERTS, BURST_CHATS)


async def burst_rows(store: Store, reports: list[Report]) -> list[OutboxRow]:
    rows: list[OutboxRow] = []
    for report in reports:
        assert report.id is not None
        rows += await store.outbox.for_report(report.id)
    return rows


def without_repeats(bodies: list[str]) -> list[str]:
    return [body for index, body in enumerate(bodies) if index == 0 or bodies[index - 1] != body]


@pytest.fixture
def postgres_server() -> str:
    server_url = os.environ.get(POSTGRES_URL_ENV)
    if not server_url:
        pytest.skip(f"PostgreSQL not tested: set {POSTGRES_URL_ENV} to a server database URL")
    return server_url


async def test_three_processes_share_a_burst_and_take_over_a_killed_workers_chats(
    tmp_path: Path, postgres_server: str
) -> None:
    schemes = load_schemes(EXAMPLE_SCHEMES)
    async with (
        scratch_postgres_database(postgres_server, "shopwatch_worker") as database_url,
        BotApiSandbox(limits=SandboxLimits.off()) as sandbox,
    ):
        bot = sandbox.add_bot(BOT_TOKEN, "shopwatch_bot", "ShopWatch")
        for chat in BURST_CHATS:
            sandbox.group(chat, f"Shop street {chat}", bots=[bot])
        settings = town_settings(
            sandbox,
            tmp_path,
            database_url=database_url,
            outbox_workers=PROCESSES,
            outbox_lease_seconds=LEASE_SECONDS,
        )
        receiver = BotRuntime(settings, schemes)
        await receiver.start()
        env = worker_environment(sandbox, database_url, settings.data_dir)
        try:
            async with (
                worker_process(env, tmp_path / "worker-1.log") as victim,
                worker_process(env, tmp_path / "worker-2.log") as survivor,
            ):

                async def shards_shared() -> bool:
                    return all(
                        "worker(s) live" in worker.said() and worker.worker_id() is not None
                        for worker in (victim, survivor)
                    )

                await eventually(sandbox, shards_shared, "both workers holding shards", within=30)
                store = receiver.store
                sandbox.limits = SHARED_BUDGET
                reports = await queue_burst(store)

                async def victim_in_the_middle() -> bool:
                    rows = await burst_rows(store, reports)
                    return any(r.claimed_by == victim.worker_id() for r in rows) and any(
                        r.state == OutboxState.SENT for r in rows
                    )

                await eventually(
                    sandbox, victim_in_the_middle, "the victim sending its share", within=60
                )
                victim.process.send_signal(signal.SIGKILL)
                await victim.process.wait()
                in_hand = [
                    row
                    for row in await burst_rows(store, reports)
                    if row.claimed_by == victim.worker_id() and row.state == OutboxState.SENDING
                ]
                assert in_hand, "the victim died with chats in hand"

                async def all_handled() -> bool:
                    rows = await burst_rows(store, reports)
                    return all(r.state in (OutboxState.SENT, OutboxState.FAILED) for r in rows)

                await eventually(sandbox, all_handled, "the whole burst handled", within=60)

                survivor.process.send_signal(signal.SIGTERM)
                assert await survivor.process.wait() == 0, survivor.said()
            rows = await burst_rows(store, reports)
        finally:
            await receiver.stop()

        assert {row.state for row in rows} == {OutboxState.SENT}, "nothing lost, nothing given up"
        # The survivor claimed what the victim held once its lease ran out. A row whose
        # "sent" the victim had committed as it died (the database finishing a COMMIT the
        # dead process had already written) stays its own; no row is sent twice (below).
        held = {row.id: row.attempts for row in in_hand}
        retried = [row for row in rows if row.id in held and row.attempts > held[row.id]]
        assert retried, "the survivor took over the chats the victim held"
        expected = [f"Alert {number}" for number in range(1, BURST_ALERTS + 1)]
        repeats = 0
        for chat in BURST_CHATS:
            bodies = [m.body for m in sandbox.chat_messages(bot, chat) if m.from_bot]
            assert without_repeats(bodies) == expected, f"chat {chat} in order, none missing"
            repeats += len(bodies) - len(expected)
        # At least once: a copy the victim had sent but not yet recorded when it died goes
        # again, right after itself; only the chats it had in hand can see that.
        assert repeats <= len({row.chat_id for row in in_hand})


def test_shopwatch_worker_on_sqlite_refuses_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHOPWATCH_BOT_TOKEN", BOT_TOKEN)
    monkeypatch.setenv("SHOPWATCH_DATABASE_URL", f"sqlite:///{tmp_path / 'shopwatch.db'}")
    monkeypatch.setenv("SHOPWATCH_SCHEMES_FILE", str(EXAMPLE_SCHEMES))

    assert main(["worker"]) == 2
    assert capsys.readouterr().err == f"shopwatch: {cli_texts.WORKER_NEEDS_POSTGRESQL}\n"
    assert not (tmp_path / "shopwatch.db").exists(), "refused before touching the log"

    monkeypatch.setenv("SHOPWATCH_OUTBOX_WORKERS", "2")
    assert main(["check"]) == 2
    refusal = capsys.readouterr().err
    assert refusal.count("\n") == 1
    assert "SQLite is single-process" in refusal


class TestClaims:
    """On SQLite and PostgreSQL: fair between schemes, in order within a chat."""

    async def test_a_small_towns_alert_is_in_the_first_batch_despite_a_big_backlog(
        self, synced_store: Store, schemes_file: SchemesFile
    ) -> None:
        store = synced_store
        norwich = await store.schemes.get_by_slug("norwich")
        wymondham = await store.schemes.get_by_slug("wymondham")
        assert norwich.id is not None
        assert wymondham.id is not None
        backlog_chats = [-1003000000000 - n for n in range(40)]
        backlog = Report(
            scheme_id=norwich.id,
            category=Category.THEFT,
            urgency=Urgency.NOW,
            description="A busy evening in the city",
        )
        await store.reports.create(
            backlog,
            [
                Delivery(chat, MessagePayload(text=f"Norwich {n}"))
                for n in range(25)
                for chat in backlog_chats
            ],
        )
        small_town_chat = schemes_file.scheme("wymondham").group_chat_id
        alert = Report(
            scheme_id=wymondham.id,
            category=Category.VIOLENCE,
            urgency=Urgency.NOW,
            description="Man shouting at staff in the Co-op",
        )
        await store.reports.create(
            alert, [Delivery(small_town_chat, AlertPayload(text="Wymondham"))]
        )

        batch = await store.outbox.claim_due("worker-a", utcnow(), limit=20, per_chat=5)

        assert len(batch) == 20
        assert [row.chat_id for row in batch if row.scheme_id == wymondham.id] == [small_town_chat]
        assert backlog.id is not None
        queued_rows = await store.outbox.for_report(backlog.id)
        for chat in {row.chat_id for row in batch if row.scheme_id == norwich.id}:
            claimed = [row.id for row in batch if row.chat_id == chat]
            queued = [row.id for row in queued_rows if row.chat_id == chat]
            assert claimed == queued[: len(claimed)], "a chat's earliest rows, without a gap"
            assert len(claimed) <= 5

    async def test_a_control_rooms_copy_goes_while_every_other_slot_holds_a_waiting_group(
        self, synced_store: Store, schemes_file: SchemesFile
    ) -> None:
        """At the token's limit the worker's chats in hand fill with groups waiting their
        turn; one slot of four is kept, so the operator's copy is not claimed last."""
        store = synced_store
        norwich = await store.schemes.get_by_slug("norwich")
        assert norwich.id is not None
        control_room = schemes_file.scheme("norwich").control_room_chat_id
        groups_may_go = asyncio.Event()
        started: list[int] = []

        async def send(row: OutboxRow) -> Delivered:
            started.append(row.chat_id)
            if row.chat_id != control_room:
                await groups_may_go.wait()  # as at the rate limiter, behind the urgent
            return Delivered(message_id=len(started))

        worker = OutboxWorker(store, metrics=Metrics(), max_chats=4, urgent_slots=1)
        for kind in (OutboxKind.MESSAGE, OutboxKind.ALERT):
            worker.register(kind, Sender(send))
        groups = [-1005000000000 - n for n in range(6)]
        for chat in groups:
            await store.outbox.enqueue(norwich.id, Delivery(chat, MessagePayload(text="later")))
        worker.start()
        try:
            await wait_until_true(lambda: len(started) == 3, "three groups in hand")
            await store.outbox.enqueue(
                norwich.id,
                Delivery(control_room, AlertPayload(text="Now", audience="control_room")),
            )
            worker.wake()
            await wait_until_true(lambda: control_room in started, "the control room's copy")
            groups_in_hand = [chat for chat in started if chat != control_room]
            groups_may_go.set()
            await wait_until_true(lambda: len(started) == 7, "every group's copy")
        finally:
            await worker.stop()

        assert groups_in_hand == groups[:3], "the groups held their three slots throughout"
        assert sorted(started) == sorted([*groups, control_room]), "each chat once"

    async def test_a_chat_waits_while_its_row_is_in_hand_or_put_back(
        self, synced_store: Store
    ) -> None:
        store = synced_store
        norwich = await store.schemes.get_by_slug("norwich")
        assert norwich.id is not None
        chat = -1004000000001
        first = await store.outbox.enqueue(
            norwich.id, Delivery(chat, MessagePayload(text="first"))
        )
        second = await store.outbox.enqueue(
            norwich.id, Delivery(chat, MessagePayload(text="second"))
        )
        assert first.id is not None

        claimed = await store.outbox.claim_due("worker-a", utcnow(), limit=1)
        assert [row.id for row in claimed] == [first.id]
        assert await store.outbox.claim_due("worker-b", utcnow()) == [], "in worker-a's hands"

        later = utcnow() + timedelta(seconds=30)
        await store.outbox.mark_retry(first.id, "flood limit: retry after 30s", later)
        assert await store.outbox.claim_due("worker-b", utcnow()) == [], "second waits behind"

        both = await store.outbox.claim_due("worker-b", later + timedelta(seconds=1))
        assert [row.id for row in both] == [first.id, second.id]

    async def test_a_renewed_lease_keeps_a_slow_chats_rows_from_other_workers(
        self, synced_store: Store
    ) -> None:
        store = synced_store
        norwich = await store.schemes.get_by_slug("norwich")
        assert norwich.id is not None
        await store.outbox.enqueue(
            norwich.id, Delivery(-1004000000002, MessagePayload(text="slow"))
        )
        start = utcnow()
        (row,) = await store.outbox.claim_due("worker-a", start, lease_seconds=10)
        assert row.id is not None

        await store.outbox.renew("worker-b", [row.id], start + timedelta(hours=1))
        after_lease = start + timedelta(seconds=11)
        assert (await store.outbox.get(row.id)).claimed_until == start + timedelta(seconds=10), (
            "only the holder renews"
        )
        await store.outbox.renew("worker-a", [row.id], start + timedelta(seconds=60))
        assert await store.outbox.claim_due("worker-b", after_lease) == []
        (again,) = await store.outbox.claim_due("worker-b", start + timedelta(seconds=61))
        assert (again.id, again.attempts) == (row.id, 2)

    async def test_shards_are_shared_and_a_closed_workers_are_taken_over(
        self, synced_store: Store
    ) -> None:
        if synced_store.backend != "postgresql":
            pytest.skip("SQLite is single-process: no shards")
        first, second = ChatShards(synced_store.engine), ChatShards(synced_store.engine)
        try:
            assert len(await first.rebalance()) == SHARD_COUNT, "alone, it holds every shard"
            assert await second.rebalance() == frozenset(), "nothing free yet"
            assert len(await first.rebalance()) == SHARD_COUNT // 2, "half handed back"
            assert len(await second.rebalance()) == SHARD_COUNT // 2
            assert first.owned.isdisjoint(second.owned)

            await first.close()
            assert len(await second.rebalance()) == SHARD_COUNT, "the closed one's taken over"
        finally:
            await first.close()
            await second.close()

    async def test_more_sending_processes_than_the_setting_says_are_warned_of(
        self,
        synced_store: Store,
        schemes_file: SchemesFile,
        client: telegram.Bot,
        tmp_path: Path,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        if synced_store.backend != "postgresql":
            pytest.skip("SQLite is single-process: no shards")
        photos = PhotoStore(tmp_path / "photos")
        first, second = (
            telegram_worker(client, synced_store, photos, tmp_path, schemes_file) for _ in range(2)
        )
        try:
            with caplog.at_level(logging.WARNING, logger="broadcast.outbox"):
                await first.run_once()
                assert caplog.messages == [], "alone, as the setting says"
                await second.run_once()
        finally:
            await first.stop()
            await second.stop()
        assert caplog.messages == [
            "2 processes are sending the outbox but SHOPWATCH_OUTBOX_WORKERS is 1: together "
            "they may exceed Telegram's 30 messages a second; set it to 2"
        ]


async def terminate_backend(store: Store, pid: int) -> None:
    """What a database restart or a network cut does to one connection."""
    async with store.engine.connect() as connection:
        await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


class TestWakeUpAcrossProcesses:
    """On PostgreSQL a row queued by any process wakes the worker that owns its chat."""

    async def test_a_worker_sends_a_row_another_process_queued_without_polling(
        self,
        synced_store: Store,
        sandbox: BotApiSandbox,
        shop_bot: BotHandle,
        client: telegram.Bot,
        tmp_path: Path,
    ) -> None:
        if synced_store.backend != "postgresql":
            pytest.skip("SQLite is single-process: wake() in the process is enough")
        chat = -1005000000001
        sandbox.group(chat, "Gentleman's Walk", bots=[shop_bot])
        norwich = await synced_store.schemes.get_by_slug("norwich")
        assert norwich.id is not None
        # A `shopwatch worker` that would not poll again for an hour: only a
        # notification from PostgreSQL can make it look at the outbox.
        worker = telegram_worker(
            client,
            synced_store,
            PhotoStore(tmp_path / "photos"),
            tmp_path,
            load_schemes(EXAMPLE_SCHEMES),
            processes=2,
            idle_poll_seconds=3600,
        )
        worker.beside_receiver()
        listener = worker.listener
        assert listener is not None
        database_url = synced_store.engine.url.render_as_string(hide_password=False)
        receiving_process = await Store.open(database_url, migrate=False)
        worker.start()
        try:
            await sandbox.wait_for(
                lambda: listener.connections == 1, timeout=10, message="listening"
            )

            async def copy_arrives(text_: str) -> bool:
                return any(m.body == text_ for m in sandbox.chat_messages(shop_bot, chat))

            await receiving_process.outbox.enqueue(
                norwich.id, Delivery(chat, MessagePayload(text="Shoplifter, Jarrolds"))
            )
            await eventually(
                sandbox,
                lambda: copy_arrives("Shoplifter, Jarrolds"),
                "the first copy",
                within=10,
            )

            pid = listener.backend_pid
            assert pid is not None
            await terminate_backend(receiving_process, pid)
            await sandbox.wait_for(
                lambda: listener.connections == 2, timeout=10, message="listening again"
            )
            await receiving_process.outbox.enqueue(
                norwich.id, Delivery(chat, MessagePayload(text="Same man, Castle Mall"))
            )
            await eventually(
                sandbox,
                lambda: copy_arrives("Same man, Castle Mall"),
                "the copy after the listener reconnected",
                within=10,
            )
        finally:
            await worker.stop()
            await receiving_process.close()
        bodies = [m.body for m in sandbox.chat_messages(shop_bot, chat) if m.from_bot]
        assert bodies == ["Shoplifter, Jarrolds", "Same man, Castle Mall"]

    async def test_the_listener_hears_each_committed_shard_before_and_after_a_reconnect(
        self, synced_store: Store, sandbox: BotApiSandbox
    ) -> None:
        if synced_store.backend != "postgresql":
            pytest.skip("SQLite is single-process: nothing to listen to")
        norwich = await synced_store.schemes.get_by_slug("norwich")
        assert norwich.id is not None
        heard: list[int | None] = []
        listener = OutboxListener(synced_store.engine, heard.append)
        listener.start()
        try:
            await sandbox.wait_for(
                lambda: listener.connections == 1, timeout=10, message="listening"
            )
            assert heard == [None], "on connecting: anything may have been queued meanwhile"
            report = Report(
                scheme_id=norwich.id,
                category=Category.THEFT,
                urgency=Urgency.NOW,
                description="Two copies, one alert, one transaction",
            )
            # Chats -5 and -69 share shard 5; -7 is in shard 7.
            await synced_store.reports.create(
                report,
                [Delivery(chat, AlertPayload(text="x")) for chat in (-5, -69, -7)],
            )
            await sandbox.wait_for(
                lambda: len(heard) >= 3, timeout=10, message="both shards heard"
            )
            assert sorted(shard for shard in heard if shard is not None) == [5, 7]

            pid = listener.backend_pid
            assert pid is not None
            await terminate_backend(synced_store, pid)
            await sandbox.wait_for(
                lambda: listener.connections == 2, timeout=10, message="listening again"
            )
            await synced_store.outbox.enqueue(norwich.id, Delivery(-9, MessagePayload(text="y")))
            await sandbox.wait_for(lambda: heard[-1] == 9, timeout=10, message="shard 9 heard")
            assert heard[3:] == [None, 9]
        finally:
            await listener.stop()
