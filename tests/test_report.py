"""The guided /report, told turn by turn: a shopkeeper taps through it on her phone.

The bot is the real application against the sandbox; answers are taps on the
question's buttons or typed messages, and what the member reads is what the
sandbox's chat holds. Interactions are counted from the sandbox's transcript of
her chat (her messages and her presses), never timed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from telegram.ext import ConversationHandler

from bot.runtime import BotRuntime
from broadcast.texts import alerts as alert_texts
from broadcast.texts import formats
from broadcast.texts import refusals as refusal_texts
from broadcast.texts import report as report_texts
from config.errors import Refusal
from config.schemes import load_schemes
from config.vocabulary import Category, MemberStatus, Role, Urgency
from sandbox import MessageView, Person
from storage.models import Member, Report
from storage.store import Store
from tests.sandbox_fixtures import make_jpeg
from tests.town import EXAMPLE_SCHEMES, Town, running_town

PRIYA = 5_000_000_101
OMAR = 5_000_000_102
PC_JONES = 5_000_000_103
GIN = "Took two bottles of gin from the front display and walked out"
LONDON = ZoneInfo("Europe/London")


async def active_member(town: Town, user_id: int, name: str, role: Role = Role.MEMBER) -> Person:
    """An approved member of Norwich ShopWatch (until `Town.join` lands in tests/town.py)."""
    scheme = await town.runtime.store.schemes.get_by_slug("norwich")
    assert scheme.id is not None
    await town.runtime.store.members.add(
        Member(
            scheme_id=scheme.id,
            telegram_user_id=user_id,
            display_name=name,
            shop_name="Jarrold",
            role=role,
            status=MemberStatus.ACTIVE,
        )
    )
    return town.person(user_id, name)


async def report(town: Town, person: Person) -> MessageView:
    """She sends /report; the first question comes back."""
    await person.send(town.bot, "/report")
    return await person.next_reply(town.bot)


async def tap(town: Town, person: Person, question: MessageView, button: str) -> MessageView:
    """She taps a button under the question; the bot's next message comes back."""
    await person.press(question, button)
    return await person.next_reply(town.bot)


async def say(town: Town, person: Person, text: str) -> MessageView:
    """She types an answer; the bot's next message comes back."""
    await person.send(town.bot, text)
    return await person.next_reply(town.bot)


def interactions(town: Town, person: Person) -> int:
    """What she has done in her chat with the bot: messages sent and buttons pressed."""
    mine = [m for m in town.sandbox.chat_messages(town.bot, person) if not m.from_bot]
    if not mine:
        return 0
    presses = town.sandbox.state.conversations[mine[0].chat_key].presses
    return len(mine) + len([p for p in presses if p.user_id == person.id])


def data_of(question: MessageView, button: str) -> str:
    """The callback data of a button as it was on screen (for a second tap on it later)."""
    for row in question.buttons:
        for shown in row:
            if shown.text == button and isinstance(shown.callback_data, str):
                return shown.callback_data
    raise AssertionError(f"no button {button!r} on {question.body!r}")


def report_conversation(town: Town) -> ConversationHandler[object]:  # type: ignore[type-var]
    for handlers in town.runtime.application.handlers.values():
        for handler in handlers:
            if isinstance(handler, ConversationHandler) and handler.name == "report":
                return handler
    raise AssertionError("the report conversation is not registered")


@asynccontextmanager
async def restarted(town: Town) -> AsyncIterator[Town]:
    """The bot is stopped and a new one started on the same database and sandbox."""
    first = town.runtime
    await first.stop()
    second = BotRuntime(first.settings, first.schemes)
    await second.start()
    town.runtime = second
    try:
        yield town
    finally:
        await second.stop()
        town.runtime = first


async def norwich_reports(town: Town) -> list[Report]:
    scheme = await town.runtime.store.schemes.get_by_slug("norwich")
    return await town.runtime.store.reports.recent(scheme.id or 0)


def showing(town: Town, message: MessageView, words: str) -> MessageView | None:
    """The message as it is now, once it shows `words` (after the outbox's edit)."""
    shown = town.sandbox.refresh(message)
    return shown if words in shown.body else None


