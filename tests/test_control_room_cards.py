"""The control room's calls, told as Dave at the control room and Alice at Boots live them.

Alice's alert reaches Norwich and Wymondham. Dave taps his calls on the control room's
card; each one that changes something is one event in the log and one message to Alice,
and a tap that changes nothing (a double tap, an older copy's button, a press on a closed
report) is answered truthfully and neither logged nor passed on. Every copy's first line
follows the calls, and the control room's card says who acknowledged it, lists the calls
so far and offers only the buttons that still apply.
"""

from __future__ import annotations

import re
from datetime import timedelta

from broadcast.escalation import raise_unheard
from broadcast.render import STAND_DOWN_PREFIX
from broadcast.texts import control_room as control_room_texts
from config.vocabulary import EventKind, ReportStatus, Role
from sandbox import MessageView, Person
from storage.models import Report, utcnow
from tests.test_alert_notes import LOST, SEEN_TOO, answer_to, bob_in_the_group
from tests.test_alerts import (
    NORWICH,
    NORWICH_CONTROL_ROOM,
    NORWICH_GROUP,
    THEFT,
    WYMONDHAM,
    alice,
    copies,
    dave_in_the_control_room,
    drained,
    enrol,
    every_copy_says,
    the_log,
)
from tests.town import Town

TIME = r"\d\d:\d\d"


async def alice_alerts(town: Town) -> tuple[Person, Person, MessageView, dict[int, MessageView]]:
    """Alice's text alert is out; Dave holds the control room's card."""
    shopkeeper = await alice(town)
    operator = await dave_in_the_control_room(town)
    await shopkeeper.send(town.bot, f"/alert {THEFT}")
    confirmation = await shopkeeper.next_reply(town.bot)
    return shopkeeper, operator, confirmation, await copies(town, NORWICH + WYMONDHAM)


def notices_to(town: Town, shopkeeper: Person) -> list[str]:
    """What the control room told Alice in her private chat with the bot."""
    return [
        m.body
        for m in town.sandbox.chat_messages(town.bot, shopkeeper)
        if m.from_bot and m.body.startswith("Control room on your alert")
    ]


async def calls_logged(town: Town, report: Report) -> list[str | None]:
    assert report.id is not None
    return [
        e.status
        for e in await town.runtime.store.reports.events(report.id)
        if e.kind == EventKind.STATUS
    ]


async def test_a_call_pressed_twice_is_one_event_and_one_notice(polling_town: Town) -> None:
    town = polling_town
    shopkeeper, operator, _, received = await alice_alerts(town)
    card = received[NORWICH_CONTROL_ROOM]
    report = (await the_log(town))[0]
    signer = town.runtime.services.signer

    for call, button in (("acknowledged", "Acknowledge"), ("detained", "Detained")):
        answer = await operator.press(town.sandbox.refresh(card), button)
        assert answer == control_room_texts.operator_status_recorded(call)
        again = await town.press_forged(
            operator, signer.sign("aop", report.id or 0, call), on=card
        )
        name = control_room_texts.operator_status_name(call)
        assert again is not None
        assert re.fullmatch(rf"Already marked {name} by Dave at {TIME}\. Nothing changed\.", again)

    await every_copy_says(town, NORWICH + WYMONDHAM, "Status: Detained (Dave, ")
    marked = await operator.press(town.sandbox.refresh(card), "✓ Detained")
    assert marked is not None
    assert marked.startswith("Already marked Detained by Dave at ")
    await drained(town, report.id or 0)
    assert await calls_logged(town, report) == ["acknowledged", "detained"]
    assert len(notices_to(town, shopkeeper)) == 2, "one notice per change, none for a repeat"


async def test_the_headline_follows_the_calls_on_every_copy(polling_town: Town) -> None:
    town = polling_town
    _, operator, _, received = await alice_alerts(town)
    assert all(c.body.startswith("🚨 Theft – happening now") for c in received.values())

    await operator.press(received[NORWICH_CONTROL_ROOM], "Detained")

    detained = await every_copy_says(town, NORWICH + WYMONDHAM, "Status: Detained (Dave, ")
    for copy in detained.values():
        assert copy.body.startswith("Theft – person detained"), copy.body
        assert "happening now" not in copy.body
    await operator.press(town.sandbox.refresh(received[NORWICH_CONTROL_ROOM]), "Closed")
    closed = await every_copy_says(town, NORWICH + WYMONDHAM, "Status: Closed (Dave, ")
    for copy in closed.values():
        assert copy.body.startswith("Theft – closed by the control room"), copy.body
        assert "stood down" not in copy.body


