"""One member cannot flood every chat: their changes are limited, and a chat rings once.

Alice sends a theft alert, then presses Log only and Happening now fifteen times each,
as a stuck phone or a misuse would. Every chat the alert reached (Norwich's group and
control room, Wymondham's) holds one message from the bot about it, the copy that rang
their phones, edited each time; past twenty changes in a minute Alice is told to wait,
each press answered, the burst audited once. A scheme that sets its own
`member_actions_per_minute` has it kept for every kind of change: presses, Add update,
a reply, a location, an edit, and the questions the bot asks about plain words.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from broadcast.alerts import ACTION_LIMIT
from broadcast.posting_limit import PostingLimit
from broadcast.texts import alerts as alert_texts
from broadcast.texts import intake as intake_texts
from config.vocabulary import AuditOutcome, OutboxKind
from sandbox import MessageView
from storage.models import AuditEntry
from tests.test_alerts import (
    NORWICH,
    THEFT,
    WYMONDHAM,
    alice,
    copies,
    drained,
    the_log,
)
from tests.test_chat_guard import schemes_with
from tests.town import Town, running_town

PAIRS = 15


async def refusals_audited(town: Town) -> list[AuditEntry]:
    entries = await town.runtime.store.audit.recent(500)
    return [e for e in entries if e.action == ACTION_LIMIT and e.outcome == AuditOutcome.REFUSED]


def the_bots_messages_about(town: Town, chat: int, report_id: int) -> list[MessageView]:
    return [
        m
        for m in town.sandbox.chat_messages(town.bot, chat)
        if m.from_bot and f"Report #{report_id}" in m.body
    ]


async def test_log_only_and_happening_now_over_and_over_ring_each_chat_once(
    polling_town: Town,
) -> None:
    town = polling_town
    shopkeeper = await alice(town)
    await shopkeeper.send(town.bot, f"/alert {THEFT}")
    confirmation = await shopkeeper.next_reply(town.bot)
    received = await copies(town, NORWICH + WYMONDHAM)
    [report] = await the_log(town)
    assert report.id is not None

    def offering(button: str) -> Callable[[], bool]:
        return lambda: button in town.sandbox.refresh(confirmation).button_texts

    answers = []
    for _ in range(2 * PAIRS):  # Log only, then Happening now, whichever the card offers
        card = town.sandbox.refresh(confirmation)
        button = next(b for b in ("Log only", "Happening now") if b in card.button_texts)
        answers.append(await shopkeeper.press(card, button))
        if answers[-1] != alert_texts.too_many_changes(20):
            other = "Happening now" if button == "Log only" else "Log only"
            await town.sandbox.wait_for(offering(other), message=f"{other!r} offered")
    await drained(town, report.id)

    allowed = [a for a in answers if a != alert_texts.too_many_changes(20)]
    assert len(allowed) == 20, "twenty changes in a minute are made"
    assert answers[20:] == [alert_texts.too_many_changes(20)] * (len(answers) - 20)
    for chat, copy in received.items():
        shown = the_bots_messages_about(town, chat, report.id)
        assert [m.message_id for m in shown] == [copy.message_id], f"one message in {chat}"
        assert not shown[0].deleted
        assert shown[0].body.startswith("🚨 Theft – happening now"), "the copy follows"
    rows = await town.runtime.store.outbox.for_report(report.id, kind=OutboxKind.ALERT)
    assert sorted(row.chat_id for row in rows) == sorted(NORWICH + WYMONDHAM)
    assert len(await refusals_audited(town)) == 1, "the burst is audited once"


async def test_a_schemes_own_limit_holds_for_every_kind_of_change(tmp_path: Path) -> None:
    schemes = schemes_with(**{"member_actions_per_minute = 20": "member_actions_per_minute = 4"})
    async with running_town(tmp_path, schemes=schemes) as town:
        shopkeeper = await alice(town)
        await shopkeeper.send(town.bot, f"/alert {THEFT}")
        confirmation = await shopkeeper.next_reply(town.bot)
        await copies(town, NORWICH)
        [report] = await the_log(town)
        assert report.id is not None
        await drained(town, report.id)
        refused = alert_texts.too_many_changes(4)

        await shopkeeper.press(confirmation, alert_texts.category_to_change("theft"))
        await shopkeeper.press(town.sandbox.refresh(confirmation), alert_texts.BUTTON_BACK)
        await shopkeeper.send(town.bot, "gone into Primark", reply_to=confirmation)
        assert (await shopkeeper.next_reply(town.bot)).body == alert_texts.alert_update_added(
            report.id
        )
        await shopkeeper.send_location(town.bot, 52.62834, 1.29237)
        await shopkeeper.next_reply(town.bot)
        events = len(await town.runtime.store.reports.events(report.id))

        pressed = await shopkeeper.press(
            town.sandbox.refresh(confirmation), alert_texts.category_to_change("theft")
        )
        await shopkeeper.send(town.bot, "back by the tills", reply_to=confirmation)
        reply = await shopkeeper.next_reply(town.bot)
        await shopkeeper.send_location(town.bot, 52.63, 1.29)
        located = await shopkeeper.next_reply(town.bot)
        await shopkeeper.send(town.bot, "man in red coat by the tills again")
        offered = await shopkeeper.next_reply(town.bot)

        assert pressed == refused
        assert [reply.body, located.body, offered.body] == [refused] * 3
        assert offered.button_texts == [], "no question asked past the limit"
        assert intake_texts.text_offer("man in red coat by the tills again") not in town.bot_said(
            shopkeeper
        )
        assert len(await town.runtime.store.reports.events(report.id)) == events
        [entry] = await refusals_audited(town)
        assert entry.detail["per_minute"] == 4
        assert entry.actor_member_id == report.member_id


def test_a_burst_is_audited_once_and_the_next_says_how_many_it_left_out() -> None:
    now = [0.0]
    limit = PostingLimit(2, clock=lambda: now[0])

    def tries(count: int) -> tuple[list[bool], list[int | str | None]]:
        """Each try as the alert service makes it: counted, then, when refused, asked
        whether it opens a burst (audited) or not."""
        allowed: list[bool] = []
        audited: list[int | str | None] = []
        for _ in range(count):
            allowed.append(limit.allow(7))
            audited.append("-" if allowed[-1] else limit.first_of_burst(7))
        return allowed, audited

    first, audited = tries(5)
    now[0] += 61
    again, audited_again = tries(4)

    assert first == [True, True, False, False, False]
    assert audited == ["-", "-", 0, None, None]
    assert again == [True, True, False, False]
    assert audited_again == ["-", "-", 2, None], "the last burst left two out of the audit"