def alerts_in(town: Town, where: object) -> list[MessageView]:
    return [
        m
        for m in town.sandbox.chat_messages(town.bot, where)  # type: ignore[arg-type]
        if m.from_bot and not m.deleted
    ]


# --- a live report: the alert first, the details after -----------------------------


async def test_a_live_report_alerts_after_three_answers_and_each_answer_updates_every_copy(
    town: Town,
) -> None:
    priya = await active_member(town, PRIYA, "Priya")
    await active_member(town, OMAR, "Omar")

    question = await report(town, priya)
    question = await tap(town, priya, question, "Theft")
    question = await tap(town, priya, question, "Happening now – alert everyone")
    assert question.body == report_texts.REPORT_ASK_DESCRIPTION
    assert await norwich_reports(town) == [], "nothing goes out before there is something to say"
    confirmation = await say(town, priya, GIN)

    # /report, then three interactions: Theft, Happening now, the description.
    assert interactions(town, priya) == 4
    [stored] = await norwich_reports(town)
    assert confirmation.body == alert_texts.alert_sent(
        stored.id or 0, 1, ["Wymondham Business Watch"]
    )
    assert (stored.category, stored.urgency, stored.description) == (
        Category.THEFT,
        Urgency.NOW,
        GIN,
    )
    [alert] = await town.sandbox.wait_for(lambda: alerts_in(town, town.group) or None)
    assert GIN in alert.body
    [operators] = await town.sandbox.wait_for(lambda: alerts_in(town, town.control_room) or None)
    question = await priya.next_reply(town.bot)
    assert question.body == (
        f"{report_texts.REPORT_KEEP_ASKING}\n\n{report_texts.REPORT_ASK_PEOPLE}"
    )
    assert question.button_texts[-1] == "Finish"

    question = await tap(town, priya, question, "1")
    question = await tap(town, priya, question, "Male")
    question = await tap(town, priya, question, "25–40")
    question = await tap(town, priya, question, "Tall (over 6′)")
    question = await tap(town, priya, question, "Slim")
    question = await tap(town, priya, question, "Dark")
    assert question.body == report_texts.REPORT_ASK_CLOTHING, "no ethnicity question by default"
    question = await say(town, priya, "Grey hoodie, black cap, red rucksack")
    question = await say(town, priya, "Spider-web tattoo on his neck")
    question = await say(town, priya, "Dazza")
    question = await say(town, priya, "Towards Market St")
    question = await say(town, priya, "silver Ford Focus ab12cde")
    question = await say(town, priya, "2 bottles of Gordon's gin")
    question = await say(town, priya, "£60")
    question = await tap(town, priya, question, "Yes")
    question = await tap(town, priya, question, "Yes")
    assert question.body == report_texts.REPORT_ASK_POLICE_REFERENCE
    question = await say(town, priya, "NC-12345-24")
    assert question.body == report_texts.REPORT_ASK_MORE_PHOTOS
    farewell = await tap(town, priya, question, "Skip")

    assert farewell.body == report_texts.report_finished(stored.id or 0)
    [stored] = await norwich_reports(town)
    assert stored.people_count == 1
    assert (stored.subject_sex, stored.subject_age) == ("male", "25-40")
    assert (stored.subject_height, stored.subject_build, stored.subject_hair) == (
        "tall",
        "slim",
        "dark",
    )
    assert stored.subject_appearance is None
    assert stored.subject_clothing == "Grey hoodie, black cap, red rucksack"
    assert stored.subject_marks == "Spider-web tattoo on his neck"
    assert stored.subject_name == "Dazza"
    assert stored.vehicle == "silver Ford Focus ab12cde"
    assert stored.vehicle_registration == "AB12 CDE"
    assert (stored.property_description, stored.value_pence) == ("2 bottles of Gordon's gin", 6000)
    assert (stored.cctv_held, stored.statement_willing) == (True, True)
    assert (stored.direction, stored.police_reference) == ("Towards Market St", "NC-12345-24")
    assert stored.subject_description == (
        "Male, 25–40, tall, slim build, dark hair, Grey hoodie, black cap, red rucksack; "
        "marks: Spider-web tattoo on his neck; known as Dazza; "
        "vehicle: silver Ford Focus ab12cde (AB12 CDE)"
    )
    # Still one message in each chat, edited as each answer came.
    group_copy = await town.sandbox.wait_for(lambda: showing(town, alert, "NC-12345-24"))
    assert alerts_in(town, town.group) == [group_copy]
    assert f"Who: {stored.subject_description}" in group_copy.body
    assert "Went: Towards Market St" in group_copy.body
    assert "Taken: 2 bottles of Gordon's gin (£60)" in group_copy.body
    room_copy = await town.sandbox.wait_for(lambda: showing(town, operators, "NC-12345-24"))
    assert [m.message_id for m in alerts_in(town, town.control_room)] == [operators.message_id]
    assert "CCTV held · will give a statement" in room_copy.body
    events = await town.runtime.store.reports.events(stored.id or 0)
    assert [e.status for e in events] == ["described"] * 16, "one event per answer given"


