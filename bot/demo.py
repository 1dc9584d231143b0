"""`shopwatch demo`: the whole bot against the local Bot API sandbox, no token needed.

It plays a short scripted scenario through the sandbox's people and prints what
every chat received, so a newcomer sees the product work in under a minute.
`--serve` keeps everything running for exploring by hand (the sandbox URL is
printed; drive it from a Python shell with `bot.sandbox`).
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from bot.runtime import BotRuntime
from bot.sandbox import BotApiSandbox, BotHandle, Group, Person, SandboxLimits
from config.schemes import SchemesFile, load_schemes
from config.settings import Settings

logger = logging.getLogger(__name__)

DEMO_TOKEN = "7000001:demo-token-not-secret"
SCENARIO_SECONDS = 50


def example_schemes_path() -> Path:
    for candidate in (
        Path.cwd() / "schemes.example.toml",
        Path(__file__).resolve().parent.parent / "schemes.example.toml",
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


SCENARIO: tuple[Step, ...] = (_coordinator_starts, _stranger_asks)


def _build_town(sandbox: BotApiSandbox, schemes: SchemesFile) -> DemoTown:
    bot = sandbox.add_bot(DEMO_TOKEN, "shopwatch_demo_bot", "ShopWatch")
    norwich = schemes.scheme("norwich")
    people = {
        "coordinator": sandbox.user(norwich.coordinators[0], "Carol", username="carol_coord"),
        "stranger": sandbox.user(900001, "Sam"),
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
