"""How fast the bot answers and how fast the outbox drains, against the local sandbox.

1. `/start` round trip: a person sends the command, the test reads the reply
   (sandbox -> getUpdates -> handler -> sendMessage), one after another.
2. Outbox drain: N queued messages spread over the four schemes' chats, from
   enqueue to the last one delivered, with the sandbox's Telegram limits off
   (the bot's own speed) and on (what Telegram would allow).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

from bench.deployment import start_bot
from bench.machine import describe, percentiles
from bot.runtime import BotRuntime
from sandbox import BotApiSandbox, BotHandle, SandboxLimits
from storage.outbox import Delivery
from storage.outbox_payloads import MessagePayload

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "5559999:bench-token"
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "100"))
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "200"))


async def _runtime(sandbox: BotApiSandbox, directory: Path) -> tuple[BotRuntime, BotHandle]:
    runtime, bot, _ = await start_bot(sandbox, directory, TOKEN, "shopwatch_bench_bot")
    return runtime, bot


async def start_round_trip(directory: Path) -> str:
    async with BotApiSandbox(limits=SandboxLimits.off()) as sandbox:
        runtime, bot = await _runtime(sandbox, directory)
        try:
            person = sandbox.user(910001, "Bench")
            samples = []
            for _ in range(ROUNDS):
                began = time.perf_counter()
                await person.send(bot, "/start")
                await person.next_reply(bot, timeout=10)
                samples.append(time.perf_counter() - began)
        finally:
            await runtime.stop()
    return f"/start round trip: {percentiles(samples)}"


async def outbox_drain(directory: Path, limits: SandboxLimits, label: str) -> str:
    async with BotApiSandbox(limits=limits) as sandbox:
        runtime, _ = await _runtime(sandbox, directory)
        try:
            store = runtime.store
            chats = [
                (scheme.id, chat)
                for scheme in await store.schemes.list_all()
                for chat in (scheme.group_chat_id, scheme.control_room_chat_id)
            ]
            began = time.perf_counter()
            for number in range(MESSAGES):
                scheme_id, chat = chats[number % len(chats)]
                assert scheme_id is not None
                await store.outbox.enqueue(
                    scheme_id,
                    Delivery(chat, MessagePayload(text=f"bench message {number}")),
                )
            runtime.outbox.wake()
            queued = time.perf_counter() - began

            def delivered() -> bool:
                return (
                    sum(
                        1
                        for _, chat in chats
                        for m in sandbox.chat_messages(None, chat)
                        if m.from_bot
                    )
                    >= MESSAGES
                )

            await sandbox.wait_for(delivered, timeout=900)
            elapsed = time.perf_counter() - began
        finally:
            await runtime.stop()
    return (
        f"outbox drain, {label}: {MESSAGES} messages to {len(chats)} chats in {elapsed:.2f} s "
        f"({MESSAGES / elapsed:.1f} msg/s; queueing took {queued:.2f} s)"
    )


async def main() -> None:
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    print(describe())
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        (base / "a").mkdir()
        (base / "b").mkdir()
        (base / "c").mkdir()
        print(await start_round_trip(base / "a"))
        print(await outbox_drain(base / "b", SandboxLimits.off(), "Telegram limits off"))
        print(await outbox_drain(base / "c", SandboxLimits(), "Telegram limits on"))
    print(describe())


if __name__ == "__main__":
    asyncio.run(main())
