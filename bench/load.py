"""Load: many schemes' members alerting at once, through the sandbox with Telegram's limits on.

`python -m bench.load` makes a schemes file of 100 towns (a group and a control room
each, some of them neighbours), seeds 20 approved members per town straight into the
log (2,000 join dialogues would measure joining, not alerting), then starts the
unmodified bot as its own process (`shopwatch run`, so its memory is its own) against
the sandbox, which enforces Telegram's flood limits. Alerts go in as real Telegram
updates, `/alert ...` from a random member of a random town at a fixed rate; then the
outbox is given a bounded time to drain.

What it prints, and why it measures it so:

- copies expected come from the outbox (one row per chat an alert must reach), copies
  delivered from what each chat in the sandbox really holds: a copy missing is lost,
  a second copy of the same report in a chat (or a copy where none was due) is
  duplicated. Either makes the exit status non-zero.
- latency is from the update being handed to the sandbox to the last of that alert's
  copies arriving in its chat, as the sandbox saw it; the confirmation's, from the
  same moment to the member's "Alert sent" (which names the report) arriving in their
  private chat; throughput is copies delivered per second from the first alert to the
  last copy, and messages a second counts the confirmations too (the token's 30 a
  second is shared by both).
- the backlog is sampled from the log every half second: rows due and not yet sent.
- 429s are the sandbox's own count of requests it refused for the flood limits.
- peak RSS is each bot process's high-water mark (`VmHWM` in /proc), read just before
  it is stopped; the sandbox and this driver run in the benchmark's process, apart.

`--database postgresql` runs on a scratch database beside
`SHOPWATCH_BENCH_POSTGRES_URL` (or `SHOPWATCH_TEST_POSTGRES_URL`); `--workers N` adds N
`shopwatch worker` processes sending the same outbox (PostgreSQL only), with
`SHOPWATCH_OUTBOX_WORKERS=N+1` as a deployment sets it, so that all of them together
keep to the token's 30 messages a second.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from sqlalchemy import func
from sqlmodel import col, select

from bench.machine import describe
from config.schemes import load_schemes
from config.vocabulary import MemberStatus, OutboxKind, OutboxState, Role
from sandbox import BotApiSandbox, BotHandle, Person, SandboxLimits
from storage.models import Member, OutboxRow, Report, utcnow
from storage.store import Store
from storage.transaction import transaction
from tests.scratch import scratch_postgres_database

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "5557777:bench-load-token"
USERNAME = "shopwatch_load_bot"
FIRST_USER_ID = 6_000_000_000
SAMPLE_SECONDS = 0.5
TOKEN_LIMIT = 30
"""Messages a second Telegram lets one bot token send, all chats together."""
STARTUP_SECONDS = 90.0
STOP_SECONDS = 30.0
TAG = re.compile(r"\(load (\d+)\)")
REPORT = re.compile(r"Report #(\d+)")
SIGHTINGS = (
    "Male 30s, grey hoodie, black joggers, took 6 packs of razor blades, heading to Haymarket",
    "Two females, beige puffer jacket, filling a bag with perfume testers, left to London St",
    "Man shouting and threatening staff with a bottle, now outside the Co-op",
    "Woman paying with what look like fake twenty pound notes, distraction at the till",
    "Group of lads kicking the bins over and throwing stones at the bus shelter",
    "Same male as yesterday hanging round the cash machine, watching people's PINs",
    "Male, red cap, blue North Face jacket, concealed two bottles of vodka, up Timberhill",
    "Youth spraying tags on the shutters of the empty unit by the market",
)

Database = Literal["sqlite", "postgresql"]


@dataclass(frozen=True)
class LoadPlan:
    """How big and how long; the defaults are the issue's: 100 x 20, 5 alerts/s for 120 s."""

    schemes: int = 100
    members: int = 20
    rate: float = 5.0
    seconds: float = 120.0
    database: Database = "sqlite"
    workers: int = 0
    drain_seconds: float = 300.0
    seed: int = 8
    bot_env: tuple[tuple[str, str], ...] = ()
    """Settings for the bot's processes beyond the deployment's (for before-and-after runs)."""
    bot_root: Path = ROOT
    """The checkout the bot's processes run from (the driver and the sandbox stay this one's)."""

    @property
    def alerts(self) -> int:
        return max(1, round(self.rate * self.seconds))


