"""From a member's alert reaching Telegram to its last copy arriving: text and 12 MP photos.

`python -m bench.alert_latency` runs the unmodified bot as its own process (`shopwatch
run`, as `bench/load.py` does) against the sandbox in this one, so the sandbox's and
this driver's work is not counted against the bot. The sandbox answers with zero
latency and without Telegram's limits, and the bot's rate limiter is off
(SHOPWATCH_TELEGRAM_RATE_LIMIT=false), so the figures are the bot's pipeline: update,
parse, photo fetch and re-encode, one transaction, outbox, seven sends (the reporter's
confirmation, Norwich's group and control room, Wymondham's and Great Yarmouth's group
and control room for a violence alert).

Three kinds of alert, each from a shop of its own (so no posting limit is met), one
after another, each waiting for the last of the seven copies:

- text: `/alert ...`;
- file: a 12-megapixel phone JPEG (4000 x 3000, 2.9 MB) sent *as a file*, the original;
- photo: the same kind of picture sent as a *photo message*, which the sandbox keeps
  in Telegram's sizes (90 to 2560 px); the bot fetches the one it needs.

No operator answers the benchmark's alerts, and at several alerts a second a control
room would have dozens unanswered when the first of them reached the scheme's
`escalate_after_minutes` (two, in the example schemes file): the escalation job would
raise them all again at once (a fresh message to the control room, an edit of its card,
a word to the coordinator and to each shop), and a new alert's control-room copy would
queue behind that, seconds of it, in the same chat. No control room meets that: its
operators answer an alert within minutes, and a scheme that fires hundreds of alerts
unanswered has other trouble. So the bot runs with the example schemes file but
escalation at its latest, an hour, past which an alert is never raised again
(`broadcast.escalation.TOO_LATE`): nothing is raised in a run, however long it is.

Every photo is a different picture (a numbered patch on a noisy scene), made before
its clock starts, so no step is saved by a cache. Three alerts of each kind go first,
unmeasured (the bot's first photo pays for imports).

And one kind under load, `busy`: four shops send a pixel bomb each (a 7070 x 7070
JPEG of one colour, 50 megapixels in 0.6 MB, sent as a file, each with its own bytes
so nothing is deduplicated) and the coordinator asks for the export of a busy week
(`--export-reports` reports with `--export-photos` photos, seeded as `bench/export.py`
seeds them); once the bot has fetched all four pictures and answered the export
request, another shop sends a text alert, and that alert is measured as `text` is.
Then the driver waits for the four shops' answers and the export's last file before
the next round, so every round meets the same load. Its p99 against the idle text
p99 is the issue's goal: under twice.

Where the time goes: the sandbox logs every request the bot makes, so for each alert
the driver knows when the update was taken (getUpdates), when the file was fetched,
when the confirmation and each copy were asked for and answered; the median of each
is printed as a timeline (for `busy`, only its own text copies: the pictures' copies in
the same chats are photos). `--profile` runs the bot under cProfile instead (slower;
its figures are for proportions, not latency) and prints the CPU the event loop
spent in the bot's own functions, per alert.

`--bot-root DIR` runs the bot from another checkout (the driver and the sandbox stay
this one's): how the before-and-after figures in docs/benchmarks.md were taken.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import pstats
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw

from bench.export import WEEK
from bench.export import seed as seed_export_week
from bench.load import BotProcess, bot_environment, setting
from bench.machine import describe
from config.schemes import SchemesFile, load_schemes
from config.vocabulary import MemberStatus, Role
from sandbox import BotApiSandbox, BotHandle, Person, SandboxLimits
from sandbox.media import photo_sizes
from sandbox.state import Call
from storage.models import Member, utcnow
from storage.store import Store
from storage.transaction import transaction

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_SCHEMES = ROOT / "schemes.example.toml"
ESCALATE_AFTER_MINUTES = 60  # the most a scheme may set: never, in a run (see above)
ESCALATION = re.compile(r"^escalate_after_minutes\s*=\s*\d+", re.MULTILINE)
TOKEN = "5559998:bench-latency-token"
USERNAME = "shopwatch_latency_bot"
FIRST_MEMBER = 5_200_000_000  # clear of bench/export.py's shops and operator
WARM_UP = 3
KINDS = ("text", "file", "photo", "busy")
BOMBS = 4
BOMB_SIDE = 7070
BOMB_CAPTION = "Male 30s, grey hoodie, took two bottles of gin, heading to Haymarket"
COORDINATOR = 700001  # Norwich's, in the example schemes file
TEXT = "Man with a knife in his waistband, grey beanie, camouflage jacket, left to Magdalen St"
CHATS_OF = ("norwich", "wymondham", "great-yarmouth")
SEND_METHODS = frozenset({"sendMessage", "sendPhoto", "sendDocument", "copyMessage"})


# --- the pictures -------------------------------------------------------------------------


class Camera:
    """12-megapixel phone photos, each one different: a noisy scene with a numbered patch."""

    def __init__(self) -> None:
        noise = Image.effect_noise((4000, 3000), 12).convert("RGB")
        scene = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
        self.scene = Image.blend(scene, noise, 0.35)

    def photo(self, number: int) -> bytes:
        picture = self.scene.copy()
        draw = ImageDraw.Draw(picture)
        x, y = 200 + (number * 97) % 3400, 200 + (number * 61) % 2400
        draw.rectangle((x, y, x + 300, y + 300), fill=(number * 37 % 256, 90, 160))
        draw.text((x + 20, y + 20), f"{number}", fill=(255, 255, 255))
        out = io.BytesIO()
        picture.save(out, format="JPEG", quality=92)
        return out.getvalue()


def pixel_bomb() -> bytes:
    """50 megapixels of one colour: 0.6 MB on the wire, 150 MB decoded whole."""
    out = io.BytesIO()
    Image.new("RGB", (BOMB_SIDE, BOMB_SIDE), (200, 30, 30)).save(out, format="JPEG")
    return out.getvalue()


def numbered(jpeg: bytes, number: int) -> bytes:
    """The same picture with bytes of its own: a JPEG comment right after the start marker."""
    text = f"bench bomb {number}".encode()
    return jpeg[:2] + b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text + jpeg[2:]


# --- the run ------------------------------------------------------------------------------


@dataclass
class Sample:
    """One alert: when it was posted and seen complete, and the bot's requests meanwhile."""

    posted: float
    done: float
    member: int
    calls: list[Call] = field(default_factory=list)

    @property
    def latency(self) -> float:
        return self.done - self.posted


