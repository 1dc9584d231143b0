"""The control room's words, and other shops', go into the log as notes on the report.

Alice (Boots, Haymarket) sends a theft alert. Dave in the control room replies to his
copy "Lost him at the Forum, PCSO 123 attending": it is in the report's timeline with
his name and the time, searchable, and nothing else about the alert changes. Bob
(Jarrold, London Street) replies to the group's copy "I saw him earlier too, by
Boots": the control room sees it under its card, and the police read it in their
export and /show with the shops struck out. Every reply is answered; a reply too long,
from another scheme's member or the police, or to a closed or withdrawn report is
answered and changes nothing; a message delivered twice is noted once. And neither
kind of note goes to a peer town.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from broadcast.texts import alerts as alert_texts
from broadcast.texts import control_room as control_room_texts
from config.vocabulary import EventKind, MemberStatus, OutboxKind, Role
from sandbox import Group, MessageView, Person, dispatch
from storage.models import Member, ReportEvent
from storage.outbox_payloads import read_federation
from storage.places import STRUCK
from tests.test_alerts import (
    NORWICH,
    NORWICH_CONTROL_ROOM,
    NORWICH_GROUP,
    THEFT,
    WYMONDHAM,
    WYMONDHAM_GROUP,
    alice,
    copies,
    dave_in_the_control_room,
    drained,
    enrol,
    the_log,
)
from tests.test_export import enrol as enrol_with_role
from tests.test_federation import NORWICH as NORWICH_TOWN
from tests.test_federation import (
    SECRET,
    SHARED_NORWICH,
    SHARED_THETFORD,
    THETFORD,
    Towns,
    log_of,
    running_towns,
)
from tests.test_federation import copies as peer_copies
from tests.test_source_protection import as_text, export_today
from tests.town import Town

LOST = "Lost him at the Forum, PCSO 123 attending"
SEEN_TOO = "I saw him earlier too, by Boots"


async def bob_in_the_group(town: Town) -> Person:
    bob = await enrol(town, 5_000_000_103, "Bob", shop="Jarrold", street="London Street")
    town.group.add_member(bob)
    return bob


async def answer_to(town: Town, where: Group | Person, message: MessageView) -> MessageView:
    """The bot's message in that chat that replies to `message`."""

    def found() -> MessageView | None:
        said = [m for m in town.sandbox.chat_messages(town.bot, where) if m.from_bot]
        return next((m for m in said if m.reply_to_message_id == message.message_id), None)

    return await town.sandbox.wait_for(found, message=f"an answer to {message.body!r}")


def answers_to(town: Town, where: Group | Person, message: MessageView) -> list[str]:
    said = town.sandbox.chat_messages(town.bot, where)
    return [m.body for m in said if m.from_bot and m.reply_to_message_id == message.message_id]


def delivered_again(town: Town, message: MessageView) -> None:
    """Telegram sends the same message to the bot once more (a webhook retried, a restart
    before the update was confirmed)."""
    state = town.sandbox.state
    dispatch.message_posted(
        state, state.conversations[message.chat_key].messages[message.message_id]
    )


async def notes_on(town: Town, report_id: int) -> list[ReportEvent]:
    events = await town.runtime.store.reports.events(report_id)
    return [e for e in events if e.kind == EventKind.NOTE]


async def member(town: Town, person: Person) -> Member:
    scheme = await town.runtime.store.schemes.get_by_slug("norwich")
    assert scheme.id is not None
    found = await town.runtime.store.members.get(scheme.id, person.id)
    assert found is not None
    return found


async def test_an_operators_reply_is_a_note_in_the_timeline_and_changes_nothing_else(
    polling_town: Town,
) -> None:
    town = polling_town
    shopkeeper = await alice(town)
    operator = await dave_in_the_control_room(town)
    await shopkeeper.send(town.bot, f"/alert {THEFT}")
    await shopkeeper.next_reply(town.bot)
    received = await copies(town, NORWICH + WYMONDHAM)
    [report] = await the_log(town)
    assert report.id is not None
    await drained(town, report.id)
    rows_before = len(await town.runtime.store.outbox.for_report(report.id))
    alice_heard = len(town.bot_said(shopkeeper))

    reply = await operator.send(town.control_room, LOST, reply_to=received[NORWICH_CONTROL_ROOM])

    answer = await answer_to(town, town.control_room, reply)
    assert answer.body == control_room_texts.operator_note_added(report.id)
    [note] = await notes_on(town, report.id)
    assert (note.text, note.status, note.member_id) == (
        LOST,
        None,
        (await member(town, operator)).id,
    )
    await drained(town, report.id)
    assert len(await town.runtime.store.outbox.for_report(report.id)) == rows_before + 1
    assert not any(town.sandbox.refresh(copy).edited for copy in received.values())
    assert len(town.bot_said(shopkeeper)) == alice_heard, "the shop is not told of it"
    after = await town.runtime.store.reports.get(report.id)
    assert after.model_dump(exclude={"updated_at"}) == report.model_dump(exclude={"updated_at"})

    delivered_again(town, reply)
    second = await operator.send(
        town.control_room, "Now on camera 4 by Jarrold", reply_to=received[NORWICH_CONTROL_ROOM]
    )
    await answer_to(town, town.control_room, second)  # his messages are taken in his order
    assert [n.text for n in await notes_on(town, report.id)] == [
        LOST,
        "Now on camera 4 by Jarrold",
    ]
    assert answers_to(town, town.control_room, reply) == [answer.body], "answered once"

    await town.coordinator.send(town.bot, f"/show {report.id}")
    shown = await town.coordinator.next_reply(town.bot)
    assert f"note · control room: {LOST}" in shown.body
    await town.coordinator.send(town.bot, "/search PCSO")
    found = await town.coordinator.next_reply(town.bot)
    assert THEFT in found.body, "the search finds the report by the note's words"


