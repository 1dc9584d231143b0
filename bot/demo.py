"""`shopwatch demo`: the whole bot against the local Bot API sandbox, no token needed.

It plays a short scripted scenario through the sandbox's people and prints what
every chat received, so a newcomer sees the product work in under a minute.
`--serve` keeps everything running for exploring by hand (the sandbox URL is
printed; drive it from a Python shell with the `sandbox` package).
The sandbox is a distribution of its own (`sandbox/`, not in the product's wheel):
the command line checks it is installed before importing this module.
"""

from __future__ import annotations

import asyncio
import importlib.resources
import io
import logging
import re
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from PIL import Image, ImageDraw
from pydantic import SecretStr

from bot.runtime import BotRuntime
from broadcast.texts import membership as membership_texts
from config.schemes import SchemesFile, load_schemes
from config.settings import Settings
from config.vocabulary import Role
from sandbox import BotApiSandbox, BotHandle, Group, MessageView, Person, SandboxLimits

logger = logging.getLogger(__name__)

DEMO_TOKEN = "7000001:demo-token-not-secret"
SCENARIO_SECONDS = 50


def example_schemes_path() -> Path:
    """The example schemes file: the project's, or the copy an installed wheel carries."""
    for candidate in (
        Path.cwd() / "schemes.example.toml",
        Path(__file__).resolve().parent.parent / "schemes.example.toml",
        Path(str(importlib.resources.files("config") / "schemes.example.toml")),
    ):
        if candidate.exists():
            return candidate
    raise FileNotFoundError("schemes.example.toml not found: run the demo from the project")


@dataclass
class DemoTown:
    sandbox: BotApiSandbox
    bot: BotHandle
    schemes: SchemesFile
    people: dict[str, Person]
    chats: dict[str, Group]
    runtime: BotRuntime | None = None


Step = Callable[[DemoTown], Awaitable[str]]


async def _coordinator_starts(town: DemoTown) -> str:
    carol = town.people["coordinator"]
    await carol.send(town.bot, "/start")
    await carol.next_reply(town.bot)
    return "Carol, Norwich's coordinator, opens the bot"


async def _stranger_asks(town: DemoTown) -> str:
    sam = town.people["stranger"]
    await sam.send(town.bot, "/start")
    await sam.next_reply(town.bot)
    return "Sam, not yet a member, is told how to join"


DEMO_SIGHTING = (
    "Male 30s, grey hoodie, black joggers, took 6 packs of razor blades, heading towards Haymarket"
)


def _demo_photo() -> bytes:
    """A still as a shop's camera might take it: a figure in a grey hoodie by the door."""
    image = Image.new("RGB", (800, 600), (214, 208, 196))
    draw = ImageDraw.Draw(image)
    draw.rectangle((520, 80, 760, 560), fill=(120, 90, 60))  # the door
    draw.ellipse((300, 110, 380, 190), fill=(224, 190, 160))  # head
    draw.rectangle((280, 190, 400, 400), fill=(128, 128, 128))  # grey hoodie
    draw.rectangle((290, 400, 390, 560), fill=(30, 30, 30))  # black joggers
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()


async def _say(person: Person, town: DemoTown, text: str) -> MessageView:
    await person.send(town.bot, text)
    return await person.next_reply(town.bot, timeout=10)