@dataclass
class KindResult:
    kind: str
    size: int
    samples: list[Sample]
    chats: frozenset[int]

    @property
    def methods(self) -> frozenset[str]:
        """The calls that carry this kind's copies: a busy round's pictures go to the same
        chats as photos, its measured alert as text, so only its own are counted."""
        return frozenset({"sendMessage"}) if self.kind == "busy" else SEND_METHODS

    def p99(self) -> float:
        ordered = sorted(s.latency for s in self.samples)
        return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]

    def latency(self) -> str:
        ordered = sorted(s.latency for s in self.samples)

        def at(share: float) -> float:
            return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] * 1000

        size = f", {self.size / 1e6:.1f} MB" if self.size else ""
        return (
            f"{self.kind}{size}: p50 {at(0.5):.0f} ms, p99 {at(0.99):.0f} ms, "
            f"max {ordered[-1] * 1000:.0f} ms (n={len(ordered)})"
        )

    def timeline(self) -> list[str]:
        """Median milliseconds from the update being posted to each of the bot's steps."""
        steps: dict[str, list[float]] = {}
        for sample in self.samples:
            for name, when in _steps(sample, self.chats, self.methods).items():
                steps.setdefault(name, []).append((when - sample.posted) * 1000)
        steps["last copy seen by the driver"] = [s.latency * 1000 for s in self.samples]
        ordered = sorted(steps.items(), key=lambda item: statistics.median(item[1]))
        return [f"    {statistics.median(v):6.1f} ms  {name}" for name, v in ordered]


