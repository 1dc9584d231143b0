"""What a guided report's member adds once the live alert is out reaches every copy.

Priya's alert went out at her description; she goes on answering and, at the photo
question, sends the CCTV still she has just found. Every chat that holds a copy
(Norwich's group and control room, Wymondham's) gets the photo under it, and when
she says it was the wrong person the photos leave with the rest. In the second
story the alert crossed to Thetford, a town on another deployment: her later
answers and her photo reach Thetford's copies too. Interactions are counted from
the sandbox's transcript of her chat, never timed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from broadcast.texts import alerts as alert_texts
from broadcast.texts import report as report_texts
from config.vocabulary import EventKind, ReportChange, Role
from sandbox import MessageView, Person
from storage.models import DESCRIPTOR_COLUMNS, Report, ReportEvent
from tests.sandbox_fixtures import make_jpeg
from tests.test_federation import (
    SECRET,
    SHARED_NORWICH,
    SHARED_THETFORD,
    THETFORD,
    Towns,
    copies,
    copies_in,
    log_of,
    running_towns,
)
from tests.test_report import GIN, PRIYA, active_member, interactions, report, say, tap
from tests.town import Town

OLIVE = 5_000_000_201
NORWICH_CHATS = (-1001000000001, -1001000000002)
WYMONDHAM_CHATS = (-1001000000011, -1001000000012)
EVERY_CHAT = NORWICH_CHATS + WYMONDHAM_CHATS


def bot_messages(town: Town, chat_id: int) -> list[MessageView]:
    return [
        m for m in town.sandbox.chat_messages(town.bot, chat_id) if m.from_bot and not m.deleted
    ]


async def under_every_copy(town: Town, chats: tuple[int, ...]) -> dict[int, list[MessageView]]:
    """Each chat's messages once a second one (the photo under the card) is there."""

    def arrived() -> dict[int, list[MessageView]] | None:
        shown = {chat: bot_messages(town, chat) for chat in chats}
        return shown if all(len(s) >= 2 for s in shown.values()) else None

    return await town.sandbox.wait_for(arrived, message=f"a photo under the copies in {chats}")


async def live_report_out(town: Town, priya: Person) -> tuple[MessageView, MessageView]:
    """Priya's /report, Theft, Happening now, her words: the confirmation and the next question."""
    question = await report(town, priya)
    question = await tap(town, priya, question, "Theft")
    question = await tap(town, priya, question, "Happening now – alert everyone")
    confirmation = await say(town, priya, GIN)
    return confirmation, await priya.next_reply(town.bot)


async def skip_to_photos(
    town: Town, priya: Person, question: MessageView, clothing: str
) -> MessageView:
    """Not sure or Skip to every question but the clothing, up to the photo question."""
    while question.body != report_texts.REPORT_ASK_MORE_PHOTOS:
        if question.body.endswith(report_texts.REPORT_ASK_CLOTHING):
            question = await say(town, priya, clothing)
            continue
        skip = next(
            label
            for label in (report_texts.REPORT_BUTTON_NOT_SURE, report_texts.REPORT_BUTTON_SKIP)
            if label in question.button_texts
        )
        question = await tap(town, priya, question, skip)
    return question


async def only_report(town: Town, slug: str = "norwich") -> Report:
    [stored] = await log_of(town, slug)
    assert stored.id is not None
    return stored