@dataclass
class LoadResult:
    plan: LoadPlan
    alerts_sent: int = 0
    alerts_stored: int = 0
    copies_expected: int = 0
    copies_delivered: int = 0
    lost: int = 0
    duplicated: int = 0
    drained: bool = False
    drive_seconds: float = 0.0
    busy_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    confirmations: list[float] = field(default_factory=list)
    control_rooms: list[float] = field(default_factory=list)
    max_backlog: int = 0
    max_updates_waiting: int = 0
    flood_refusals: int = 0
    peak_rss: dict[str, int] = field(default_factory=dict)
    cpu_seconds: dict[str, float] = field(default_factory=dict)
    driver_peak_rss: int = 0
    machine_before: str = ""
    machine_after: str = ""
    notes: list[str] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        """Nothing lost, nothing doubled, every alert stored: the figures that must hold."""
        return self.lost == 0 and self.duplicated == 0 and self.alerts_stored == self.alerts_sent

    def render(self) -> str:
        plan = self.plan
        workers = f" + {plan.workers} worker(s)" if plan.workers else ""
        lines = [
            f"load: {plan.schemes} schemes x {plan.members} members, {plan.rate:g} alerts/s "
            f"for {plan.seconds:g} s, {plan.database}, bot process{workers} "
            f"({plan.bot_root}), "
            "sandbox enforcing Telegram's limits"
            + "".join(f", {name}={value}" for name, value in plan.bot_env),
            f"  {self.machine_before}",
            f"  alerts sent {self.alerts_sent} in {self.drive_seconds:.1f} s, stored "
            f"{self.alerts_stored}",
            f"  copies expected {self.copies_expected}, delivered {self.copies_delivered}; "
            f"lost {self.lost}, duplicated {self.duplicated}"
            + ("" if self.drained else " (the outbox did NOT drain in time)"),
            f"  throughput {self._throughput()}",
            f"  alert to last copy: {_percentiles(self.latencies)}",
            f"  alert to the member's confirmation: {_percentiles(self.confirmations)}",
            f"  alert to its last control room's copy: {_percentiles(self.control_rooms)}",
            f"  max outbox backlog {self.max_backlog} rows, max updates waiting for the bot "
            f"{self.max_updates_waiting}; 429s from the sandbox {self.flood_refusals}",
            "  peak RSS (CPU): "
            + ", ".join(
                f"{name} {size / 2**20:.0f} MiB ({self.cpu_seconds.get(name, 0.0):.1f} s)"
                for name, size in self.peak_rss.items()
            )
            + f" (sandbox + driver {self.driver_peak_rss / 2**20:.0f} MiB)",
            f"  {self.machine_after}",
        ]
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)

    def _throughput(self) -> str:
        if not self.busy_seconds:
            return "n/a"
        messages = self.copies_delivered + len(self.confirmations)
        return (
            f"{self.copies_delivered / self.busy_seconds:.1f} copies/s, "
            f"{messages / self.busy_seconds:.1f} messages/s with the confirmations "
            f"({messages / self.busy_seconds / TOKEN_LIMIT:.0%} of the token's {TOKEN_LIMIT}), "
            f"{self.alerts_stored / self.busy_seconds:.2f} alerts/s "
            f"(first alert to last copy {self.busy_seconds:.1f} s)"
        )


def _percentiles(seconds: list[float]) -> str:
    if not seconds:
        return "n/a"
    ordered = sorted(seconds)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]

    return (
        f"p50 {at(0.5) * 1000:.0f} ms, p99 {at(0.99) * 1000:.0f} ms, "
        f"max {ordered[-1] * 1000:.0f} ms (n={len(ordered)})"
    )


# --- the towns ------------------------------------------------------------------------


def _slug(index: int) -> str:
    return f"town-{index:03d}"


def group_chat(index: int) -> int:
    return -(1_003_000_000_000 + 10 * index + 1)


def control_room_chat(index: int) -> int:
    return -(1_003_000_000_000 + 10 * index + 2)


def member_id(scheme: int, number: int) -> int:
    return FIRST_USER_ID + 1000 * scheme + number


def coordinator_id(scheme: int) -> int:
    return FIRST_USER_ID + 1000 * scheme + 999


