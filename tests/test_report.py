"""The guided /report, told turn by turn: a shopkeeper taps through it on her phone.

The bot is the real application against the sandbox; answers are taps on the
question's buttons or typed messages, and what the member reads is what the
sandbox's chat holds.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from telegram.ext import ConversationHandler

from bot.runtime import BotRuntime
from broadcast.texts import alerts as alert_texts
from broadcast.texts import refusals as refusal_texts
from broadcast.texts import report as report_texts
from config.errors import Refusal
from config.schemes import Category, Urgency
from sandbox import MessageView, Person
from storage.enums import MemberStatus, Role
from storage.models import Member, Report
from storage.store import Store
from tests.sandbox_fixtures import make_jpeg
from tests.town import Town

PRIYA = 5_000_000_101
OMAR = 5_000_000_102
PC_JONES = 5_000_000_103
GIN = "Took two bottles of gin from the front display and walked out"


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


async def test_a_full_theft_report_with_two_photos_alerts_everyone(town: Town) -> None:
    priya = await active_member(town, PRIYA, "Priya")
    await active_member(town, OMAR, "Omar")

    question = await report(town, priya)
    question = await tap(town, priya, question, "Theft")
    question = await tap(town, priya, question, "Happening now – alert everyone")
    question = await say(town, priya, GIN)
    question = await tap(town, priya, question, "Male")
    question = await tap(town, priya, question, "25–40")
    question = await say(town, priya, "Grey hoodie, black cap, red rucksack")
    question = await say(town, priya, "Towards Market St")
    question = await say(town, priya, "£60")
    question = await say(town, priya, "NC-12345-24")
    assert question.body == report_texts.REPORT_ASK_PHOTOS
    added = await priya.send_photo(town.bot, make_jpeg(640, 480, "red"))
    question = await priya.next_reply(town.bot)
    assert question.body == "Photo 1 added. Send another, or press Done."
    await priya.send_photo(town.bot, make_jpeg(480, 640, "blue"))
    question = await priya.next_reply(town.bot)
    assert question.button_texts == ["Done", "Cancel"]
    summary = await tap(town, priya, question, "Done")
    assert summary.body.startswith("Please check your report:")
    assert "Person: Male, 25–40, Grey hoodie, black cap, red rucksack" in summary.body
    assert "Photos: 2" in summary.body
    assert summary.button_texts == ["Send", "Cancel"]

    confirmation = await tap(town, priya, summary, "Send")

    [stored] = await norwich_reports(town)
    assert confirmation.body == alert_texts.alert_sent(
        stored.id or 0, 1, ["Wymondham Business Watch"]
    )
    assert f"Report #{stored.id}." in confirmation.body
    assert (stored.category, stored.urgency) == (Category.THEFT, Urgency.NOW)
    assert stored.description == GIN
    assert stored.subject_description == "Male, 25–40, Grey hoodie, black cap, red rucksack"
    assert (stored.direction, stored.value_pence) == ("Towards Market St", 6000)
    assert stored.police_reference == "NC-12345-24"
    assert len(await town.runtime.store.reports.photos(stored.id or 0)) == 2
    alert = await town.coordinator.next_reply(town.group)
    assert "Towards Market St" in alert.body
    assert alert.photo is not None
    in_control_room = await town.sandbox.wait_for(lambda: town.bot_said(town.control_room))
    assert any(GIN in body for body in in_control_room)
    assert town.sandbox.refresh(summary).buttons == ()
    assert added.photo is not None


async def test_a_log_only_report_is_stored_and_nobody_is_alerted(town: Town) -> None:
    priya = await active_member(town, PRIYA, "Priya")

    question = await report(town, priya)
    question = await tap(town, priya, question, "Fraud or distraction")
    question = await tap(town, priya, question, "Already over – log it only")
    question = await say(town, priya, "Two men, one distracted me at the till with a £50 note")
    question = await tap(town, priya, question, "Male")
    question = await tap(town, priya, question, "18–25")
    question = await say(town, priya, "Both in tracksuits")
    assert question.body == report_texts.REPORT_ASK_DIRECTION
    await priya.send_photo(town.bot, make_jpeg(320, 240, "green"))  # a still, sent early
    question = await priya.next_reply(town.bot)
    assert question.body == f"Photo 1 added to your report.\n\n{report_texts.REPORT_ASK_DIRECTION}"
    question = await tap(town, priya, question, "Skip")
    question = await say(town, priya, "120")
    question = await tap(town, priya, question, "Skip")
    summary = await tap(town, priya, question, "Done")
    assert "nobody is alerted" in summary.body

    confirmation = await tap(town, priya, summary, "Send")

    [stored] = await norwich_reports(town)
    assert confirmation.body == report_texts.report_logged(stored.id or 0)
    assert confirmation.body.startswith(f"Report #{stored.id} logged.")
    assert (stored.category, stored.urgency) == (Category.FRAUD, Urgency.LOG)
    assert stored.value_pence == 12000
    assert len(await town.runtime.store.reports.photos(stored.id or 0)) == 1
    assert await town.runtime.store.outbox.for_report(stored.id or 0) == []
    assert (await town.runtime.store.outbox.backlog()).due == 0
    assert town.bot_said(town.group) == []
    assert town.bot_said(town.control_room) == []


async def test_everything_optional_can_be_skipped(polling_town: Town) -> None:
    town = polling_town
    priya = await active_member(town, PRIYA, "Priya")

    question = await report(town, priya)
    question = await tap(town, priya, question, "Suspicious behaviour")
    question = await tap(town, priya, question, "Already over – log it only")
    for step in (
        report_texts.REPORT_ASK_DESCRIPTION,
        report_texts.REPORT_ASK_GENDER,
        report_texts.REPORT_ASK_AGE,
        report_texts.REPORT_ASK_CLOTHING,
        report_texts.REPORT_ASK_DIRECTION,
        report_texts.REPORT_ASK_POLICE_REFERENCE,
        report_texts.REPORT_ASK_PHOTOS,
    ):
        assert question.body == step
        skip = "Not sure" if "Not sure" in question.button_texts else "Skip"
        question = await tap(town, priya, question, skip)
    assert "Person: –" in question.body

    confirmation = await tap(town, priya, question, "Send")

    [stored] = await norwich_reports(town)
    assert confirmation.body == report_texts.report_logged(stored.id or 0)
    assert stored.description == "Suspicious behaviour"
    assert stored.subject_description is None
    assert (stored.direction, stored.value_pence, stored.police_reference) == (None, None, None)
    assert await town.runtime.store.reports.photos(stored.id or 0) == []


async def test_cancelling_midway_stores_nothing(town: Town) -> None:
    priya = await active_member(town, PRIYA, "Priya")

    question = await report(town, priya)
    assert question.body == report_texts.REPORT_ASK_CATEGORY
    assert question.button_texts[-1] == "Cancel"
    question = await tap(town, priya, question, "Theft")
    assert question.body == report_texts.REPORT_ASK_URGENCY
    question = await tap(town, priya, question, "Happening now – alert everyone")
    assert question.body == report_texts.REPORT_ASK_DESCRIPTION
    question = await say(town, priya, GIN)
    assert question.body == report_texts.REPORT_ASK_GENDER

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

    again = await say(town, omar, "gin " * 1250)  # 5000 characters
    assert again.body == (
        "That is too long: please keep it under 1000 characters.\n\n"
        f"{report_texts.REPORT_ASK_DESCRIPTION}"
    )
    question = await say(town, omar, GIN)
    assert question.body == report_texts.REPORT_ASK_GENDER
    question = await tap(town, omar, question, "Male")
    question = await tap(town, omar, question, "25–40")
    question = await say(town, omar, "Grey hoodie, black cap")
    question = await say(town, omar, "Towards Market St")
    assert question.body == report_texts.REPORT_ASK_VALUE

    again = await say(town, omar, "lots")
    assert again.body == (
        f"Please type the amount in pounds, like £60 or 60.50.\n\n{report_texts.REPORT_ASK_VALUE}"
    )
    question = await say(town, omar, "£60.50")
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
    assert "Person: Male, 25–40, Grey hoodie, black cap" in summary.body


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
    question = await say(town, priya, "Group of teenagers throwing food at staff")
    question = await tap(town, priya, question, "Not sure")
    question = await tap(town, priya, question, "Under 18")
    question = await tap(town, priya, question, "Skip")
    question = await tap(town, priya, question, "Skip")
    # No loss to value for anti-social behaviour: straight on to the police reference.
    assert question.body == report_texts.REPORT_ASK_POLICE_REFERENCE


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


async def test_a_half_finished_report_survives_a_restart(town: Town) -> None:
    priya = await active_member(town, PRIYA, "Priya")
    question = await report(town, priya)
    question = await tap(town, priya, question, "Theft")
    question = await tap(town, priya, question, "Happening now – alert everyone")
    assert question.body == report_texts.REPORT_ASK_DESCRIPTION

    async with restarted(town):
        question = await say(town, priya, GIN)

        assert question.body == report_texts.REPORT_ASK_GENDER
        question = await tap(town, priya, question, "Female")
        assert question.body == report_texts.REPORT_ASK_AGE
        question = await tap(town, priya, question, "40–60")
        question = await say(town, priya, "Long beige coat")
        question = await tap(town, priya, question, "Skip")
        question = await say(town, priya, "45")
        question = await tap(town, priya, question, "Skip")
        summary = await tap(town, priya, question, "Skip")
        confirmation = await tap(town, priya, summary, "Send")

        [stored] = await norwich_reports(town)
        assert confirmation.body.startswith("Alert sent to")
        assert f"Report #{stored.id}." in confirmation.body
        assert stored.description == GIN
        assert stored.subject_description == "Female, 40–60, Long beige coat"
        assert stored.value_pence == 4500


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