async def test_a_photo_sent_at_the_photo_question_goes_under_every_copy_and_leaves_with_them(
    town: Town,
) -> None:
    priya = await active_member(town, PRIYA, "Priya")
    confirmation, question = await live_report_out(town, priya)
    stored = await only_report(town)
    cards = {chat: await under_one(town, chat) for chat in EVERY_CHAT}
    question = await skip_to_photos(town, priya, question, "Grey hoodie, black cap")
    assert question.button_texts == [report_texts.REPORT_BUTTON_SKIP, "Finish"]
    before = interactions(town, priya)

    await priya.send_photo(town.bot, make_jpeg(800, 600, "green"))
    added = await priya.next_reply(town.bot)

    assert interactions(town, priya) == before + 1, "the photo is one interaction"
    assert added.body == (
        f"{report_texts.report_photo_under_copies(stored.id or 0)}\n\n"
        f"{report_texts.REPORT_ASK_MORE_PHOTOS}"
    )
    assert added.button_texts == [report_texts.REPORT_BUTTON_DONE, "Finish"]
    shown = await under_every_copy(town, EVERY_CHAT)
    for chat, (card, photo) in shown.items():
        assert card.message_id == cards[chat].message_id, "the card stays; the photo follows"
        assert card.photo is None
        assert photo.photo is not None
        assert photo.reply_to_message_id == card.message_id, "quoting its card"
        assert f"Report #{stored.id}" in photo.body
    assert shown[NORWICH_CHATS[0]][1].body == (
        f"📷 Another photo for Report #{stored.id} · Norwich ShopWatch"
    )
    assert "a neighbouring scheme" in shown[WYMONDHAM_CHATS[0]][1].body
    assert len(await town.runtime.store.reports.photos(stored.id or 0)) == 1
    events = await town.runtime.store.reports.events(stored.id or 0)
    assert [e.status for e in events].count(ReportChange.PHOTO_ADDED) == 1

    farewell = await tap(town, priya, added, report_texts.REPORT_BUTTON_DONE)
    assert farewell.body == report_texts.report_finished(stored.id or 0)

    await priya.press(confirmation, alert_texts.BUTTON_ENDING)
    await priya.press(town.sandbox.refresh(confirmation), alert_texts.BUTTON_WRONG_PERSON)

    def photos_gone() -> dict[int, list[MessageView]] | None:
        left = {chat: bot_messages(town, chat) for chat in EVERY_CHAT}
        return left if all(len(m) == 1 for m in left.values()) else None

    await town.sandbox.wait_for(photos_gone, message="the photos under the copies gone")

    def every_card_withdrawn() -> bool:
        return all(
            town.sandbox.refresh(card).body.startswith("WITHDRAWN") for card in cards.values()
        )

    assert await town.sandbox.wait_for(every_card_withdrawn, message="every copy withdrawn")


async def under_one(town: Town, chat_id: int) -> MessageView:
    [card] = await town.sandbox.wait_for(
        lambda: bot_messages(town, chat_id) or None, message=f"the copy in {chat_id}"
    )
    return card


async def test_the_same_photo_twice_is_on_the_alert_once(polling_town: Town) -> None:
    town = polling_town
    priya = await active_member(town, PRIYA, "Priya")
    await live_report_out(town, priya)
    stored = await only_report(town)
    still = make_jpeg(640, 480, "navy")

    await priya.send_photo(town.bot, still)
    first = await priya.next_reply(town.bot)
    await priya.send_photo(town.bot, still)
    second = await priya.next_reply(town.bot)

    assert first.body.startswith(report_texts.report_photo_under_copies(stored.id or 0))
    assert second.body == (
        f"{report_texts.report_photo_already_on(stored.id or 0)}\n\n"
        f"{report_texts.REPORT_ASK_PEOPLE}"
    )
    assert len(await town.runtime.store.reports.photos(stored.id or 0)) == 1
    shown = await under_every_copy(town, NORWICH_CHATS)
    assert all(len(messages) == 2 for messages in shown.values()), "one photo under each card"


# --- the alert that crossed to another town ----------------------------------------------


@pytest.fixture
async def towns(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Towns]:
    monkeypatch.setenv("SHOPWATCH_PEER_THETFORD_SECRET", SECRET)
    monkeypatch.setenv("SHOPWATCH_PEER_NORWICH_SECRET", SECRET)
    async with running_towns(tmp_path, SHARED_NORWICH, SHARED_THETFORD) as both:
        yield both