async def test_a_live_report_goes_out_with_its_photo_and_the_words_follow(town: Town) -> None:
    priya = await active_member(town, PRIYA, "Priya")

    question = await report(town, priya)
    question = await tap(town, priya, question, "Theft")
    question = await tap(town, priya, question, "Happening now – alert everyone")
    await priya.send_photo(town.bot, make_jpeg(640, 480, "red"))
    confirmation = await priya.next_reply(town.bot)

    assert interactions(town, priya) == 4
    [stored] = await norwich_reports(town)
    assert confirmation.body.startswith("Alert sent to")
    assert len(await town.runtime.store.reports.photos(stored.id or 0)) == 1
    [alert] = await town.sandbox.wait_for(lambda: alerts_in(town, town.group) or None)
    assert alert.photo is not None
    question = await priya.next_reply(town.bot)
    assert question.body == (
        f"{report_texts.REPORT_KEEP_ASKING}\n\n{report_texts.REPORT_ASK_DESCRIPTION}"
    )

    question = await say(town, priya, GIN)
    assert question.body == report_texts.REPORT_ASK_PEOPLE
    caption = await town.sandbox.wait_for(lambda: showing(town, alert, GIN))
    assert caption.photo is not None
    assert alerts_in(town, town.group) == [caption]
    await priya.send_photo(town.bot, make_jpeg(320, 240, "blue"))
    again = await priya.next_reply(town.bot)
    assert again.body == (
        f"{report_texts.report_photo_under_copies(stored.id or 0)}\n\n"
        f"{report_texts.REPORT_ASK_PEOPLE}"
    )
    farewell = await tap(town, priya, again, "Finish")
    assert farewell.body == report_texts.report_finished(stored.id or 0)
    [stored] = await norwich_reports(town)
    assert stored.description == GIN
    assert len(await town.runtime.store.reports.photos(stored.id or 0)) == 2
    [card, under] = await town.sandbox.wait_for(
        lambda: (shown := alerts_in(town, town.group))[1:] and shown
    )
    assert card.message_id == caption.message_id, "the card stays as it was"
    assert under.photo is not None
    assert under.body == f"📷 Another photo for Report #{stored.id} · Norwich ShopWatch"


# --- a button answers only its own question -----------------------------------------