async def _join(town: DemoTown, key: str, role: Role, shop: str, street: str) -> dict[str, str]:
    """The real path: /invite, the link, three questions, I agree, Approve; returns the
    personal join links the bot then sends, by chat."""
    carol, person = town.people["coordinator"], town.people[key]
    command = "/invite" if role is Role.MEMBER else f"/invite {role}"
    invite = await _say(carol, town, command)
    code = re.search(r"\?start=([A-Za-z0-9_-]+)", invite.body)
    if code is None:
        raise RuntimeError(f"no invite link in {invite.body!r}")
    await _say(person, town, f"/start {code.group(1)}")
    await _say(person, town, person.name)
    await _say(person, town, shop)
    agreement = await _say(person, town, street)
    await person.press(agreement, membership_texts.BUTTON_AGREE)
    sent = membership_texts.join_sent(town.schemes.scheme("norwich").name)

    def thanked() -> bool:
        return any(
            m.from_bot and m.body == sent for m in town.sandbox.chat_messages(town.bot, person)
        )

    # Her thanks come before Carol's Approve, as they would with a person at the desk: the
    # demo's Carol answers at once, and nothing of the join is left to be read later.
    await town.sandbox.wait_for(thanked, timeout=10)

    def card() -> MessageView | None:
        for message in reversed(town.sandbox.chat_messages(town.bot, carol)):
            if message.from_bot and membership_texts.BUTTON_APPROVE in message.button_texts:
                return message
        return None

    await carol.press(
        await town.sandbox.wait_for(card, timeout=10), membership_texts.BUTTON_APPROVE
    )

    welcome = membership_texts.welcome_approved(town.schemes.scheme("norwich").name, role)

    def welcomed() -> bool:
        return any(
            m.from_bot and m.body == welcome for m in town.sandbox.chat_messages(town.bot, person)
        )

    await town.sandbox.wait_for(welcomed, timeout=10)

    def links() -> dict[str, str] | None:
        for message in town.sandbox.chat_messages(town.bot, person):
            if message.from_bot and message.body.startswith("Your personal links"):
                pattern = r"^(the group|the control room): (https://t\.me/\+\S+)$"
                return dict(re.findall(pattern, message.body, re.MULTILINE))
        return None

    personal = await town.sandbox.wait_for(links, timeout=10)
    person.skip_replies(town.bot)
    carol.skip_replies(town.bot)
    return personal


async def _enter(town: DemoTown, key: str, chat: str, link: str) -> None:
    """`key` opens their personal link and asks to join; the bot lets them in."""
    person, group = town.people[key], town.chats[chat]
    await person.ask_to_join(link)
    await town.sandbox.wait_for(lambda: group.holds(person) or None, timeout=10)


async def _members_approved(town: DemoTown) -> str:
    alice = await _join(town, "member", Role.MEMBER, "Boots", "Haymarket")
    dave = await _join(town, "operator", Role.OPERATOR, "CCTV control room", "City Hall")
    await _enter(town, "member", "norwich-group", alice["the group"])
    await _enter(town, "operator", "norwich-control", dave["the control room"])
    return (
        "Carol sends /invite; Alice (Boots, Haymarket) and Dave (CCTV control room) open "
        "their links, answer three questions, accept the agreement and Carol approves them; "
        "each opens the personal link the bot sends and the bot lets them into their chats"
    )


def _copies(town: DemoTown, chats: tuple[str, ...]) -> dict[str, MessageView] | None:
    """The newest alert copy in each chat, once every one of them has one."""
    found: dict[str, MessageView] = {}
    for name in chats:
        shown = [
            m
            for m in town.sandbox.chat_messages(town.bot, town.chats[name])
            if m.from_bot and m.photo is not None
        ]
        if not shown:
            return None
        found[name] = shown[-1]
    return found


ALERT_CHATS = ("norwich-group", "norwich-control", "wymondham-group", "wymondham-control")


async def _photo_alert(town: DemoTown) -> str:
    alice = town.people["member"]
    await alice.send_photo(town.bot, _demo_photo(), caption=DEMO_SIGHTING)
    confirmation = await alice.next_reply(town.bot)
    await town.sandbox.wait_for(lambda: _copies(town, ALERT_CHATS), timeout=20)
    return (
        "Alice sends one photo with a caption; the bot answers "
        f'"{confirmation.body.splitlines()[0]}" and the Norwich group, its control room '
        "and Wymondham's group and control room each get the photo alert"
    )


async def _operator_on_camera(town: DemoTown) -> str:
    dave = town.people["operator"]
    copies = _copies(town, ALERT_CHATS)
    assert copies is not None
    await dave.press(copies["norwich-control"], "On camera")

    def all_updated() -> bool:
        now = _copies(town, ALERT_CHATS)
        return now is not None and all("Status: On camera" in m.body for m in now.values())

    await town.sandbox.wait_for(all_updated, timeout=20)
    return "Dave taps On camera in the control room; every copy now shows it"


