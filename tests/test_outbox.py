"""The outbox worker against the sandbox: what happens when Telegram says no, or we stop.

Each story checks the promises of the path of an alert: a row is sent once and
only once, a flood limit is waited out rather than hammered, a chat that threw
the bot out is reported to its coordinators (once), and whatever was queued
when the bot stopped goes out after it starts again.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import timedelta

from bot.runtime import BotRuntime
from broadcast.outbox import OutboxWorker
from config.vocabulary import Category, OutboxState, Urgency
from sandbox import SandboxLimits
from storage.models import OutboxRow, Report, utcnow
from storage.outbox import Delivery
from storage.outbox_payloads import AlertPayload, EditPayload
from storage.store import Store
from tests.sandbox_fixtures import client_for
from tests.town import Town, telegram_worker

NORWICH_GROUP = -1001000000001
NORWICH_CONTROL_ROOM = -1001000000002

BURST_LIMITS = SandboxLimits(global_per_second=5.0, per_group_per_minute=1000)
"""Flood limits a burst hits within the ten messages of a chat one claim takes (Telegram's
per-group minute would make the test wait a minute for the same lesson)."""


async def queue_report(
    town: Town, deliveries: Sequence[Delivery], scheme_slug: str = "norwich"
) -> Report:
    scheme = await town.runtime.store.schemes.get_by_slug(scheme_slug)
    assert scheme.id is not None
    report = Report(
        scheme_id=scheme.id,
        category=Category.THEFT,
        urgency=Urgency.NOW,
        description="Grey hoodie took razor blades, heading to Haymarket",
    )
    stored = await town.runtime.store.reports.create(report, deliveries)
    town.runtime.outbox.wake()
    return stored


def alert(chat_id: int, text: str) -> Delivery:
    return Delivery(chat_id, AlertPayload(text=text))


async def rows_of(store: Store, report: Report) -> list[OutboxRow]:
    assert report.id is not None
    return await store.outbox.for_report(report.id)


async def handled(store: Store, *reports: Report) -> bool:
    """Every row of these reports sent or given up."""
    for report in reports:
        rows = await rows_of(store, report)
        if any(row.state not in (OutboxState.SENT, OutboxState.FAILED) for row in rows):
            return False
    return True


async def until(town: Town, probe: Callable[[], Awaitable[bool]], what: str) -> None:
    """Wait for a condition the log knows (the sandbox sees only the chats)."""
    reached: bool = await town.sandbox.wait_for(probe, timeout=15, message=what)
    assert reached


def bot_texts(town: Town, chat_id: int) -> list[str]:
    return [m.body for m in town.sandbox.chat_messages(town.bot, chat_id) if m.from_bot]


@asynccontextmanager
async def plain_worker(town: Town) -> AsyncIterator[OutboxWorker]:
    """The bot's own worker stopped, and one on a client without python-telegram-bot's
    rate limiter in its place, so every 429 reaches the worker itself."""
    await town.runtime.outbox.stop()
    services = town.runtime.services
    async with client_for(town.sandbox, town.bot) as client:
        worker = telegram_worker(
            client, services.store, services.photos, services.settings.data_dir, services.schemes
        )
        try:
            yield worker
        finally:
            await worker.stop()


async def test_a_burst_over_the_flood_limit_waits_as_told_and_sends_each_alert_once(
    polling_town: Town,
) -> None:
    town = polling_town
    async with plain_worker(town) as worker:
        report = await queue_report(
            town, [alert(NORWICH_GROUP, f"Alert {n}") for n in range(1, 26)]
        )
        town.sandbox.limits = BURST_LIMITS

        started = utcnow()
        await worker.run_once()

        store = town.runtime.store
        rows = await rows_of(store, report)
        put_back = [row for row in rows if row.state == OutboxState.PENDING and row.last_error]
        assert put_back, "the sandbox answered part of the burst with 429"
        first = put_back[0]
        assert first.last_error == "flood limit: retry after 1.0s"
        assert all(row.next_attempt_at >= started + timedelta(seconds=1) for row in put_back)
        assert await worker.run_once(now=started) == 0, (
            "nothing is retried before its time, and the rest of the chat waits behind it"
        )

        worker.start()
        await until(town, lambda: handled(store, report), "the burst delivered")

    rows = await rows_of(store, report)
    assert {row.state for row in rows} == {OutboxState.SENT}
    assert len({row.telegram_message_id for row in rows}) == 25
    assert bot_texts(town, NORWICH_GROUP) == [f"Alert {n}" for n in range(1, 26)]


async def test_a_chat_that_threw_the_bot_out_is_given_up_and_coordinators_hear_once(
    polling_town: Town,
) -> None:
    town = polling_town
    town.coordinator.open_chat(town.bot)
    town.sandbox.kick_bot(town.bot, town.group)

    first = await queue_report(
        town, [alert(NORWICH_CONTROL_ROOM, "Alert 1"), alert(NORWICH_GROUP, "Alert 1")]
    )
    second = await queue_report(
        town, [alert(NORWICH_CONTROL_ROOM, "Alert 2"), alert(NORWICH_GROUP, "Alert 2")]
    )
    store = town.runtime.store
    await until(town, lambda: handled(store, first, second), "both alerts handled")

    for report in (first, second):
        states = {row.chat_id: row.state for row in await rows_of(store, report)}
        assert states == {
            NORWICH_CONTROL_ROOM: OutboxState.SENT,
            NORWICH_GROUP: OutboxState.FAILED,
        }
    unreachable = f"ShopWatch cannot post in chat {NORWICH_GROUP}"

    def told() -> list[str]:
        return [
            text for text in bot_texts(town, town.coordinator.id) if text.startswith(unreachable)
        ]

    await town.sandbox.wait_for(told, message="the coordinator told")
    await town.runtime.outbox.run_once()
    assert len(told()) == 1, "once, not once per lost alert"
    assert bot_texts(town, NORWICH_CONTROL_ROOM) == ["Alert 1", "Alert 2"]


async def test_what_a_stopped_bot_left_queued_goes_out_once_and_in_order_after_the_restart(
    polling_town: Town,
) -> None:
    town = polling_town
    await town.runtime.outbox.stop()
    store = town.runtime.store
    claimed = await queue_report(town, [alert(NORWICH_GROUP, "Claimed by a worker that died")])
    assert len(await store.outbox.claim_due("worker-that-died", utcnow())) == 1
    left = await queue_report(
        town, [alert(NORWICH_CONTROL_ROOM, "Queued while stopped"), alert(NORWICH_GROUP, "Queued")]
    )
    await town.runtime.stop()
    assert bot_texts(town, NORWICH_GROUP) == []

    restarted = BotRuntime(town.runtime.settings, town.schemes)
    await restarted.start()
    try:
        store = restarted.store
        # On SQLite the restarted bot is the only sender: the dead one's claim is put back
        # at once rather than after its lease, and the group's rows keep their order.
        await until(town, lambda: handled(store, claimed, left), "the queue sent after restart")
    finally:
        await restarted.stop()

    assert bot_texts(town, NORWICH_CONTROL_ROOM) == ["Queued while stopped"]
    assert bot_texts(town, NORWICH_GROUP) == ["Claimed by a worker that died", "Queued"]


async def test_an_older_edit_retried_late_does_not_undo_a_newer_one(polling_town: Town) -> None:
    town = polling_town
    report = await queue_report(town, [alert(NORWICH_GROUP, "Status: waiting")])
    store = town.runtime.store
    await until(town, lambda: handled(store, report), "the copy sent")
    copy = (await rows_of(store, report))[0]
    assert report.id is not None
    assert copy.id is not None
    later = utcnow() + timedelta(minutes=1)
    older = Delivery(
        NORWICH_GROUP,
        EditPayload(target=copy.id, text="Status: Acknowledged"),
        not_before=later,
    )
    newer = Delivery(NORWICH_GROUP, EditPayload(target=copy.id, text="Status: On camera"))
    outbox = store.outbox
    await outbox.enqueue(report.scheme_id, older, report_id=report.id)
    await outbox.enqueue(report.scheme_id, newer, report_id=report.id)
    town.runtime.outbox.wake()
    await town.sandbox.wait_for(lambda: bot_texts(town, NORWICH_GROUP) == ["Status: On camera"])

    await town.runtime.outbox.run_once(now=later + timedelta(seconds=1))

    assert await handled(store, report)
    assert bot_texts(town, NORWICH_GROUP) == ["Status: On camera"]


async def test_a_group_held_to_its_minute_does_not_hold_up_another_towns_alert(
    polling_town: Town,
) -> None:
    town = polling_town
    wymondham_group = town.schemes.scheme("wymondham").group_chat_id
    await queue_report(town, [alert(NORWICH_GROUP, f"Norwich {n}") for n in range(1, 31)])
    await town.sandbox.wait_for(
        lambda: len(bot_texts(town, NORWICH_GROUP)) >= 20, message="the group's first twenty"
    )

    # Telegram allows a group 20 messages a minute: the bot's limiter holds the other ten.
    await queue_report(town, [alert(wymondham_group, "Wymondham 1")], scheme_slug="wymondham")

    await town.sandbox.wait_for(
        lambda: bot_texts(town, wymondham_group) == ["Wymondham 1"], message="Wymondham's alert"
    )
    norwich = bot_texts(town, NORWICH_GROUP)
    assert len(norwich) < 30, "Norwich's group is still waiting for its next minute"
    assert norwich == [f"Norwich {n}" for n in range(1, len(norwich) + 1)]