async def test_a_second_tap_on_not_sure_or_skip_answers_nothing_else(polling_town: Town) -> None:
    town = polling_town
    priya = await active_member(town, PRIYA, "Priya")
    question = await report(town, priya)
    question = await tap(town, priya, question, "Theft")
    question = await tap(town, priya, question, "Happening now – alert everyone")
    await say(town, priya, GIN)
    question = await priya.next_reply(town.bot)
    question = await tap(town, priya, question, "2")
    sex = question
    assert sex.body == report_texts.REPORT_ASK_GENDER
    not_sure = data_of(sex, "Not sure")

    age = await tap(town, priya, sex, "Not sure")
    assert age.body == report_texts.REPORT_ASK_AGE
    # Her thumb lands on the same spot again: the press carries the question it was for.
    answer = await town.press_forged(priya, not_sure, on=sex)

    assert answer == report_texts.REPORT_OLD_BUTTON
    assert town.sandbox.refresh(age).buttons == age.buttons, "the age question still waits"
    question = await tap(town, priya, age, "40–60")
    assert question.body == report_texts.REPORT_ASK_HEIGHT
    question = await tap(town, priya, question, "Not sure")
    question = await tap(town, priya, question, "Not sure")
    question = await tap(town, priya, question, "Not sure")
    clothing = question
    assert clothing.body == report_texts.REPORT_ASK_CLOTHING
    skip = data_of(clothing, "Skip")
    marks = await tap(town, priya, clothing, "Skip")
    assert await town.press_forged(priya, skip, on=clothing) == report_texts.REPORT_OLD_BUTTON
    question = await say(town, priya, "Scar over his left eye")
    assert question.body == report_texts.REPORT_ASK_NAME
    assert town.sandbox.refresh(marks).buttons == ()

    [stored] = await norwich_reports(town)
    assert (stored.people_count, stored.subject_sex, stored.subject_age) == (2, None, "40-60")
    assert stored.subject_marks == "Scar over his left eye"
    assert stored.subject_description == "2 people: 40–60; marks: Scar over his left eye"
    events = await town.runtime.store.reports.events(stored.id or 0)
    assert len(events) == 3, "people, age, marks: the second taps recorded nothing"


async def test_a_button_of_an_abandoned_report_answers_nothing(polling_town: Town) -> None:
    town = polling_town
    priya = await active_member(town, PRIYA, "Priya")
    first = await report(town, priya)
    theft = data_of(first, "Theft")
    fresh = await report(town, priya)

    answer = await town.press_forged(priya, theft, on=first)

    assert answer == report_texts.REPORT_OLD_BUTTON
    assert town.sandbox.refresh(fresh).buttons == fresh.buttons


# --- a report for the log: when, and everything else -------------------------------


async def test_a_log_only_report_asks_when_and_search_and_export_use_it(town: Town) -> None:
    priya = await active_member(town, PRIYA, "Priya")

    question = await report(town, priya)
    question = await tap(town, priya, question, "Fraud or distraction")
    question = await tap(town, priya, question, "Already over – log it only")
    assert question.body == report_texts.REPORT_ASK_WHEN
    assert question.button_texts == ["Just now", "Earlier today", "Yesterday", "Cancel"]
    question = await tap(town, priya, question, "Yesterday")
    assert question.body == report_texts.REPORT_ASK_WHEN_TIME
    question = await say(town, priya, "3pm")
    question = await say(town, priya, "Two men, one distracted me at the till with a £50 note")
    question = await tap(town, priya, question, "2")
    question = await tap(town, priya, question, "Male")
    question = await tap(town, priya, question, "18–25")
    for _ in range(4):  # height, build, hair: not sure; clothing: skip
        question = await tap(town, priya, question, question.button_texts[-2])
    assert question.body == report_texts.REPORT_ASK_MARKS
    for _ in range(2):  # marks, name
        question = await tap(town, priya, question, "Skip")
    assert question.body == report_texts.REPORT_ASK_DIRECTION
    await priya.send_photo(town.bot, make_jpeg(320, 240, "green"))  # a still, sent early
    question = await priya.next_reply(town.bot)
    assert question.body == f"Photo 1 added to your report.\n\n{report_texts.REPORT_ASK_DIRECTION}"
    for _ in range(2):  # direction, vehicle
        question = await tap(town, priya, question, "Skip")
    question = await say(town, priya, "£50 from the till")
    question = await say(town, priya, "50")
    question = await tap(town, priya, question, "Yes")
    question = await tap(town, priya, question, "No")
    question = await tap(town, priya, question, "Skip")
    summary = await tap(town, priya, question, "Done")
    yesterday = (datetime.now(LONDON) - timedelta(days=1)).replace(
        hour=15, minute=0, second=0, microsecond=0
    )
    assert f"When: {formats.moment(yesterday, 'Europe/London')}" in summary.body
    assert "Person: 2 people: Male, 18–25" in summary.body
    assert "Taken: £50 from the till" in summary.body
    assert "CCTV: held" in summary.body
    assert "Statement: no" in summary.body
    assert "nobody is alerted" in summary.body

    confirmation = await tap(town, priya, summary, "Send")

    [stored] = await norwich_reports(town)
    assert confirmation.body == report_texts.report_logged(stored.id or 0)
    assert (stored.category, stored.urgency) == (Category.FRAUD, Urgency.LOG)
    assert stored.occurred_at == yesterday.astimezone(UTC)
    assert stored.created_at - stored.occurred_at > timedelta(hours=1)
    assert (stored.cctv_held, stored.statement_willing) == (True, False)
    assert stored.value_pence == 5000
    assert len(await town.runtime.store.reports.photos(stored.id or 0)) == 1
    assert await town.runtime.store.outbox.for_report(stored.id or 0) == []
    assert town.bot_said(town.group) == []
    assert town.bot_said(town.control_room) == []

    # The log is searched by when it happened: yesterday, not today.
    omar = await active_member(town, OMAR, "Omar", role=Role.OPERATOR)
    day = f"{yesterday:%d/%m/%Y}"
    found = await say(town, omar, f"/search till from:{day} to:{day}")
    assert "Results 1–1, newest first:" in found.body
    assert f"\n{stored.id} · {formats.moment(yesterday, 'Europe/London')} · Fraud" in found.body
    today = f"{datetime.now(LONDON):%d/%m/%Y}"
    nothing = await say(town, omar, f"/search till from:{today} to:{today}")
    assert nothing.body.startswith("Nothing in the log matches")


