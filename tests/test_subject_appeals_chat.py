"""Appeals against exclusion notices in the coordinator's private chat, turn by turn
through the Bot API sandbox.

Dean Smith and Ann Jones are each excluded after a photo alert. Dean appeals; Carol
records it with /appeal and the board varies his notice with /decide: the control
room's card shows the new end and /noticeletter gives the letter as it now stands. Ann
appeals and the board overturns hers: her notice ends, the control room's card stops
saying EXCLUDED and there is no letter to serve. Wrong input gets a clear answer and
changes nothing: a notice that is no number, a date that is none, an appeal received
before the notice was issued or still to come, no grounds, a second appeal, a decision
with no appeal or a second one, a decision that is none, varied with no new end or one
past the old end, a new end for an upheld notice, no board reference, a member, and
another scheme's coordinator. Both commands are in the coordinator's /help and menu and
in a group the bot says where they work.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import date, timedelta

import pytest

from bot.cli import main
from broadcast.subjects.service import local_today
from broadcast.texts import refusals
from broadcast.texts.subjects import day
from config.errors import Refusal
from config.vocabulary import AppealOutcome, AuditOutcome, Role
from sandbox import MessageView, Person
from tests.gallery_town import enrol
from tests.test_alerts import NORWICH, NORWICH_CONTROL_ROOM, copies, phone_photo
from tests.test_subject_story import BOARD, a_letter, last_id, read_pdf, says
from tests.test_subject_suggestions import until_it_says
from tests.test_subjects import cctv_still, in_words
from tests.town import BOT_TOKEN, Town


def uk(value: date) -> str:
    """A day as a coordinator types it: 03/12/2026."""
    return f"{value:%d/%m/%Y}"


async def excluded(
    town: Town,
    *,
    shop: Person,
    operator: Person,
    picture: bytes,
    caption: str,
    name: str,
    alerts: int,
) -> tuple[int, int, MessageView]:
    """A shop's photo alert; the control room makes a subject of it, the coordinator names
    them and excludes them. Returns the subject, the notice and the control room's card
    once it shows EXCLUDED."""
    carol = town.coordinator
    await shop.send_photo(town.bot, picture, caption=caption)
    await shop.next_reply(town.bot)
    card = (await copies(town, NORWICH, alerts))[NORWICH_CONTROL_ROOM]
    made = await operator.press(card, "New subject")
    subject_id = int((made or "").removeprefix("Subject #").split(" ", 1)[0])
    identified = await says(town, carol, f"/identify {subject_id} {name} | Named by PCSO Hale")
    assert identified.startswith(f"Subject #{subject_id} is Known now: {name}.")
    before = last_id(town, carol)
    issued = await says(town, carol, f"/notice {subject_id} exclusion | by {BOARD} | ref BD-1")
    assert issued.startswith("Exclusion notice NOR-N")
    await a_letter(town, carol, before)
    [notice] = await town.runtime.store.subjects.notices(subject_id)
    assert notice.id is not None
    return subject_id, notice.id, await until_it_says(town, card, "⛔ EXCLUDED until ")


async def until_it_no_longer_says(town: Town, message: MessageView, words: str) -> MessageView:
    def probe() -> MessageView | None:
        now = town.sandbox.refresh(message)
        return now if words not in now.body else None

    return await town.sandbox.wait_for(probe, message=f"{words!r} gone from the message")


async def test_an_appeal_varied_and_one_overturned_all_in_the_coordinators_chat(
    polling_town: Town,
) -> None:
    town = polling_town
    store = town.runtime.store
    carol = town.coordinator
    carol.open_chat(town.bot)
    alice = await enrol(town, 5_000_000_601, "Alice", shop="Boots", street="Haymarket")
    dave = await enrol(town, 5_000_000_602, "Dave", role=Role.OPERATOR)
    town.control_room.add_member(dave)
    alice.open_chat(town.bot)
    today = local_today(await store.schemes.get_by_slug("norwich"))

    dean, dean_notice, dean_card = await excluded(
        town,
        shop=alice,
        operator=dave,
        picture=phone_photo(),
        caption="Took six packs of razor blades",
        name="Dean Smith",
        alerts=1,
    )
    n = dean_notice
    notice = await store.subjects.notice(n)
    reference = f"NOR-N{n:04d}"

    assert await says(town, carol, "/appeal seven received 03/12/2026 Not me") == (
        "Record an appeal against a notice, as it was received: /appeal <notice> received "
        "<DD/MM/YYYY> <the person's grounds>, e.g.\n"
        "/appeal 7 received 03/12/2026 I was at work that day; my manager can confirm it"
    )
    assert await says(town, carol, f"/appeal {n} received 31/02/2026 Not me") == (
        "31/02/2026 is not a date: write it DD/MM/YYYY or YYYY-MM-DD."
    )
    yesterday, tomorrow = today - timedelta(days=1), today + timedelta(days=1)
    assert await says(town, carol, f"/appeal {n} received {uk(yesterday)} Not me") == (
        f"The notice was issued on {day(today)}: an appeal cannot come before it."
    )
    assert await says(town, carol, f"/appeal {n} received {uk(tomorrow)} Not me") == (
        f"{day(tomorrow)} is still to come: record an appeal once it has been received."
    )
    assert await says(town, carol, f"/appeal {n} received {uk(today)}") == (
        "Give the person's grounds after the date (their words, or a summary of their "
        "letter): nothing was recorded."
    )
    assert await says(town, alice, f"/appeal {n} received {uk(today)} Not me") == (
        refusals.refusal(Refusal.WRONG_ROLE)
    )
    wymondham = town.coordinator_of("wymondham")
    wymondham.open_chat(town.bot)
    assert await says(town, wymondham, f"/appeal {n} received {uk(today)} Not me") == (
        f"No notice {n} in this scheme."
    )
    assert await says(town, carol, f"/decide {n} upheld ref BD-2") == (
        "No appeal against this notice is recorded."
    )
    assert (await store.subjects.notice(n)).appeal_received_on is None

    recorded = await says(
        town, carol, f"/appeal {n} received {uk(today)} I was at work that day; ask my manager"
    )

    assert recorded == (
        f"The appeal received on {day(today)} is recorded. Exclusion notice {reference} is in "
        f"force until the end of {day(notice.ends_on)}, review on {day(notice.review_on)}. It "
        f"stands so until the board decides: then /decide {n} upheld, varied or overturned "
        "ref <its decision>."
    )
    appealed = await store.subjects.notice(n)
    assert (appealed.appeal_received_on, appealed.appeal_text) == (
        today,
        "I was at work that day; ask my manager",
    )
    assert await says(town, carol, f"/appeal {n} received {today.isoformat()} Again") == (
        "An appeal against this notice is recorded already."
    )
    assert await says(town, carol, f"/decide {n} banished ref BD-2") == (
        "Banished is not a decision: upheld, varied or overturned."
    )
    past_the_end = notice.ends_on + timedelta(days=1)
    for wrong in (f"/decide {n} varied ref BD-2", f"/decide {n} varied ref BD-2 until 1/1/2000"):
        assert await says(town, carol, wrong) == (
            "A varied notice needs a new end after its start and before its old end."
        )
    assert await says(town, carol, f"/decide {n} varied ref BD-2 until {uk(past_the_end)}") == (
        "A varied notice needs a new end after its start and before its old end."
    )
    assert await says(town, carol, f"/decide {n} upheld ref BD-2 until {uk(tomorrow)}") == (
        "Only a varied notice takes a new end: leave out until, or decide varied."
    )
    assert await says(town, carol, f"/decide {n} upheld") == (
        "Give the board decision's reference."
    )
    assert await says(town, alice, f"/decide {n} overturned ref BD-2") == (
        refusals.refusal(Refusal.WRONG_ROLE)
    )
    assert await says(town, wymondham, f"/decide {n} overturned ref BD-2") == (
        f"No notice {n} in this scheme."
    )
    assert (await store.subjects.notice(n)).appeal_outcome is None

    new_end = today + timedelta(days=120)
    varied = await says(town, carol, f"/decide {n} varied ref BD-2027-02 until {uk(new_end)}")

    review = min(notice.review_on, new_end)
    assert varied == (
        f"The board varied the notice (BD-2027-02). Exclusion notice {reference} is in force "
        f"until the end of {day(new_end)}, review on {day(review)}. /noticeletter {n} gives "
        "its letter as it now stands."
    )
    shown = await until_it_says(town, dean_card, f"⛔ EXCLUDED until {day(new_end)}")
    assert f"(Subject #{dean})" in shown.body
    before = last_id(town, carol)
    await carol.send(town.bot, f"/noticeletter {n}")
    letter = read_pdf(await a_letter(town, carol, before))
    assert f"until the end of {in_words(new_end)}" in letter
    assert in_words(notice.ends_on) not in letter, "the old end is not on the letter"
    assert await says(town, carol, f"/decide {n} upheld ref BD-3") == (
        "The appeal against this notice is decided already."
    )

    _, ann_notice, ann_card = await excluded(
        town,
        shop=alice,
        operator=dave,
        picture=cctv_still(7),
        caption="Filled a bag with perfume",
        name="Ann Jones",
        alerts=2,
    )
    m = ann_notice
    answer = await says(town, carol, f"/appeal {m} {today.isoformat()} Wrong person")
    assert answer.startswith(f"The appeal received on {day(today)} is recorded.")

    overturned = await says(town, carol, f"/decide {m} Overturned ref BD-2027-03")

    assert overturned == (
        f"The board overturned the notice (BD-2027-03). Exclusion notice NOR-N{m:04d} has "
        "ended: it was overturned on appeal, and no letter is served on it. The control "
        "room's cards no longer show the person as EXCLUDED."
    )
    card = await until_it_no_longer_says(town, ann_card, "EXCLUDED")
    assert "Filled a bag with perfume" in card.body
    assert await says(town, carol, f"/noticeletter {m}") == (
        f"Notice {m} was withdrawn or overturned: there is nothing to serve."
    )
    assert "⛔ EXCLUDED until " in town.sandbox.refresh(dean_card).body, "Dean's still stands"
    assert (await store.subjects.notice(m)).appeal_outcome is AppealOutcome.OVERTURNED

    entries = await store.audit.of_actions(None, ["notice.appeal"])
    assert [(e.action, e.outcome, e.detail.get("reason")) for e in entries] == [
        ("notice.appeal", AuditOutcome.REFUSED, "usage"),
        ("notice.appeal", AuditOutcome.REFUSED, "notice_date_invalid"),
        ("notice.appeal", AuditOutcome.REFUSED, "appeal_before_issue"),
        ("notice.appeal", AuditOutcome.REFUSED, "appeal_in_future"),
        ("notice.appeal", AuditOutcome.REFUSED, "appeal_grounds_missing"),
        ("notice.appeal", AuditOutcome.REFUSED, Refusal.WRONG_ROLE),
        ("notice.appeal", AuditOutcome.REFUSED, "NotFoundError"),
        ("notice.appeal_decided", AuditOutcome.REFUSED, "no_appeal"),
        ("notice.appeal", AuditOutcome.ALLOWED, None),
        ("notice.appeal", AuditOutcome.REFUSED, "appeal_already_recorded"),
        ("notice.appeal_decided", AuditOutcome.REFUSED, "appeal_outcome_invalid"),
        ("notice.appeal_decided", AuditOutcome.REFUSED, "varied_end_invalid"),
        ("notice.appeal_decided", AuditOutcome.REFUSED, "varied_end_invalid"),
        ("notice.appeal_decided", AuditOutcome.REFUSED, "varied_end_invalid"),
        ("notice.appeal_decided", AuditOutcome.REFUSED, "until_only_when_varied"),
        ("notice.appeal_decided", AuditOutcome.REFUSED, "decision_ref_missing"),
        ("notice.appeal_decided", AuditOutcome.REFUSED, Refusal.WRONG_ROLE),
        ("notice.appeal_decided", AuditOutcome.REFUSED, "NotFoundError"),
        ("notice.appeal_decided", AuditOutcome.ALLOWED, None),
        ("notice.appeal_decided", AuditOutcome.REFUSED, "appeal_already_decided"),
        ("notice.appeal", AuditOutcome.ALLOWED, None),
        ("notice.appeal_decided", AuditOutcome.ALLOWED, None),
    ]


async def test_a_notice_overturned_from_the_command_line_clears_the_control_rooms_card(
    polling_town: Town, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The shell has no bot: the card's edit goes through the outbox, and the running
    bot's worker sends it, as it sends the edits of a decision made in the chat."""
    town = polling_town
    carol = town.coordinator
    carol.open_chat(town.bot)
    alice = await enrol(town, 5_000_000_621, "Alice", shop="Boots", street="Haymarket")
    dave = await enrol(town, 5_000_000_622, "Dave", role=Role.OPERATOR)
    town.control_room.add_member(dave)
    today = local_today(await town.runtime.store.schemes.get_by_slug("norwich"))
    _, n, card = await excluded(
        town,
        shop=alice,
        operator=dave,
        picture=phone_photo(),
        caption="Took six packs of razor blades",
        name="Dean Smith",
        alerts=1,
    )
    answer = await says(town, carol, f"/appeal {n} received {uk(today)} Wrong person")
    assert answer.startswith(f"The appeal received on {day(today)} is recorded.")
    settings = town.runtime.settings
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    for name, value in {
        "SHOPWATCH_DATABASE_URL": settings.database_url,
        "SHOPWATCH_SCHEMES_FILE": str(settings.schemes_file),
        "SHOPWATCH_DATA_DIR": str(settings.data_dir),
        "SHOPWATCH_BOT_TOKEN": BOT_TOKEN,
    }.items():
        monkeypatch.setenv(name, value)
    decide = ["subject", "decide", "--scheme", "norwich", "--notice", str(n)]

    done = await asyncio.to_thread(
        main, [*decide, "--outcome", "overturned", "--on", today.isoformat(), "--ref", "BD-9"]
    )

    assert done == 0
    assert "appeal overturned" in capsys.readouterr().out
    cleared = await until_it_no_longer_says(town, card, "EXCLUDED")
    assert "Took six packs of razor blades" in cleared.body
    notice = await town.runtime.store.subjects.notice(n)
    assert notice.appeal_outcome is AppealOutcome.OVERTURNED


async def test_the_coordinator_finds_appeal_and_decide_in_help_menu_and_not_in_a_group(
    polling_town: Town,
) -> None:
    town = polling_town
    carol = town.coordinator
    carol.open_chat(town.bot)
    alice = await enrol(town, 5_000_000_611, "Alice", shop="Boots", street="Haymarket")
    alice.open_chat(town.bot)

    helped = await says(town, carol, "/help")
    members_help = await says(town, alice, "/help")

    assert "/appeal 7 received 03/12/2026 I was at work that day – " in helped
    assert "/decide 7 varied ref BD-2027-02 until 02/06/2027 – " in helped
    assert "/appeal" not in members_help
    assert "/decide" not in members_help
    menu = {
        name for name, _ in town.sandbox.commands(town.bot, {"type": "chat", "chat_id": carol.id})
    }
    assert {"appeal", "decide"} <= menu
    for command in ("appeal", "decide"):
        sent = await carol.send(town.group, f"/{command} 7")
        answer = await town.bot_message_after(town.group, sent.message_id)
        assert answer.body == (
            f"/{command} works in your private chat with me: send it there and I will answer."
        )