async def test_the_control_room_card_shows_its_state_and_a_closed_report_takes_no_calls(
    polling_town: Town,
) -> None:
    town = polling_town
    shopkeeper, operator, confirmation, received = await alice_alerts(town)
    card = received[NORWICH_CONTROL_ROOM]
    report = (await the_log(town))[0]
    assert "Not yet acknowledged" in card.body

    await operator.press(card, "Acknowledge")
    await every_copy_says(town, NORWICH, "Status: Acknowledged (Dave, ")
    card = town.sandbox.refresh(card)
    assert re.search(rf"Acknowledged by Dave at {TIME}", card.body)
    assert re.search(rf"History: {TIME} Acknowledged \(Dave\)", card.body)
    assert card.button_texts[0] == "✓ Acknowledge"

    await operator.press(card, "Detained")
    await every_copy_says(town, NORWICH, "Status: Detained (Dave, ")
    card = town.sandbox.refresh(card)
    assert re.search(rf"Acknowledged by Dave at {TIME}", card.body), "the first call stays"
    assert re.search(
        rf"History: {TIME} Acknowledged \(Dave\) · {TIME} Detained \(Dave\)", card.body
    )
    assert card.button_texts == ["Police informed", "✓ Detained", "Closed", "New subject"]

    await operator.press(card, "Closed")
    await every_copy_says(town, NORWICH, "Status: Closed (Dave, ")
    card = town.sandbox.refresh(card)
    assert card.button_texts == ["New subject"], "after Closed no call remains"
    group_copy = town.sandbox.refresh(received[NORWICH[1]])
    assert "History:" not in group_copy.body, "the history is the control room's"

    late = await town.press_forged(
        operator, town.runtime.services.signer.sign("aop", report.id or 0, "lost"), on=card
    )
    assert late is not None
    assert re.fullmatch(
        rf"Report #{report.id} is already closed \(Closed by Dave at {TIME}\)\. Nothing changed\.",
        late,
    )
    await shopkeeper.press(confirmation, "Stood down / Wrong person")
    ending = town.sandbox.refresh(confirmation)
    assert ending.button_texts == ["Add update", "Wrong person"], "a closed alert has ended"
    stood_down = await town.press_forged(
        shopkeeper,
        town.runtime.services.signer.sign(STAND_DOWN_PREFIX, report.id or 0),
        on=ending,
    )
    assert stood_down is not None
    assert stood_down.startswith(f"Report #{report.id} is already closed (Closed by Dave at ")
    await drained(town, report.id or 0)
    assert await calls_logged(town, report) == ["acknowledged", "detained", "closed"]
    assert len(notices_to(town, shopkeeper)) == 3
    assert (await the_log(town))[0].status == ReportStatus.CLOSED


async def test_lost_tells_the_shop_where_the_person_was_last_seen(polling_town: Town) -> None:
    town = polling_town
    shopkeeper, operator, confirmation, received = await alice_alerts(town)
    await shopkeeper.send(town.bot, "heading up Timber Hill", reply_to=confirmation)
    await every_copy_says(town, NORWICH, "heading up Timber Hill")

    await operator.press(town.sandbox.refresh(received[NORWICH_CONTROL_ROOM]), "Lost")

    await every_copy_says(town, NORWICH + WYMONDHAM, "Status: Lost from camera (Dave, ")

    def told() -> list[str] | None:
        return notices_to(town, shopkeeper) or None

    notices = await town.sandbox.wait_for(told, message="the control room's notice")
    assert re.fullmatch(
        r"Control room on your alert #\d+: lost from camera, last seen heading up Timber Hill "
        r"\(Dave\)\.",
        notices[0],
    )