async def test_when_is_asked_with_buttons_or_typed(polling_town: Town) -> None:
    town = polling_town
    priya = await active_member(town, PRIYA, "Priya")
    question = await report(town, priya)
    question = await tap(town, priya, question, "Suspicious behaviour")
    question = await tap(town, priya, question, "Already over – log it only")

    tomorrow = datetime.now(LONDON) + timedelta(days=1)
    again = await say(town, priya, f"{tomorrow:%d/%m/%Y} 10:00")
    assert again.body == (
        f"That time is still to come: please check it.\n\n{report_texts.REPORT_ASK_WHEN}"
    )
    again = await say(town, priya, "sometime")
    assert again.body.startswith("Please type a time like 14:30")
    question = await say(town, priya, "yesterday 09:15")
    assert question.body == report_texts.REPORT_ASK_DESCRIPTION

    assert await norwich_reports(town) == []
    while question.body != report_texts.REPORT_ASK_PHOTOS:
        question = await tap(town, priya, question, question.button_texts[-2])
    summary = await tap(town, priya, question, "Skip")
    await tap(town, priya, summary, "Send")
    [stored] = await norwich_reports(town)
    yesterday = (datetime.now(LONDON) - timedelta(days=1)).replace(
        hour=9, minute=15, second=0, microsecond=0
    )
    assert stored.occurred_at == yesterday.astimezone(UTC)