async def test_later_answers_and_a_photo_reach_the_town_the_alert_crossed_to(
    towns: Towns,
) -> None:
    norwich, thetford = towns.norwich, towns.thetford
    priya = norwich.person(PRIYA, "Priya")
    await norwich.join(priya, shop="Jarrold", street="London Street")
    joined = interactions(norwich, priya)
    _, question = await live_report_out(norwich, priya)
    received = await copies(thetford, THETFORD)
    assert all(GIN in copy.body for copy in received.values())
    assert interactions(norwich, priya) - joined == 4, "/report, three answers: it is out"

    question = await tap(norwich, priya, question, "1")
    question = await tap(norwich, priya, question, "Male")
    question = await skip_to_photos(norwich, priya, question, "Grey hoodie, black cap")
    await priya.send_photo(norwich.bot, make_jpeg(800, 600, "maroon"))
    added = await priya.next_reply(norwich.bot)
    assert added.body.startswith("Photo added to Report #")
    await tap(norwich, priya, added, report_texts.REPORT_BUTTON_DONE)

    def thetford_shows_the_answers() -> dict[int, MessageView] | None:
        shown = {chat: copies_in(thetford, chat)[0] for chat in THETFORD}
        said = all("Who: Male, Grey hoodie, black cap" in c.body for c in shown.values())
        return shown if said else None

    answered = await thetford.sandbox.wait_for(
        thetford_shows_the_answers, message="Thetford's copies showing the answers"
    )
    for chat, card in answered.items():
        assert card.message_id == received[chat].message_id, "edited, not sent again"
    photos = await under_every_copy(thetford, THETFORD)
    for _card, photo in photos.values():
        assert photo.photo is not None
        assert photo.body.endswith("from Norwich ShopWatch, a neighbouring scheme")
    kept = await only_report(thetford, "thetford")
    assert kept.subject_description == "Male, Grey hoodie, black cap"
    assert len(await thetford.runtime.store.reports.photos(kept.id or 0)) == 1
    timeline = await thetford.runtime.store.reports.events(kept.id or 0)
    assert [e.status for e in timeline] == [
        ReportChange.DESCRIBED,
        ReportChange.DESCRIBED,
        ReportChange.DESCRIBED,
        ReportChange.PHOTO_ADDED,
    ]


# --- what the timeline says about them -----------------------------------------------------


async def test_show_reads_the_later_answers_in_plain_words(polling_town: Town) -> None:
    town = polling_town
    priya = await active_member(town, PRIYA, "Priya")
    olive = await active_member(town, OLIVE, "Olive", Role.OPERATOR)
    _, question = await live_report_out(town, priya)
    stored = await only_report(town)
    question = await tap(town, priya, question, "2")
    question = await tap(town, priya, question, "Male")
    question = await tap(town, priya, question, "25–40")
    question = await tap(town, priya, question, "Tall (over 6′)")
    question = await tap(town, priya, question, "Not sure")
    question = await say(town, priya, "ginger, in a ponytail")
    question = await say(town, priya, "Grey hoodie; black cap")
    question = await say(town, priya, "Spider-web tattoo on his neck")
    question = await tap(town, priya, question, "Finish")
    # A line the log kept before the timeline spoke plain words.
    await town.runtime.store.reports.add_event(
        ReportEvent(
            report_id=stored.id or 0,
            member_id=stored.member_id,
            kind=EventKind.UPDATE,
            status=ReportChange.DESCRIBED,
            text="value_pence: 6000; cctv_held: True; subject_build: slim",
        )
    )

    await olive.send(town.bot, f"/show {stored.id}")
    card = await olive.next_reply(town.bot)

    timeline = card.body.split("Timeline:")[1]
    for said in (
        "update described · Jarrold: People: 2",
        "Sex: Male",
        "Age: 25–40",
        "Height: Tall (over 6′)",
        "Hair: ginger, in a ponytail",
        "Clothing: Grey hoodie; black cap",
        "Distinguishing marks: Spider-web tattoo on his neck",
        "Value: £60; CCTV held: yes; Build: Slim",
    ):
        assert said in timeline, said
    for raw in ("subject_", "people_count", "value_pence", "cctv_held", "True"):
        assert raw not in timeline, raw


def test_every_descriptor_has_a_plain_label_for_the_timeline() -> None:
    assert set(DESCRIPTOR_COLUMNS) <= set(report_texts.ANSWER_LABELS)


async def test_search_finds_the_alert_by_what_was_answered_after_it_went_out(
    polling_town: Town,
) -> None:
    town = polling_town
    priya = await active_member(town, PRIYA, "Priya")
    olive = await active_member(town, OLIVE, "Olive", Role.OPERATOR)
    _, question = await live_report_out(town, priya)
    stored = await only_report(town)
    while not question.body.endswith(report_texts.REPORT_ASK_VEHICLE):
        question = await tap(town, priya, question, question.button_texts[-2])  # Skip, Not sure
    question = await say(town, priya, "silver Ford Focus ab12cde")
    question = await say(town, priya, "2 bottles of Gordon's gin")
    await tap(town, priya, question, "Finish")

    for words in ("gordon", "AB12CDE", "ab12 cde", "focus"):
        await olive.send(town.bot, f"/search {words}")
        results = await olive.next_reply(town.bot)
        assert f"{stored.id} · " in results.body, words
        assert "· Theft · open ·" in results.body