async def test_another_shops_reply_reaches_the_control_room_and_the_police_read_it_protected(
    polling_town: Town,
) -> None:
    town = polling_town
    shopkeeper = await alice(town)
    bob = await bob_in_the_group(town)
    await shopkeeper.send(town.bot, f"/alert {THEFT}")
    await shopkeeper.next_reply(town.bot)
    received = await copies(town, NORWICH)
    [report] = await the_log(town)
    assert report.id is not None
    await drained(town, report.id)  # the copies are in the log as sent

    reply = await bob.send(town.group, SEEN_TOO, reply_to=received[NORWICH_GROUP])

    answer = await answer_to(town, town.group, reply)
    assert answer.body == alert_texts.note_added(report.id)
    told = await answer_to(town, town.control_room, received[NORWICH_CONTROL_ROOM])
    assert told.body == control_room_texts.shop_note(
        report.id, "Theft", "Jarrold, London Street", SEEN_TOO
    )
    [note] = await notes_on(town, report.id)
    assert (note.text, note.member_id) == (SEEN_TOO, (await member(town, bob)).id)
    await drained(town, report.id)
    assert not any(town.sandbox.refresh(copy).edited for copy in received.values())

    delivered_again(town, reply)
    again = await bob.send(
        town.group, "Heading towards the market now", reply_to=received[NORWICH_GROUP]
    )
    await answer_to(town, town.group, again)
    assert len(await notes_on(town, report.id)) == 2
    assert answers_to(town, town.group, reply) == [answer.body]
    room = [m.body for m in town.sandbox.chat_messages(town.bot, town.control_room) if m.from_bot]
    assert sum(SEEN_TOO in body for body in room) == 1, "the control room hears it once"

    await town.coordinator.send(town.bot, f"/show {report.id}")
    shown = await town.coordinator.next_reply(town.bot)
    assert f"note · Jarrold, London Street: {SEEN_TOO}" in shown.body
    await town.coordinator.send(town.bot, "/search earlier")
    assert THEFT in (await town.coordinator.next_reply(town.bot)).body

    officer = await enrol_with_role(town, "PC Daniels", 6_000_000_021, Role.POLICE, "norwich")
    await officer.send(town.bot, f"/show {report.id}")
    police_card = await officer.next_reply(town.bot)
    assert f"I saw him earlier too, by {STRUCK}" in police_card.body
    assert "Jarrold" not in police_card.body
    assert "Boots" not in police_card.body
    files = await export_today(town, officer)
    for exported in files:
        assert "Jarrold" not in as_text(exported)
        assert "Boots" not in as_text(exported)
    document = json.loads(as_text(files[3]))
    [exported_report] = document["reports"]
    assert f"I saw him earlier too, by {STRUCK}" in json.dumps(exported_report["events"])