async def test_everything_optional_can_be_skipped(polling_town: Town) -> None:
    town = polling_town
    priya = await active_member(town, PRIYA, "Priya")

    question = await report(town, priya)
    question = await tap(town, priya, question, "Suspicious behaviour")
    question = await tap(town, priya, question, "Already over – log it only")
    question = await tap(town, priya, question, "Just now")
    asked = []
    while question.body != report_texts.REPORT_ASK_PHOTOS:
        asked.append(question.body)
        skip = "Not sure" if "Not sure" in question.button_texts else "Skip"
        question = await tap(town, priya, question, skip)
    assert asked == [
        report_texts.REPORT_ASK_DESCRIPTION,
        report_texts.REPORT_ASK_PEOPLE,
        report_texts.REPORT_ASK_GENDER,
        report_texts.REPORT_ASK_AGE,
        report_texts.REPORT_ASK_HEIGHT,
        report_texts.REPORT_ASK_BUILD,
        report_texts.REPORT_ASK_HAIR,
        report_texts.REPORT_ASK_CLOTHING,
        report_texts.REPORT_ASK_MARKS,
        report_texts.REPORT_ASK_NAME,
        report_texts.REPORT_ASK_DIRECTION,
        report_texts.REPORT_ASK_VEHICLE,
        # Nothing lost in suspicious behaviour: no property, no value.
        report_texts.REPORT_ASK_CCTV,
        report_texts.REPORT_ASK_STATEMENT,
        report_texts.REPORT_ASK_POLICE_REFERENCE,
    ]
    summary = await tap(town, priya, question, "Skip")
    assert "Person: –" in summary.body

    confirmation = await tap(town, priya, summary, "Send")

    [stored] = await norwich_reports(town)
    assert confirmation.body == report_texts.report_logged(stored.id or 0)
    assert stored.description == "Suspicious behaviour"
    assert stored.subject_description is None
    assert abs(stored.occurred_at - stored.created_at) < timedelta(seconds=5)
    assert (stored.direction, stored.value_pence, stored.police_reference) == (None, None, None)
    assert (stored.people_count, stored.cctv_held, stored.vehicle) == (None, None, None)
    assert await town.runtime.store.reports.photos(stored.id or 0) == []


async def test_the_appearance_question_is_asked_only_where_the_scheme_turns_it_on(
    tmp_path: Path,
) -> None:
    # Norwich's DPIA decided to hold it: its schemes file says so.
    example = EXAMPLE_SCHEMES.read_text(encoding="utf-8")
    turned_on = tmp_path / "schemes.toml"
    turned_on.write_text(
        example.replace("ethnicity_descriptor = false", "ethnicity_descriptor = true", 1),
        encoding="utf-8",
    )
    schemes = load_schemes(turned_on)
    assert schemes.scheme("norwich").subjects.ethnicity_descriptor
    async with running_town(tmp_path, schemes=schemes) as town:
        priya = await active_member(town, PRIYA, "Priya")
        question = await report(town, priya)
        question = await tap(town, priya, question, "Theft")
        question = await tap(town, priya, question, "Happening now – alert everyone")
        await say(town, priya, GIN)
        question = await priya.next_reply(town.bot)
        while question.body != report_texts.REPORT_ASK_APPEARANCE:
            question = await tap(town, priya, question, "Not sure")
        assert "IC1 White – northern European" in question.button_texts
        question = await tap(town, priya, question, "IC3 Black")
        assert question.body == report_texts.REPORT_ASK_CLOTHING

        [stored] = await norwich_reports(town)
        assert stored.subject_appearance == "ic3"
        assert stored.subject_description == "IC3"


# --- the rest of the conversation -----------------------------------------------------


async def test_cancelling_midway_stores_nothing(town: Town) -> None:
    priya = await active_member(town, PRIYA, "Priya")

    question = await report(town, priya)
    assert question.body == report_texts.REPORT_ASK_CATEGORY
    assert question.button_texts[-1] == "Cancel"
    question = await tap(town, priya, question, "Theft")
    assert question.body == report_texts.REPORT_ASK_URGENCY
    question = await tap(town, priya, question, "Already over – log it only")
    question = await tap(town, priya, question, "Just now")
    question = await say(town, priya, GIN)
    assert question.body == report_texts.REPORT_ASK_PEOPLE

    farewell = await tap(town, priya, question, "Cancel")

    assert farewell.body == report_texts.REPORT_CANCELLED
    assert town.sandbox.refresh(question).buttons == ()
    scheme = await town.runtime.store.schemes.get_by_slug("norwich")
    assert await town.runtime.store.reports.recent(scheme.id or 0) == []
    assert town.bot_said(town.group) == []
    assert "report" not in town.runtime.application.user_data.get(PRIYA, {})


async def test_answered_taps_stay_in_the_chat_without_their_buttons(polling_town: Town) -> None:
    town = polling_town
    priya = await active_member(town, PRIYA, "Priya")
    first = await report(town, priya)

    await tap(town, priya, first, "Criminal damage")

    shown = town.sandbox.refresh(first)
    assert shown.body == f"{report_texts.REPORT_ASK_CATEGORY}\n→ Criminal damage"
    assert shown.buttons == ()


