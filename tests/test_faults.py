"""Bad days: the log goes away, Telegram storms, the process is killed mid-burst.

Alice runs Boots on Haymarket in Norwich and sends alerts while something behind
the bot fails. Each story checks what she is told (never "sent" for an alert that
is not stored), that nothing half-stored goes out, and, by counting what every chat
really holds in the sandbox, that each acknowledged alert reaches each of its chats
exactly once when the trouble is over.
"""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections import Counter
from pathlib import Path

import pytest

from bot.sandbox import FaultKind, Person
from broadcast import texts
from storage.enums import OutboxKind, OutboxState
from storage.scratch import scratch_postgres_database
from tests.storage_fixtures import POSTGRES_URL_ENV
from tests.tcp_proxy import proxied
from tests.town import Town, running_town

THEFT = "Male 30s, grey hoodie, black joggers, took 6 packs of razor blades, heading to Haymarket"
VIOLENCE = (
    "Threatened staff with a bottle, male 40s, bald, grey tracksuit, heading to Gentleman's Walk"
)
FRAUD = "Woman with two fake twenty pound notes, red coat, went towards the market"

LOG_OUTAGE_SECONDS = 10.0
"""How long the log is away in the database stories: the issue's ten seconds."""
DRAIN_TIMEOUT = 40.0
"""Long enough for the outbox's back-off (2, 4, 8, 16 s...) to come round after a storm."""


# --- reading what every chat really holds ----------------------------------------------------


def report_number(confirmation: str) -> int:
    found = re.search(r"Report #(\d+)", confirmation)
    assert found is not None, f"no report number in {confirmation!r}"
    return int(found.group(1))


def scheme_chats(town: Town) -> list[int]:
    """Every group and control room of the four schemes the bot is in."""
    return [
        chat
        for scheme in town.schemes.schemes
        for chat in (scheme.group_chat_id, scheme.control_room_chat_id)
    ]


def copies_in_chats(town: Town, report_id: int) -> Counter[int]:
    """How many cards of this report each scheme chat received (deleted ones included)."""
    mark = re.compile(rf"Report #{report_id}\b")
    return Counter(
        chat
        for chat in scheme_chats(town)
        for message in town.sandbox.chat_messages(None, chat)
        if message.from_bot and mark.search(message.body)
    )


def said_in_scheme_chats(town: Town, words: str) -> list[str]:
    return [
        message.body
        for chat in scheme_chats(town)
        for message in town.sandbox.chat_messages(None, chat)
        if message.from_bot and words in message.body
    ]


async def delivered_everywhere(town: Town, report_id: int) -> list[int]:
    """Wait until every alert copy of the report is recorded as sent; returns their chats."""

    async def all_sent() -> list[int] | None:
        rows = await town.runtime.store.outbox.for_report(report_id, kind=OutboxKind.ALERT)
        if rows and all(row.state == OutboxState.SENT for row in rows):
            return sorted(row.chat_id for row in rows)
        return None

    return await town.sandbox.wait_for(
        all_sent, DRAIN_TIMEOUT, message=f"report {report_id}'s copies never all went out"
    )


async def alert(town: Town, member: Person, text: str) -> str:
    """`member` sends `/alert text`; returns the bot's answer."""
    sent = await member.send(town.bot, f"/alert {text}")
    answer = await town.bot_message_after(member, sent.message_id, what="an answer to the alert")
    return answer.body


async def answer_to(town: Town, member: Person, text: str) -> str:
    sent = await member.send(town.bot, text)
    answer = await town.bot_message_after(member, sent.message_id, what=f"an answer to {text}")
    return answer.body


async def assert_each_chat_has_one_copy(town: Town, report_id: int) -> None:
    chats = await delivered_everywhere(town, report_id)
    assert len(chats) >= 2, "the group and the control room at least"
    assert copies_in_chats(town, report_id) == Counter(chats), "one copy in each chat, no more"


# --- the log goes away ------------------------------------------------------------------------


async def test_while_the_log_is_away_alice_is_told_to_try_again_and_her_earlier_alert_still_goes_out_once(  # noqa: E501
    tmp_path: Path,
) -> None:
    """PostgreSQL refuses every connection for ten seconds, just after Alice's alert.

    Telegram is slow to the scheme's chats, so the copies of her first alert are in
    the air when the log goes: they land while it is away and must be recorded, not
    sent again, when it is back.
    """
    server_url = os.environ.get(POSTGRES_URL_ENV)
    if not server_url:
        pytest.skip(f"PostgreSQL not tested: set {POSTGRES_URL_ENV}")
    async with (
        scratch_postgres_database(server_url, "shopwatch_faults") as database_url,
        proxied(database_url) as (line, through_the_line),
        running_town(tmp_path, database_url=through_the_line) as town,
    ):
        alice = town.person(700101, "Alice")
        await town.join(alice, shop="Boots", street="Haymarket")
        slow = town.sandbox.faults.storm(
            FaultKind.SLOW, seconds=LOG_OUTAGE_SECONDS, chats=scheme_chats(town), hang=2.0
        )

        confirmation = await alert(town, alice, THEFT)
        await town.sandbox.wait_for(lambda: slow.struck > 0, message="no copy went out")
        line.cut()
        cut_at = time.monotonic()

        assert confirmation.startswith("Alert sent to"), confirmation
        assert await alert(town, alice, VIOLENCE) == texts.LOG_UNAVAILABLE
        assert await answer_to(town, alice, "/start") == texts.LOG_UNAVAILABLE
        await asyncio.sleep(max(0.0, cut_at + LOG_OUTAGE_SECONDS - time.monotonic()))
        line.restore()

        first = report_number(confirmation)
        await assert_each_chat_has_one_copy(town, first)
        assert line.refused > 0, "the bot really knocked on a closed door"
        assert (await answer_to(town, alice, "/start")).startswith("Hello Alice")
        again = await alert(town, alice, FRAUD)
        assert again.startswith("Alert sent to"), again
        assert report_number(again) == first + 1, "the refused alert left no report behind"
        await assert_each_chat_has_one_copy(town, report_number(again))
        assert not said_in_scheme_chats(town, "Threatened staff"), (
            "the refused alert never went out"
        )