def schemes_toml(count: int) -> str:
    """Every third town passes theft, violence and fraud to the next; that one passes back
    violence: neighbours between some of them, as in a county."""
    out = [
        "[defaults]",
        'timezone = "Europe/London"',
        "retention_days = 365",
        "chat_ttl_hours = 36",
        # Nobody acknowledges the benchmark's alerts: at the default two minutes the
        # escalation job would raise the run's first alerts again into the control rooms
        # in the middle of it, rows no real county sends, as its operators answer.
        "escalate_after_minutes = 60",
        "protect_content = true",
        'agreement = "I will use ShopWatch alerts only to protect my business."',
        "",
    ]
    for index in range(count):
        out += [
            "[[scheme]]",
            f'slug = "{_slug(index)}"',
            f'name = "Town {index:03d} ShopWatch"',
            f"group_chat_id = {group_chat(index)}",
            f"control_room_chat_id = {control_room_chat(index)}",
            f"coordinators = [{coordinator_id(index)}]",
            "",
        ]
        if count > 1 and index % 3 == 0:
            out += _neighbour((index + 1) % count, ["theft", "violence", "fraud"])
        elif count > 1 and index % 3 == 1:
            out += _neighbour(index - 1, ["violence"])
    return "\n".join(out)


def _neighbour(index: int, categories: list[str]) -> list[str]:
    listed = ", ".join(f'"{c}"' for c in categories)
    return [
        "  [[scheme.neighbour]]",
        f'  slug = "{_slug(index)}"',
        f"  categories = [{listed}]",
        '  urgency = ["now"]',
        "",
    ]


async def seed_members(store: Store, plan: LoadPlan) -> None:
    """Approved members in one transaction: joining has its own tests and is not measured."""
    schemes = {s.slug: s for s in await store.schemes.list_all()}
    now = utcnow()
    async with transaction(store.sessions, "seed the load test's members") as session:
        for index in range(plan.schemes):
            scheme_id = schemes[_slug(index)].id
            assert scheme_id is not None
            for number in range(plan.members):
                session.add(
                    Member(
                        scheme_id=scheme_id,
                        telegram_user_id=member_id(index, number),
                        display_name=f"Shop {index}-{number}",
                        shop_name=f"Shop {number}",
                        street="High Street",
                        role=Role.MEMBER,
                        status=MemberStatus.ACTIVE,
                        agreement_accepted_at=now,
                        approved_at=now,
                    )
                )