async def test_a_police_member_is_refused(polling_town: Town) -> None:
    town = polling_town
    pc_jones = await active_member(town, PC_JONES, "PC Jones", role=Role.POLICE)

    reply = await report(town, pc_jones)

    assert reply.body == refusal_texts.refusal(Refusal.WRONG_ROLE)
    assert reply.buttons == ()


async def test_report_is_in_the_command_menu_and_the_help(polling_town: Town) -> None:
    town = polling_town
    priya = await active_member(town, PRIYA, "Priya")

    help_text = await say(town, priya, "/help")

    assert "/report" in help_text.body
    assert "report" in dict(town.sandbox.commands(town.bot))


async def test_a_stranger_is_refused(polling_town: Town) -> None:
    town = polling_town
    stranger = town.person(900101, "Sam")

    reply = await report(town, stranger)

    assert reply.body == refusal_texts.REFUSED_NOT_MEMBER


async def test_absurd_answers_are_explained_and_the_question_asked_again(
    polling_town: Town,
) -> None:
    town = polling_town
    omar = await active_member(town, OMAR, "Omar", role=Role.OPERATOR)
    question = await report(town, omar)

    again = await say(town, omar, "theft")  # typed where a tap is wanted
    assert again.body == f"{report_texts.REPORT_USE_BUTTONS}\n\n{report_texts.REPORT_ASK_CATEGORY}"
    assert town.sandbox.refresh(question).buttons == (), "only the newest question has buttons"
    question = await tap(town, omar, again, "Theft")
    question = await tap(town, omar, question, "Already over – log it only")
    question = await tap(town, omar, question, "Earlier today")

    again = await say(town, omar, "25:99")
    assert again.body.startswith("Please type a time like 14:30")
    question = await tap(town, omar, again, "Not sure")
    again = await say(town, omar, "gin " * 1250)  # 5000 characters
    assert again.body == (
        "That is too long: please keep it under 1000 characters.\n\n"
        f"{report_texts.REPORT_ASK_DESCRIPTION}"
    )
    question = await say(town, omar, GIN)
    again = await say(town, omar, "a few")
    assert again.body == (
        f"Please type the number of people, like 6.\n\n{report_texts.REPORT_ASK_PEOPLE}"
    )
    question = await say(town, omar, "7")
    while question.body != report_texts.REPORT_ASK_PROPERTY:
        question = await tap(town, omar, question, question.button_texts[-2])
    question = await say(town, omar, "Gin")
    assert question.body == report_texts.REPORT_ASK_VALUE

    again = await say(town, omar, "lots")
    assert again.body == (
        f"Please type the amount in pounds, like £60 or 60.50.\n\n{report_texts.REPORT_ASK_VALUE}"
    )
    question = await say(town, omar, "£60.50")
    question = await tap(town, omar, question, "Skip")
    question = await tap(town, omar, question, "Skip")
    assert question.body == report_texts.REPORT_ASK_POLICE_REFERENCE

    again = await say(town, omar, "<script>alert(1)</script>")
    assert again.body.startswith("A police reference has only letters, numbers")
    question = await say(town, omar, "NC-12345-24")
    assert question.body == report_texts.REPORT_ASK_PHOTOS

    again = await say(town, omar, "here is the photo")
    assert again.body == f"{report_texts.REPORT_SEND_PHOTO}\n\n{report_texts.REPORT_ASK_PHOTOS}"
    summary = await tap(town, omar, again, "Skip")
    assert "Value: £60.50" in summary.body
    assert "Police reference: NC-12345-24" in summary.body
    assert "Person: 7 people" in summary.body