async def _operator_searches(town: DemoTown) -> str:
    dave = town.people["operator"]
    results = await _say(dave, town, "/search grey hoodie since:7d")
    found = [line for line in results.body.splitlines() if line.startswith("1 ·")]
    return f'Dave searches the log for "grey hoodie since:7d" and finds "{"".join(found)}"'


async def _coordinator_exports(town: DemoTown) -> str:
    carol = town.people["coordinator"]
    today = datetime.now(ZoneInfo(town.schemes.scheme("norwich").timezone)).date()
    await carol.send(town.bot, f"/export {today - timedelta(days=6)} {today}")

    def documents() -> list[MessageView] | None:
        files = [
            m
            for m in town.sandbox.chat_messages(town.bot, carol)
            if m.from_bot and m.document is not None
        ]
        return files if len(files) >= 5 else None

    files = await town.sandbox.wait_for(documents, timeout=30)
    names = ", ".join(m.document.file_name or "?" for m in files if m.document)
    return f"Carol exports the last seven days and receives the police package: {names}"


SCENARIO: tuple[Step, ...] = (
    _coordinator_starts,
    _stranger_asks,
    _members_approved,
    _photo_alert,
    _operator_on_camera,
    _operator_searches,
    _coordinator_exports,
)


def _build_town(sandbox: BotApiSandbox, schemes: SchemesFile) -> DemoTown:
    bot = sandbox.add_bot(DEMO_TOKEN, "shopwatch_demo_bot", "ShopWatch")
    norwich = schemes.scheme("norwich")
    people = {
        "coordinator": sandbox.user(norwich.coordinators[0], "Carol", username="carol_coord"),
        "stranger": sandbox.user(900001, "Sam"),
        "member": sandbox.user(900002, "Alice"),
        "operator": sandbox.user(900003, "Dave"),
    }
    chats: dict[str, Group] = {}
    for scheme in schemes.schemes:
        chats[f"{scheme.slug}-group"] = sandbox.group(
            scheme.group_chat_id, scheme.name, bots=[bot]
        )
        chats[f"{scheme.slug}-control"] = sandbox.group(
            scheme.control_room_chat_id, f"{scheme.name} control room", bots=[bot]
        )
    chats["norwich-group"].add_member(people["coordinator"])
    return DemoTown(sandbox, bot, schemes, people, chats)


async def run_demo(*, serve: bool = False, directory: str | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    workdir = Path(directory) if directory else Path(tempfile.mkdtemp(prefix="shopwatch-demo-"))
    workdir.mkdir(parents=True, exist_ok=True)
    schemes_path = example_schemes_path()
    schemes = load_schemes(schemes_path)
    async with BotApiSandbox(limits=SandboxLimits()) as sandbox:
        town = _build_town(sandbox, schemes)
        settings = Settings(
            _env_file=None,
            bot_token=SecretStr(DEMO_TOKEN),
            telegram_api_url=sandbox.base_url,
            telegram_file_url=sandbox.base_file_url,
            database_url=f"sqlite+aiosqlite:///{workdir / 'shopwatch.db'}",
            schemes_file=schemes_path,
            data_dir=workdir / "data",
            listen_host="127.0.0.1",
            listen_port=0,
            log_level="WARNING",
        )
        runtime = BotRuntime(settings, schemes)
        await runtime.start()
        town.runtime = runtime
        try:
            print(f"ShopWatch demo: sandbox at {sandbox.url}, data in {workdir}\n")
            async with asyncio.timeout(SCENARIO_SECONDS):
                for number, step in enumerate(SCENARIO, start=1):
                    print(f"{number}. {await step(town)}")
            print("\nWhat every chat holds now:\n")
            print(sandbox.transcript())
            print(f"\nDatabase: {workdir / 'shopwatch.db'}\nFiles:    {workdir / 'data'}")
            if serve:
                print(
                    f"\nServing: Bot API sandbox {sandbox.url}, bot health "
                    f"http://127.0.0.1:{runtime.port}/healthz. Ctrl-C to stop."
                )
                await asyncio.Event().wait()
        except TimeoutError:
            print("the demo scenario did not finish in time", flush=True)
            return 1
        finally:
            await runtime.stop()
    return 0