# --- the processes ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bot_environment(
    sandbox: BotApiSandbox, database_url: str, schemes_file: Path, directory: Path, workers: int
) -> dict[str, str]:
    """As a deployment sets it: every sending process counted, so they share the 30/s."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPWATCH_")}
    return env | {
        "SHOPWATCH_BOT_TOKEN": TOKEN,
        "SHOPWATCH_TELEGRAM_API_URL": sandbox.base_url,
        "SHOPWATCH_TELEGRAM_FILE_URL": sandbox.base_file_url,
        "SHOPWATCH_DATABASE_URL": database_url,
        "SHOPWATCH_SCHEMES_FILE": str(schemes_file),
        "SHOPWATCH_DATA_DIR": str(directory / "data"),
        "SHOPWATCH_LISTEN_HOST": "127.0.0.1",
        "SHOPWATCH_LISTEN_PORT": str(_free_port()),
        "SHOPWATCH_WORKER_PORT": "0",  # each worker its own free port for /metrics
        "SHOPWATCH_LOG_LEVEL": "WARNING",
        "SHOPWATCH_OUTBOX_WORKERS": str(1 + workers),
        "PTB_TIMEDELTA": "true",
    }


def worker_command_available() -> bool:
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "worker", "--help"],
        capture_output=True,
        check=False,
        cwd=ROOT,
    )
    return result.returncode == 0


@dataclass
class BotProcess:
    name: str
    process: asyncio.subprocess.Process
    log: Path

    def peak_rss(self) -> int:
        """The process's resident high-water mark in bytes (0 once it has gone)."""
        try:
            status = Path(f"/proc/{self.process.pid}/status").read_text()
        except OSError:
            return 0
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        return 0

    def cpu_seconds(self) -> float:
        """User and system CPU time so far, from /proc (0 once it has gone)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def tail(self, lines: int = 15) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    async def stop(self) -> None:
        if self.process.returncode is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.process.wait(), STOP_SECONDS)
        except TimeoutError:
            self.process.kill()
            await self.process.wait()


async def start_process(
    name: str, command: str, env: dict[str, str], directory: Path, root: Path = ROOT
) -> BotProcess:
    log = directory / f"{name}.log"
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.cli",
            command,
            cwd=root,
            env=env | {"PYTHONPATH": str(root)},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    return BotProcess(name, process, log)


@contextlib.asynccontextmanager
async def database(plan: LoadPlan, directory: Path) -> AsyncIterator[str]:
    if plan.database == "sqlite":
        yield f"sqlite+aiosqlite:///{directory / 'load.db'}"
        return
    server = os.environ.get("SHOPWATCH_BENCH_POSTGRES_URL") or os.environ.get(
        "SHOPWATCH_TEST_POSTGRES_URL"
    )
    if not server:
        raise SystemExit(
            "--database postgresql needs SHOPWATCH_BENCH_POSTGRES_URL "
            "(e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test)"
        )
    async with scratch_postgres_database(server, prefix="shopwatch_load") as url:
        yield url


# --- watching the chats -----------------------------------------------------------------


class CopyWatch:
    """When each alert's copies arrive, as the sandbox sees them: woken on every change."""

    def __init__(
        self,
        sandbox: BotApiSandbox,
        bot: BotHandle,
        chats: list[int],
        control_rooms: frozenset[int] = frozenset(),
    ) -> None:
        self.sandbox = sandbox
        self.bot = bot
        self.chats = chats
        self.control_rooms = control_rooms
        self.read_up_to = dict.fromkeys(chats, 0)
        self.last_copy: dict[int, float] = {}
        self.last_control_room: dict[int, float] = {}
        """When the last control room an alert goes to (its own, a neighbour's) had it."""
        self.awaiting: dict[int, int] = {}
        """Private chats with an alert not yet confirmed: member's id -> messages read."""
        self.confirmed: dict[int, float] = {}
        """When each report's confirmation reached its member, by report id."""

    def expect_confirmation(self, member: int) -> None:
        self.awaiting.setdefault(member, 0)

    def scan(self) -> None:
        now = time.perf_counter()
        state = self.sandbox.state
        for member, read in list(self.awaiting.items()):
            conv = state.conversations.get(state.private_key(self.bot.id, member))
            if conv is None or conv.next_message_id - 1 == read:
                continue
            for message_id in range(read + 1, conv.next_message_id):
                record = conv.messages.get(message_id)
                if record is None or record.sender_id != self.bot.id:
                    continue
                report = REPORT.search(record.text or "")
                if report is not None and (record.text or "").startswith("Alert sent"):
                    self.confirmed.setdefault(int(report.group(1)), now)
            self.awaiting[member] = conv.next_message_id - 1
        for chat in self.chats:
            conv = state.conversations.get(state.group_key(chat))
            if conv is None or conv.next_message_id - 1 == self.read_up_to[chat]:
                continue
            for message_id in range(self.read_up_to[chat] + 1, conv.next_message_id):
                record = conv.messages.get(message_id)
                if record is None or record.sender_id != self.bot.id:
                    continue
                tag = TAG.search(record.text or record.caption or "")
                if tag is not None:
                    self.last_copy[int(tag.group(1))] = now
                    if chat in self.control_rooms:
                        self.last_control_room[int(tag.group(1))] = now
            self.read_up_to[chat] = conv.next_message_id - 1

    async def run(self) -> None:
        while True:
            await self.sandbox.state.changed.wait(0.05)
            self.scan()

    def copies(self) -> Counter[tuple[int, int]]:
        """(report id, chat) of every bot message in the towns' chats, counted."""
        found: Counter[tuple[int, int]] = Counter()
        for chat in self.chats:
            for message in self.sandbox.chat_messages(None, chat):
                report = REPORT.search(message.text or message.caption or "")
                if message.from_bot and report is not None:
                    found[int(report.group(1)), chat] += 1
        return found


async def unsent(store: Store) -> int:
    """Rows due now and not yet sent (claimed ones included); later TTL deletions are not."""
    async with store.sessions() as session:
        count = await session.exec(
            select(func.count())
            .select_from(OutboxRow)
            .where(
                col(OutboxRow.state).in_([OutboxState.PENDING, OutboxState.SENDING]),
                col(OutboxRow.next_attempt_at) <= utcnow(),
            )
        )
        return int(count.one())