async def test_a_reply_that_cannot_be_a_note_is_answered_and_changes_nothing(
    polling_town: Town,
) -> None:
    town = polling_town
    shopkeeper = await alice(town)
    bob = await bob_in_the_group(town)
    officer = await enrol(town, 6_000_000_021, "PC Daniels", role=Role.POLICE, shop=None)
    town.group.add_member(officer)
    scheme = await town.runtime.store.schemes.get_by_slug("wymondham")
    assert scheme.id is not None
    await town.runtime.store.members.add(
        Member(
            scheme_id=scheme.id,
            telegram_user_id=5_000_000_105,
            display_name="Wendy",
            shop_name="Abbey Books",
            street="Market Place",
            status=MemberStatus.ACTIVE,
        )
    )
    wendy = town.person(5_000_000_105, "Wendy")
    wymondham_group = town.sandbox.group(WYMONDHAM_GROUP, "Wymondham", members=[wendy])
    await shopkeeper.send(town.bot, f"/alert {THEFT}")
    confirmation = await shopkeeper.next_reply(town.bot)
    received = await copies(town, NORWICH + WYMONDHAM)
    [report] = await the_log(town)
    assert report.id is not None
    await drained(town, report.id)

    long_one = await bob.send(town.group, "seen him " * 200, reply_to=received[NORWICH_GROUP])
    refused = await answer_to(town, town.group, long_one)
    assert refused.body == alert_texts.note_too_long(1000)
    police = await officer.send(town.group, "on our way", reply_to=received[NORWICH_GROUP])
    assert (await answer_to(town, town.group, police)).body == alert_texts.NOTE_POLICE
    neighbour = await wendy.send(wymondham_group, SEEN_TOO, reply_to=received[WYMONDHAM_GROUP])
    answered = await answer_to(town, wymondham_group, neighbour)
    assert answered.body == alert_texts.note_not_a_member(report.id)
    assert await notes_on(town, report.id) == []

    await shopkeeper.press(confirmation, alert_texts.BUTTON_ENDING)
    await shopkeeper.press(town.sandbox.refresh(confirmation), alert_texts.BUTTON_STAND_DOWN)
    late = await bob.send(town.group, "he is back", reply_to=received[NORWICH_GROUP])
    assert (await answer_to(town, town.group, late)).body == alert_texts.note_report_closed(
        report.id
    )
    assert await notes_on(town, report.id) == []

    await shopkeeper.send(town.bot, "/alert Woman in a green parka filling a bag with steaks")
    second = await shopkeeper.next_reply(town.bot)
    group_copy = (await copies(town, NORWICH, count=2))[NORWICH_GROUP]
    withdrawn = (await the_log(town))[0]
    assert withdrawn.id is not None
    await shopkeeper.press(second, alert_texts.BUTTON_ENDING)
    await shopkeeper.press(town.sandbox.refresh(second), alert_texts.BUTTON_WRONG_PERSON)
    await drained(town, withdrawn.id)
    after = await bob.send(town.group, "she went into Boots", reply_to=group_copy)
    answered = await answer_to(town, town.group, after)
    assert answered.body == alert_texts.note_report_withdrawn(withdrawn.id)
    assert await notes_on(town, withdrawn.id) == []


@pytest.fixture
async def towns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Towns]:
    """Norwich and Thetford on two deployments (`tests.test_federation`)."""
    monkeypatch.setenv("SHOPWATCH_PEER_THETFORD_SECRET", SECRET)
    monkeypatch.setenv("SHOPWATCH_PEER_NORWICH_SECRET", SECRET)
    async with running_towns(tmp_path, SHARED_NORWICH, SHARED_THETFORD) as both:
        yield both


async def test_neither_kind_of_note_goes_to_a_peer_town(towns: Towns) -> None:
    norwich, thetford = towns.norwich, towns.thetford
    shopkeeper = norwich.person(5_000_000_101, "Alice")
    await norwich.join(shopkeeper, shop="Boots", street="Haymarket")
    bob = norwich.person(5_000_000_103, "Bob")
    await norwich.join(bob, shop="Jarrold", street="London Street")
    norwich.group.add_member(bob)
    dave = norwich.person(5_000_000_102, "Dave")
    await norwich.join(dave, Role.OPERATOR)
    norwich.control_room.add_member(dave)
    await shopkeeper.send(norwich.bot, f"/alert {THEFT}")
    await shopkeeper.next_reply(norwich.bot)
    ours = await peer_copies(norwich, NORWICH_TOWN)
    theirs = await peer_copies(thetford, THETFORD)
    [report] = await log_of(norwich, "norwich")
    assert report.id is not None
    await drained(norwich, report.id)

    shop = await bob.send(norwich.group, SEEN_TOO, reply_to=ours[NORWICH_TOWN[0]])
    await answer_to(norwich, norwich.group, shop)
    room = await dave.send(norwich.control_room, LOST, reply_to=ours[NORWICH_TOWN[1]])
    await answer_to(norwich, norwich.control_room, room)

    async def events_sent() -> list[str]:
        rows = await norwich.runtime.store.outbox.for_report(
            report.id or 0, kind=OutboxKind.FEDERATION
        )
        return [str(read_federation(row).op) for row in rows]

    assert await events_sent() == ["alert"]
    assert len(await notes_on(norwich, report.id)) == 2
    await dave.press(ours[NORWICH_TOWN[1]], "On camera")
    await norwich.sandbox.wait_for(
        lambda: (
            all("On camera" in thetford.sandbox.refresh(c).body for c in theirs.values()) or None
        ),
        message="Thetford's copies saying On camera",
    )
    assert await events_sent() == ["alert", "event"], "only the call crossed"
    [copy] = await log_of(thetford, "thetford")
    assert copy.id is not None
    assert await notes_on(thetford, copy.id) == []
    for chat in THETFORD:
        shown = [m.body for m in thetford.sandbox.chat_messages(thetford.bot, chat)]
        assert not any(SEEN_TOO in body or LOST in body for body in shown)