async def test_a_second_report_command_starts_again_cleanly(polling_town: Town) -> None:
    town = polling_town
    priya = await active_member(town, PRIYA, "Priya")
    question = await report(town, priya)
    old = await tap(town, priya, question, "Theft")

    fresh = await report(town, priya)

    assert fresh.body == report_texts.REPORT_ASK_CATEGORY
    assert town.sandbox.refresh(old).buttons == (), "the abandoned question loses its buttons"
    question = await tap(town, priya, fresh, "Anti-social behaviour")
    question = await tap(town, priya, question, "Already over – log it only")
    question = await tap(town, priya, question, "Just now")
    question = await say(town, priya, "Group of teenagers throwing food at staff")
    question = await tap(town, priya, question, "4")
    while question.body != report_texts.REPORT_ASK_VEHICLE:
        question = await tap(town, priya, question, question.button_texts[-2])
    question = await tap(town, priya, question, "Skip")
    # No loss to value for anti-social behaviour: straight on to CCTV.
    assert question.body == report_texts.REPORT_ASK_CCTV


async def test_a_question_from_a_report_forgotten_in_a_restart_answers_its_button(
    polling_town: Town,
) -> None:
    town = polling_town
    priya = await active_member(town, PRIYA, "Priya")
    question = await report(town, priya)
    await town.runtime.stop()
    # The bot stays down for days: at the next start, the idle draft is forgotten.
    store = await Store.open(town.runtime.settings.database_url)
    try:
        await store.conversations.forget_idle(datetime.now(UTC) + timedelta(minutes=1))
    finally:
        await store.close()

    async with restarted(town):
        answer = await priya.press(question, "Theft")

        assert answer == report_texts.REPORT_OLD_BUTTON
        assert town.sandbox.refresh(question).buttons == ()


async def test_a_report_left_unanswered_times_out_with_a_message(polling_town: Town) -> None:
    town = polling_town
    priya = await active_member(town, PRIYA, "Priya")
    question = await report(town, priya)
    question = await tap(town, priya, question, "Theft")

    # Twenty minutes pass: the conversation's timeout job runs.
    jobs = report_conversation(town).timeout_jobs
    timeout = await town.sandbox.wait_for(lambda: jobs.get((PRIYA, PRIYA)))
    await timeout.run(town.runtime.application)

    assert (await priya.next_reply(town.bot)).body == report_texts.REPORT_TIMED_OUT
    assert town.sandbox.refresh(question).buttons == ()
    await town.runtime.application.update_persistence()
    assert await town.runtime.store.conversations.states("report") == {}
    assert "report" not in await town.runtime.store.conversations.user_data(PRIYA)


async def test_a_half_finished_live_report_survives_a_restart(town: Town) -> None:
    priya = await active_member(town, PRIYA, "Priya")
    question = await report(town, priya)
    question = await tap(town, priya, question, "Theft")
    question = await tap(town, priya, question, "Happening now – alert everyone")
    await say(town, priya, GIN)
    question = await priya.next_reply(town.bot)
    assert question.body.endswith(report_texts.REPORT_ASK_PEOPLE)

    async with restarted(town):
        question = await tap(town, priya, question, "1")

        assert question.body == report_texts.REPORT_ASK_GENDER
        question = await tap(town, priya, question, "Female")
        question = await tap(town, priya, question, "40–60")
        farewell = await tap(town, priya, question, "Finish")

        [stored] = await norwich_reports(town)
        assert farewell.body == report_texts.report_finished(stored.id or 0)
        assert stored.description == GIN
        assert stored.subject_description == "Female, 40–60"
        assert "report" not in town.runtime.application.user_data.get(PRIYA, {})


async def test_a_report_abandoned_before_a_restart_still_times_out(
    polling_town: Town,
) -> None:
    town = polling_town
    priya = await active_member(town, PRIYA, "Priya")
    question = await report(town, priya)
    await tap(town, priya, question, "Theft")
    await town.runtime.stop()
    # An hour passes while the bot is down.
    store = await Store.open(town.runtime.settings.database_url)
    try:
        kept = await store.conversations.user_data(PRIYA)
        kept["report"]["touched"] -= 3600
        await store.conversations.set_user_data(PRIYA, kept)
    finally:
        await store.close()

    async with restarted(town):
        reply = await say(town, priya, "Happening now")

    assert reply.body == report_texts.REPORT_TIMED_OUT