async def reports_stored(store: Store) -> dict[int, int]:
    """Report id by the alert's number, read from the description the member sent."""
    async with store.sessions() as session:
        rows = await session.exec(select(Report.id, Report.description))
        return {
            int(tag.group(1)): report_id
            for report_id, description in rows.all()
            if report_id is not None and (tag := TAG.search(description or "")) is not None
        }


async def expected_copies(store: Store) -> set[tuple[int, int]]:
    async with store.sessions() as session:
        rows = await session.exec(
            select(OutboxRow.report_id, OutboxRow.chat_id).where(
                OutboxRow.kind == OutboxKind.ALERT
            )
        )
        return {(report, chat) for report, chat in rows.all() if report is not None}


# --- the run ----------------------------------------------------------------------------


async def run_load(plan: LoadPlan, directory: Path) -> LoadResult:
    result = LoadResult(plan)
    if plan.workers and plan.database != "postgresql":
        raise SystemExit("--workers needs --database postgresql: workers share the outbox there")
    workers = plan.workers
    if workers and not worker_command_available():
        result.notes.append(
            f"`shopwatch worker` is not available in this tree: ran without the {workers} "
            "extra worker(s)"
        )
        workers = 0
    schemes_file = directory / "schemes.toml"
    schemes_file.write_text(schemes_toml(plan.schemes))
    schemes = load_schemes(schemes_file)
    chats = [c for i in range(plan.schemes) for c in (group_chat(i), control_room_chat(i))]
    async with (
        database(plan, directory) as url,
        BotApiSandbox(limits=SandboxLimits()) as sandbox,
    ):
        bot = sandbox.add_bot(TOKEN, USERNAME)
        for index in range(plan.schemes):
            sandbox.group(group_chat(index), f"Town {index:03d}", bots=[bot])
            sandbox.group(control_room_chat(index), f"Town {index:03d} control", bots=[bot])
        people = [
            [sandbox.user(member_id(i, n), f"Shop {i}-{n}") for n in range(plan.members)]
            for i in range(plan.schemes)
        ]
        store = await Store.open(url, migrate=True)
        processes: list[BotProcess] = []
        try:
            await store.schemes.sync(schemes)
            await seed_members(store, plan)
            env = bot_environment(sandbox, url, schemes_file, directory, workers) | dict(
                plan.bot_env
            )
            processes.append(await start_process("bot", "run", env, directory, plan.bot_root))
            for number in range(workers):
                own = env | {"SHOPWATCH_WORKER_PORT": str(_free_port())}  # each its health port
                processes.append(
                    await start_process(
                        f"worker {number + 1}", "worker", own, directory, plan.bot_root
                    )
                )
            await _until_answering(sandbox, bot, processes)
            result.machine_before = describe()
            await _drive(plan, _Town(sandbox, bot, people, chats), store, result)
            result.machine_after = describe()
            for process in processes:
                result.peak_rss[process.name] = process.peak_rss()
                result.cpu_seconds[process.name] = process.cpu_seconds()
        finally:
            for process in processes:
                await process.stop()
            await store.close()
    result.driver_peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    return result


@dataclass(frozen=True)
class _Town:
    sandbox: BotApiSandbox
    bot: BotHandle
    people: list[list[Person]]
    chats: list[int]


async def _until_answering(
    sandbox: BotApiSandbox, bot: BotHandle, processes: list[BotProcess]
) -> None:
    """Someone outside the schemes sends /start: the bot answering means it is polling."""
    probe = sandbox.user(FIRST_USER_ID - 1, "Probe")
    await probe.send(bot, "/start")
    try:
        await probe.next_reply(bot, timeout=STARTUP_SECONDS)
    except Exception:
        for process in processes:
            print(f"--- {process.name} log ---\n{process.tail()}", file=sys.stderr)
        raise


async def _drive(plan: LoadPlan, town: _Town, store: Store, result: LoadResult) -> None:
    sandbox, bot = town.sandbox, town.bot
    rng = random.Random(plan.seed)
    control_rooms = frozenset(control_room_chat(index) for index in range(plan.schemes))
    watch = CopyWatch(sandbox, bot, town.chats, control_rooms)
    watcher = asyncio.create_task(watch.run())
    sampler = asyncio.create_task(_sample_backlog(store, sandbox, bot, result))
    sent_at: dict[int, float] = {}
    loop = asyncio.get_running_loop()
    try:
        began = loop.time()
        for number in range(plan.alerts):
            delay = began + number / plan.rate - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            member = rng.choice(rng.choice(town.people))
            watch.expect_confirmation(member.id)
            sent_at[number] = time.perf_counter()
            await member.send(bot, f"/alert {rng.choice(SIGHTINGS)} (load {number})")
        result.drive_seconds = loop.time() - began
        result.alerts_sent = len(sent_at)
        result.drained = await _drain(plan, store, result.alerts_sent)
        watch.scan()
    finally:
        for task in (watcher, sampler):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    result.flood_refusals = sandbox.flood_refusals
    await _count(store, watch, sent_at, result)