async def test_an_alert_nobody_acknowledges_is_raised_again_once(polling_town: Town) -> None:
    town = polling_town
    shopkeeper, operator, _, received = await alice_alerts(town)
    carol = await enrol(town, 5_000_000_104, "Carol", role=Role.COORDINATOR, shop=None)
    await carol.send(town.bot, "/help")  # a coordinator who has started the bot
    await carol.next_reply(town.bot)
    report = (await the_log(town))[0]
    assert report.id is not None
    alerts = town.runtime.services.alerts

    assert await raise_unheard(alerts, utcnow()) == [], "not due within two minutes"
    later = utcnow() + timedelta(minutes=3)
    assert await raise_unheard(alerts, later) == [report.id]
    assert await raise_unheard(alerts, later + timedelta(minutes=1)) == [], "once only"
    await drained(town, report.id)

    room = [m for m in town.sandbox.chat_messages(town.bot, NORWICH_CONTROL_ROOM) if m.from_bot]
    raised = [m for m in room if m.body.startswith("⚠️ NOT YET ACKNOWLEDGED")]
    assert len(room) == 2, "the card, then one fresh message"
    assert len(raised) == 1
    assert f"Report #{report.id}, Theft" in raised[0].body
    on_card = town.sandbox.refresh(received[NORWICH_CONTROL_ROOM])
    assert raised[0].reply_to_message_id == on_card.message_id, "it quotes the card"
    assert raised[0].protect_content
    assert re.search(rf"⏰ Not yet acknowledged: raised again at {TIME}", on_card.body)
    assert control_room_texts.ALERT_NOT_ACKNOWLEDGED not in on_card.body.splitlines()
    for chat in NORWICH + WYMONDHAM:
        if chat != NORWICH_CONTROL_ROOM:
            other = town.sandbox.refresh(received[chat])
            assert not other.edited, "only the control room's card is edited"
    to_carol = [
        m
        for m in town.sandbox.chat_messages(town.bot, carol)
        if m.from_bot and m.body.startswith("⚠️")
    ]
    assert [m.body for m in to_carol] == [raised[0].body]
    to_alice = [
        m.body
        for m in town.sandbox.chat_messages(town.bot, shopkeeper)
        if m.from_bot and "not yet acknowledged" in m.body
    ]
    assert to_alice == [control_room_texts.reporter_not_yet_heard(report.id)]

    await operator.press(town.sandbox.refresh(received[NORWICH_CONTROL_ROOM]), "Acknowledge")
    card = await every_copy_says(town, NORWICH, "Status: Acknowledged (Dave, ")
    shown = card[NORWICH_CONTROL_ROOM].body
    assert re.search(rf"Acknowledged by Dave at {TIME}", shown)
    assert "⏰" not in shown, "the mark goes with the first call"
    assert re.search(
        rf"History: {TIME} Raised again, not acknowledged · {TIME} Acknowledged \(Dave\)", shown
    )


async def test_an_alert_acknowledged_in_time_is_not_raised_again(polling_town: Town) -> None:
    town = polling_town
    _, operator, _, received = await alice_alerts(town)
    await operator.press(received[NORWICH_CONTROL_ROOM], "Acknowledge")
    await every_copy_says(town, NORWICH, "Status: Acknowledged (Dave, ")

    later = utcnow() + timedelta(minutes=3)
    assert await raise_unheard(town.runtime.services.alerts, later) == []


async def test_an_operators_note_counts_as_heard_but_not_as_acknowledged(
    polling_town: Town,
) -> None:
    town = polling_town
    shopkeeper, operator, _, received = await alice_alerts(town)
    report = (await the_log(town))[0]
    assert report.id is not None
    await drained(town, report.id)
    alice_heard = len(town.bot_said(shopkeeper))

    reply = await operator.send(town.control_room, LOST, reply_to=received[NORWICH_CONTROL_ROOM])
    await answer_to(town, town.control_room, reply)

    later = utcnow() + timedelta(minutes=3)
    assert await raise_unheard(town.runtime.services.alerts, later) == []
    await drained(town, report.id)
    room = [m for m in town.sandbox.chat_messages(town.bot, NORWICH_CONTROL_ROOM) if m.from_bot]
    assert len(room) == 2, "the card and the answer to Dave's note, nothing raised"
    card = town.sandbox.refresh(received[NORWICH_CONTROL_ROOM])
    assert control_room_texts.ALERT_NOT_ACKNOWLEDGED in card.body.splitlines(), "not a call"
    assert "⏰" not in card.body
    assert len(town.bot_said(shopkeeper)) == alice_heard, "Alice is told nothing"


async def test_a_shops_note_does_not_stop_the_alert_being_raised_again(
    polling_town: Town,
) -> None:
    town = polling_town
    _, _, _, received = await alice_alerts(town)
    bob = await bob_in_the_group(town)
    report = (await the_log(town))[0]
    assert report.id is not None
    await drained(town, report.id)

    reply = await bob.send(town.group, SEEN_TOO, reply_to=received[NORWICH_GROUP])
    await answer_to(town, town.group, reply)

    later = utcnow() + timedelta(minutes=3)
    assert await raise_unheard(town.runtime.services.alerts, later) == [report.id]