def _steps(sample: Sample, chats: frozenset[int], methods: frozenset[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    copies = sorted(
        (c for c in sample.calls if c.method in methods and c.chat_id in chats),
        key=lambda c: c.began,
    )
    for call in sample.calls:
        if call.method == "getUpdates" and call.results and "update taken" not in out:
            out["update taken (getUpdates answered)"] = call.ended
        elif call.method == "getFile" and "getFile asked" not in out:
            out["getFile asked"] = call.began
        elif call.method == "file" and "file fetched" not in out:
            out["file fetched"] = call.ended
        elif call.method in methods and call.chat_id == sample.member:
            out.setdefault("confirmation asked", call.began)
            out.setdefault("confirmation answered", call.ended)
    for number, call in enumerate(copies, 1):
        out[f"copy {number} asked ({call.method})"] = call.began
        out[f"copy {number} answered"] = call.ended
    return out


def bench_schemes(directory: Path) -> Path:
    """The example schemes file with escalation at its latest (see above): written here."""
    text, raised = ESCALATION.subn(
        f"escalate_after_minutes = {ESCALATE_AFTER_MINUTES}", EXAMPLE_SCHEMES.read_text()
    )
    path = directory / "schemes.toml"
    path.write_text(text, encoding="utf-8")
    late = load_schemes(path)
    if raised != 1 or any(
        s.escalate_after_minutes != ESCALATE_AFTER_MINUTES for s in late.schemes
    ):
        raise RuntimeError(f"{EXAMPLE_SCHEMES}: its escalate_after_minutes are not one setting")
    return path


async def _seed(store: Store, schemes: SchemesFile, members: int) -> None:
    await store.schemes.sync(schemes)
    norwich = await store.schemes.get_by_slug("norwich")
    assert norwich.id is not None
    now = utcnow()
    async with transaction(store.sessions, "seed the benchmark's shops") as session:
        for number in range(members):
            session.add(
                Member(
                    scheme_id=norwich.id,
                    telegram_user_id=FIRST_MEMBER + number,
                    display_name=f"Bench Shop {number}",
                    shop_name=f"Shop {number}",
                    street="Haymarket",
                    role=Role.MEMBER,
                    status=MemberStatus.ACTIVE,
                    agreement_accepted_at=now,
                    approved_at=now,
                )
            )


@dataclass
class Bench:
    sandbox: BotApiSandbox
    bot: BotHandle
    chats: frozenset[int]
    camera: Camera
    next_member: int = 0
    bombs: int = BOMBS
    export: bool = True

    def member(self) -> Person:
        person = self.sandbox.user(FIRST_MEMBER + self.next_member, f"Shop {self.next_member}")
        self.next_member += 1
        return person

    def copies(self, member: Person, tag: str, after: dict[int, int]) -> int:
        """Copies of the alert tagged `tag` so far, among the messages newer than `after`
        (each chat's newest before it was posted): the wait re-counts on every request the
        bot makes, and reading every chat whole made the driver, and with it the sandbox
        answering the bot on the same loop, slower the longer a run went."""
        found = sum(
            1
            for chat in self.chats
            for m in self.sandbox.chat_messages(None, chat, after=after[chat])
            if m.from_bot and tag in m.body
        )
        return found + sum(1 for m in self.sandbox.chat_messages(self.bot, member) if m.from_bot)

    async def alert(self, kind: str, number: int) -> tuple[Sample, int]:
        member = self.member()
        tag = f"(bench {kind} {number})"
        caption = f"{TEXT} {tag}"
        if kind == "busy":
            kind = "text"
        photo = b"" if kind == "text" else self.camera.photo(number)
        if kind == "photo":
            photo_sizes(photo)  # the sandbox's own re-encoding, done before the clock
        calls = self.sandbox.state.calls
        assert calls is not None
        first_call = len(calls)
        after = {chat: self.sandbox.last_message_id(None, chat) for chat in self.chats}
        posted = time.perf_counter()
        if kind == "text":
            await member.send(self.bot, f"/alert {caption}")
        elif kind == "file":
            await member.send_document(
                self.bot, photo, f"IMG_{number:04d}.jpg", caption, mime_type="image/jpeg"
            )
        else:
            await member.send_photo(self.bot, photo, caption=caption)
        goal = len(self.chats) + 1
        await self.sandbox.wait_for(lambda: self.copies(member, tag, after) >= goal, timeout=60)
        done = time.perf_counter()
        return Sample(posted, done, member.id, calls[first_call:]), len(photo)

    def _bot_messages(self, person: Person, starting: str) -> int:
        return sum(
            1
            for m in self.sandbox.chat_messages(self.bot, person)
            if m.from_bot and m.body.startswith(starting)
        )

    async def busy_alert(self, number: int, bomb: bytes, coordinator: Person) -> Sample:
        """A text alert sent while four pixel bombs and an export are in the bot's hands."""
        shops = [self.member() for _ in range(self.bombs)]
        calls = self.sandbox.state.calls
        assert calls is not None
        first_call = len(calls)
        preparing = self._bot_messages(coordinator, "Preparing the export")
        manifests = self._bot_messages(coordinator, "Export, ")
        for index, shop in enumerate(shops):
            await shop.send_document(
                self.bot,
                numbered(bomb, number * self.bombs + index),
                f"IMG_{number:04d}_{index}.jpg",
                BOMB_CAPTION,
                mime_type="image/jpeg",
            )
        if self.export:
            period = f"{WEEK.first:%d/%m/%Y} {WEEK.last:%d/%m/%Y}"
            await coordinator.send(self.bot, f"/export {period}")

        def under_way() -> bool:
            fetched = sum(1 for c in calls[first_call:] if c.method == "file")
            asked = self._bot_messages(coordinator, "Preparing") > preparing or not self.export
            return fetched >= self.bombs and asked

        await self.sandbox.wait_for(under_way, timeout=120)
        sample, _ = await self.alert("busy", number)
        files = len(EXPORT_FILES) if self.export else 0

        def finished() -> bool:
            answered = all(self._bot_messages(shop, "") > 0 for shop in shops)
            return answered and self._bot_messages(coordinator, "Export, ") >= manifests + files

        await self.sandbox.wait_for(finished, timeout=600)
        return sample


EXPORT_FILES = ("csv", "xlsx", "pdf", "json", "manifest")


async def run(args: argparse.Namespace, directory: Path) -> list[KindResult]:
    schemes_file = bench_schemes(directory)
    schemes = load_schemes(schemes_file)
    chats = frozenset(
        chat
        for slug in CHATS_OF
        for chat in (schemes.scheme(slug).group_chat_id, schemes.scheme(slug).control_room_chat_id)
    )
    url = f"sqlite+aiosqlite:///{directory / 'latency.db'}"
    members = sum(
        (args.busy_alerts + 1) * (args.bombs + 1) if kind == "busy" else args.alerts + WARM_UP
        for kind in args.kinds
    )
    if "busy" in args.kinds and args.export_reports:
        url = await seed_export_week(directory, args.export_reports, args.export_photos)
    results: list[KindResult] = []
    async with BotApiSandbox(limits=SandboxLimits.off()) as sandbox:
        bot = sandbox.add_bot(TOKEN, USERNAME)
        for scheme in schemes.schemes:
            sandbox.group(scheme.group_chat_id, scheme.name, bots=[bot])
            sandbox.group(scheme.control_room_chat_id, f"{scheme.name} control", bots=[bot])
        store = await Store.open(url, migrate=True)
        try:
            await _seed(store, schemes, members)
        finally:
            await store.close()
        env = (
            bot_environment(sandbox, url, schemes_file, directory, 0)
            | {"SHOPWATCH_BOT_TOKEN": TOKEN, "SHOPWATCH_TELEGRAM_RATE_LIMIT": "false"}
            | dict(args.bot_env)
        )
        process = await _start(args, env, directory)
        bench = Bench(
            sandbox, bot, chats, Camera(), bombs=args.bombs, export=args.export_reports > 0
        )
        try:
            await _until_answering(sandbox, bot, process)
            sandbox.state.calls = []
            for kind in args.kinds:
                if kind == "busy":
                    results.append(await _busy(args, bench))
                    continue
                for number in range(WARM_UP):
                    await bench.alert(kind, -1 - number)
                    sandbox.state.calls.clear()
                samples, size = [], 0
                for number in range(args.alerts):
                    sample, size = await bench.alert(kind, number)
                    samples.append(sample)
                    sandbox.state.calls.clear()
                results.append(KindResult(kind, size, samples, chats))
        finally:
            await process.stop()
    return results


async def _busy(args: argparse.Namespace, bench: Bench) -> KindResult:
    bomb = pixel_bomb()
    coordinator = bench.sandbox.user(COORDINATOR, "Carol")
    calls = bench.sandbox.state.calls
    assert calls is not None
    samples = []
    for number in range(-1, args.busy_alerts):  # the first round unmeasured
        sample = await bench.busy_alert(number, bomb, coordinator)
        if number >= 0:
            samples.append(sample)
        calls.clear()
    return KindResult("busy", 0, samples, bench.chats)


async def _start(args: argparse.Namespace, env: dict[str, str], directory: Path) -> BotProcess:
    log = directory / "bot.log"
    command = [sys.executable]
    if args.profile:
        command += ["-m", "cProfile", "-o", str(directory / "bot.prof")]
    command += ["-m", "bot.cli", "run"]
    with log.open("wb") as out:
        process = await asyncio.create_subprocess_exec(
            *command,
            cwd=args.bot_root,
            env=env | {"PYTHONPATH": str(args.bot_root)},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
        )
    return BotProcess("bot", process, log)


async def _until_answering(sandbox: BotApiSandbox, bot: BotHandle, process: BotProcess) -> None:
    probe = sandbox.user(FIRST_MEMBER - 1, "Probe")
    await probe.send(bot, "/start")
    try:
        await probe.next_reply(bot, timeout=90)
    except Exception:
        print(f"--- bot log ---\n{process.tail()}", file=sys.stderr)
        raise


def profile_lines(path: Path, bot_root: Path, alerts: int, top: int = 25) -> list[str]:
    """The bot's own functions by CPU spent in them and below, per alert."""
    stats = pstats.Stats(str(path))
    raw = stats.stats  # type: ignore[attr-defined]
    rows = []
    root = str(bot_root.resolve())
    for (filename, line, function), (_, calls, _, cumulative, _) in raw.items():
        if filename.startswith(root) and "/.venv/" not in filename:
            where = f"{Path(filename).relative_to(root)}:{line} {function}"
            rows.append((cumulative, calls, where))
    rows.sort(reverse=True)
    return [
        f"    {cumulative / alerts * 1000:7.2f} ms {calls / alerts:6.1f} calls  {where}"
        for cumulative, calls, where in rows[:top]
    ]


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.alert_latency", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--alerts", type=int, default=int(os.environ.get("BENCH_ALERTS", "200")))
    parser.add_argument("--kinds", nargs="+", choices=KINDS, default=list(KINDS))
    parser.add_argument(
        "--busy-alerts",
        type=int,
        default=int(os.environ.get("BENCH_BUSY_ALERTS", "20")),
        help="rounds of the busy kind (four pixel bombs and an export each)",
    )
    parser.add_argument("--bombs", type=int, default=BOMBS, help="pixel bombs a busy round")
    parser.add_argument(
        "--export-reports", type=int, default=2000, help="0: a busy round has no export"
    )
    parser.add_argument("--export-photos", type=int, default=200)
    parser.add_argument("--profile", action="store_true", help="run the bot under cProfile")
    parser.add_argument("--bot-root", type=Path, default=ROOT, help="run the bot from here")
    parser.add_argument(
        "--bot-env",
        type=setting,
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the bot's process, e.g. SHOPWATCH_CONCURRENT_UPDATES=1 for before",
    )
    return parser.parse_args(argv)


async def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    args = _arguments(argv)
    print(describe())
    print(
        f"alert to the last of 7 copies, bot in its own process ({args.bot_root}), "
        "sandbox with zero latency and no limits, bot rate limiter off"
        + "".join(f", {name}={value}" for name, value in args.bot_env)
    )
    with tempfile.TemporaryDirectory() as tmp:
        results = await run(args, Path(tmp))
        for result in results:
            print(f"  {result.latency()}")
        by_kind = {result.kind: result for result in results}
        if "busy" in by_kind and "text" in by_kind:
            busy, idle = by_kind["busy"].p99(), by_kind["text"].p99()
            print(
                f"  busy: {args.bombs} pixel bombs ({BOMB_SIDE} x {BOMB_SIDE}) and an export of "
                f"{args.export_reports} reports in hand; its p99 is {busy / idle:.1f} x the "
                f"idle text p99 (goal: under 2)"
            )
        for result in results:
            print(f"  where the time goes, median {result.kind} alert (from the update posted):")
            print("\n".join(result.timeline()))
        profile = Path(tmp) / "bot.prof"
        if args.profile and profile.exists():
            total = (WARM_UP + args.alerts) * len(args.kinds) + 1
            print(f"  the bot's CPU on its event loop per alert (cProfile, {total} alerts):")
            print("\n".join(profile_lines(profile, args.bot_root, total)))
    print(describe())


if __name__ == "__main__":
    asyncio.run(main())