async def _sample_backlog(
    store: Store, sandbox: BotApiSandbox, bot: BotHandle, result: LoadResult
) -> None:
    """The outbox's backlog, and the updates the bot has not yet taken (its other queue)."""
    while True:
        result.max_backlog = max(result.max_backlog, await unsent(store))
        result.max_updates_waiting = max(result.max_updates_waiting, sandbox.pending_updates(bot))
        await asyncio.sleep(SAMPLE_SECONDS)


async def _drain(plan: LoadPlan, store: Store, alerts: int) -> bool:
    """Every alert stored and nothing due left unsent, or time is up."""
    deadline = time.monotonic() + plan.drain_seconds
    while time.monotonic() < deadline:
        if len(await reports_stored(store)) >= alerts and await unsent(store) == 0:
            return True
        await asyncio.sleep(SAMPLE_SECONDS)
    return False


async def _count(
    store: Store, watch: CopyWatch, sent_at: dict[int, float], result: LoadResult
) -> None:
    reports = await reports_stored(store)
    expected = await expected_copies(store)
    found = watch.copies()
    result.alerts_stored = len(reports)
    result.copies_expected = len(expected)
    result.copies_delivered = sum(1 for pair in expected if found[pair] > 0)
    result.lost = len(expected) - result.copies_delivered
    result.duplicated = sum(n - 1 for n in found.values() if n > 1) + sum(
        n for pair, n in found.items() if pair not in expected
    )
    complete = {report for report, _ in expected} - {
        report for report, chat in expected if found[report, chat] == 0
    }
    for number, report in reports.items():
        if report in complete and number in watch.last_copy:
            result.latencies.append(watch.last_copy[number] - sent_at[number])
        if report in watch.confirmed:
            result.confirmations.append(watch.confirmed[report] - sent_at[number])
        if report in complete and number in watch.last_control_room:
            result.control_rooms.append(watch.last_control_room[number] - sent_at[number])
    if watch.last_copy and sent_at:
        result.busy_seconds = max(watch.last_copy.values()) - min(sent_at.values())


# --- the command ------------------------------------------------------------------------


def setting(text: str) -> tuple[str, str]:
    name, equals, value = text.partition("=")
    if not equals or not name.startswith("SHOPWATCH_"):
        raise argparse.ArgumentTypeError("a setting is SHOPWATCH_NAME=VALUE")
    return name, value


def _arguments(argv: list[str] | None) -> LoadPlan:
    parser = argparse.ArgumentParser(
        prog="python -m bench.load", description=__doc__.split("\n")[0]
    )
    defaults = LoadPlan()
    parser.add_argument("--schemes", type=int, default=defaults.schemes)
    parser.add_argument("--members", type=int, default=defaults.members)
    parser.add_argument("--rate", type=float, default=defaults.rate, help="alerts per second")
    parser.add_argument("--seconds", type=float, default=defaults.seconds)
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument(
        "--workers", type=int, default=0, help="extra `shopwatch worker` processes"
    )
    parser.add_argument("--drain-seconds", type=float, default=defaults.drain_seconds)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--bot-env",
        type=setting,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the bot's processes (for a before-and-after run)",
    )
    parser.add_argument(
        "--bot-root", type=Path, default=ROOT, help="run the bot's processes from this checkout"
    )
    args = parser.parse_args(argv)
    return LoadPlan(
        schemes=args.schemes,
        members=args.members,
        rate=args.rate,
        seconds=args.seconds,
        database=args.database,
        workers=args.workers,
        drain_seconds=args.drain_seconds,
        seed=args.seed,
        bot_env=tuple(args.bot_env),
        bot_root=args.bot_root,
    )


async def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    plan = _arguments(argv)
    with tempfile.TemporaryDirectory() as tmp:
        result = await run_load(plan, Path(tmp))
    print(result.render())
    return 0 if result.intact else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
