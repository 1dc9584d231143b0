"""From a member's alert reaching the bot to its last copy arriving, text and 12 MP photo.

The sandbox answers with zero network latency and without Telegram's limits, and
the bot's own rate limiter is off (SHOPWATCH_TELEGRAM_RATE_LIMIT=false), so the
figures are the bot's pipeline: update, parse, photo re-encode, one transaction,
outbox, seven sends (the reporter's confirmation, Norwich's group and control room,
Wymondham's and Great Yarmouth's group and control room for a violence alert).
"""

from __future__ import annotations

import asyncio
import io
import os
import tempfile
import time
from pathlib import Path

from PIL import Image

from bench.deployment import start_bot
from bench.machine import describe, percentiles
from bot.runtime import BotRuntime
from bot.sandbox import BotApiSandbox, BotHandle, Person, SandboxLimits
from broadcast.posting_limit import PostingLimit
from storage.enums import MemberStatus, Role
from storage.models import Member

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "5559998:bench-latency-token"
ALERTS = int(os.environ.get("BENCH_ALERTS", "200"))
PHOTO_ALERTS = int(os.environ.get("BENCH_PHOTO_ALERTS", str(ALERTS)))
TEXT = "Man with a knife in his waistband, grey beanie, camouflage jacket, left to Magdalen St"


def twelve_megapixel_jpeg() -> bytes:
    """4000x3000 with detail and sensor noise, about the size a phone camera sends."""
    noise = Image.effect_noise((4000, 3000), 12).convert("RGB")
    scene = Image.linear_gradient("L").resize((4000, 3000)).convert("RGB")
    image = Image.blend(scene, noise, 0.35)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=92)
    return out.getvalue()


async def _town(
    sandbox: BotApiSandbox, directory: Path
) -> tuple[BotRuntime, BotHandle, list[int]]:
    runtime, bot, schemes = await start_bot(
        sandbox, directory, TOKEN, "shopwatch_latency_bot", rate_limit=False
    )
    targets = [
        chat
        for slug in ("norwich", "wymondham", "great-yarmouth")
        for chat in (
            schemes.scheme(slug).group_chat_id,
            schemes.scheme(slug).control_room_chat_id,
        )
    ]
    return runtime, bot, targets


async def _member(runtime: BotRuntime, sandbox: BotApiSandbox) -> Person:
    scheme = await runtime.store.schemes.get_by_slug("norwich")
    assert scheme.id is not None
    await runtime.store.members.add(
        Member(
            scheme_id=scheme.id,
            telegram_user_id=5_100_000_001,
            display_name="Bench Shop",
            shop_name="Boots",
            street="Haymarket",
            role=Role.MEMBER,
            status=MemberStatus.ACTIVE,
        )
    )
    return sandbox.user(5_100_000_001, "Bench")


def _copies(sandbox: BotApiSandbox, bot: BotHandle, member: Person, chats: list[int]) -> int:
    """Bot messages in the six alert chats plus the member's private chat."""
    total = sum(1 for chat in chats for m in sandbox.chat_messages(None, chat) if m.from_bot)
    return total + sum(1 for m in sandbox.chat_messages(bot, member) if m.from_bot)


async def run(kind: str, count: int, directory: Path) -> str:
    photo = twelve_megapixel_jpeg() if kind == "photo" else b""
    async with BotApiSandbox(limits=SandboxLimits.off()) as sandbox:
        runtime, bot, chats = await _town(sandbox, directory)
        # One shop sends every alert, far over a member's posting limit: lift it here.
        runtime.services.alerts.posting_limit = PostingLimit(per_minute=count + 1)
        try:
            member = await _member(runtime, sandbox)
            samples: list[float] = []
            for number in range(count):
                expected = _copies(sandbox, bot, member, chats) + len(chats) + 1
                began = time.perf_counter()
                if kind == "photo":
                    await member.send_photo(bot, photo, caption=f"{TEXT} ({number})")
                else:
                    await member.send(bot, f"/alert {TEXT} ({number})")

                def arrived(goal: int = expected) -> bool:
                    return _copies(sandbox, bot, member, chats) >= goal

                await sandbox.wait_for(arrived, timeout=30)
                samples.append(time.perf_counter() - began)
                member.skip_replies(bot)
        finally:
            await runtime.stop()
    size = f", photo {len(photo) / 1e6:.1f} MB" if photo else ""
    return f"alert to last of 7 copies, {kind}{size}: {percentiles(samples, 99)}"


async def main() -> None:
    os.environ.setdefault("PTB_TIMEDELTA", "true")
    print(describe())
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "text").mkdir()
        (Path(tmp) / "photo").mkdir()
        print(await run("text", ALERTS, Path(tmp) / "text"))
        print(await run("photo", PHOTO_ALERTS, Path(tmp) / "photo"))
    print(describe())


if __name__ == "__main__":
    asyncio.run(main())
