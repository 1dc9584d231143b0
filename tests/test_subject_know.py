"""Do you know this person? A new face goes to the members' group, one member names them in
private, and only the coordinators hear it: turn by turn through the Bot API sandbox.

Alice's photo alert becomes Subject #1 in the control room; the subjects' watch (the
plugin's scheduled job, run here when the story needs it) puts the protected card in the
Norwich group. Bob, who never started the bot, is told to start it first; Wendy, of
Wymondham, replaying the card's button, is refused; a forged press is refused. Alice
presses and gets the question in her private chat; her answers of 5,000 characters and
with a link are refused, nothing kept; her real answer is kept with her name and reaches
Carol privately, and no other member sees it. The card goes with the chat TTL.
"""

from __future__ import annotations

from datetime import timedelta

from bot.plugins.subjects import WATCH_JOB
from broadcast.subjects.service import Actor
from broadcast.texts import refusals
from config.errors import Refusal
from config.vocabulary import AuditOutcome, Category, Role, Urgency
from sandbox import MessageView, Person
from storage.models import Photo, Report, utcnow
from storage.store import Store
from storage.subjects import Identification
from tests.gallery_town import enrol
from tests.test_alerts import NORWICH, NORWICH_CONTROL_ROOM, copies, phone_photo
from tests.town import Town

CARD = "Do you know this person?"
ANSWER = "That's Dean Smith, he drinks in the Bell on Orford Hill most nights"


async def the_watch_runs(town: Town) -> None:
    """The subjects' scheduled job runs once now, as it does every twenty seconds."""
    queue = town.runtime.application.job_queue
    assert queue is not None
    [job] = queue.get_jobs_by_name(WATCH_JOB)
    await job.run(town.runtime.application)


def cards_in_the_group(town: Town) -> list[MessageView]:
    return [
        m
        for m in town.sandbox.chat_messages(town.bot, town.group)
        if m.from_bot and m.body.startswith(CARD)
    ]


async def the_card(town: Town) -> MessageView:
    def probe() -> MessageView | None:
        found = cards_in_the_group(town)
        return found[0] if found else None

    return await town.sandbox.wait_for(probe, message="the card in the members' group")


async def a_bot_message(town: Town, person: Person, beginning: str) -> MessageView:
    def probe() -> MessageView | None:
        for message in town.sandbox.chat_messages(town.bot, person):
            if message.from_bot and message.body.startswith(beginning):
                return message
        return None

    return await town.sandbox.wait_for(probe, message=f"{beginning!r} to {person.name}")


async def answers(town: Town, person: Person, question: MessageView, text: str) -> str:
    """`person` replies to the bot's question; the bot's answer to that reply."""
    sent = await person.send(town.bot, text, reply_to=question)
    said = await town.bot_message_after(person, sent.message_id, what="the answer to a reply")
    return said.body


async def test_a_member_names_a_new_face_privately_and_only_the_coordinators_hear_it(
    polling_town: Town,
) -> None:
    town = polling_town
    store = town.runtime.store
    carol = town.coordinator
    carol.open_chat(town.bot)
    alice = await enrol(town, 5_000_000_301, "Alice", shop="Boots", street="Haymarket")
    bob = await enrol(town, 5_000_000_302, "Bob", shop="Jarrold", street="London Street")
    dave = await enrol(town, 5_000_000_303, "Dave", role=Role.OPERATOR)
    wendy = await enrol(town, 5_000_000_304, "Wendy", scheme="wymondham", shop="Spar")
    town.control_room.add_member(dave)
    for person in (alice, bob):
        town.group.add_member(person)

    await alice.send_photo(town.bot, phone_photo(), caption="Took six packs of razor blades")
    await alice.next_reply(town.bot)
    control_room = (await copies(town, NORWICH))[NORWICH_CONTROL_ROOM]
    made = await dave.press(control_room, "New subject")
    assert made is not None
    subject_id = int(made.removeprefix("Subject #").split(" ", 1)[0])
    await the_watch_runs(town)

    card = await the_card(town)
    assert card.body.splitlines()[0] == f"{CARD} ID sought: Subject #{subject_id}"
    assert "Took six packs of razor blades" in card.body
    assert card.photo is not None
    assert card.protect_content
    assert card.button_texts == ["I know who this is"]
    await the_watch_runs(town)
    assert len(cards_in_the_group(town)) == 1, "each face is put to the group once"

    assert await bob.press(card, "I know who this is") == (
        "First open a private chat with me (@shopwatch_bot) and press Start, then press "
        "I know who this is again: your answer must go to the coordinators privately."
    )
    data = card.buttons[0][0].callback_data
    assert isinstance(data, str)
    sent = await wendy.send(town.bot, "/start")  # the chat guard keeps her out of the group
    await town.bot_message_after(wendy, sent.message_id, what="Wendy's /start")
    assert await town.press_forged(wendy, data) == "That card is for another scheme's members."
    forged = await town.press_forged(alice, f"subjk:{subject_id + 1}:000000000000", on=card)
    assert forged == refusals.refusal(Refusal.FORGED)

    pressed = await alice.press(card, "I know who this is")

    assert pressed == (
        "I have asked you in our private chat: what you tell me there goes to the scheme's "
        "coordinators only."
    )
    question = await a_bot_message(town, alice, f"Who is Subject #{subject_id}?")
    assert question.protect_content

    too_long = await answers(town, alice, question, "Dean " * 1000)
    assert too_long == (
        "That is 5,000 characters; an answer is kept to 1,000. Nothing was kept: reply to the "
        "question again, shorter."
    )
    with_a_link = await answers(town, alice, question, "It's him, see facebook.com/dean.smith")
    assert with_a_link.startswith("An answer cannot carry a link")
    assert await store.subjects.intel(subject_id) == []

    thanks = await answers(town, alice, question, ANSWER)

    assert thanks == (
        f"Thank you. What you said about Subject #{subject_id} went to the scheme's "
        "coordinators only, with your name; no other member sees it."
    )
    [kept] = await store.subjects.intel(subject_id)
    norwich = await store.schemes.get_by_slug("norwich")
    assert norwich.id is not None
    alice_row = await store.members.get(norwich.id, alice.id)
    assert alice_row is not None
    assert (kept.text, kept.member_id) == (ANSWER, alice_row.id)
    told = await a_bot_message(town, carol, f"About Subject #{subject_id} (ID sought)")
    assert told.body.splitlines()[:2] == [
        f"About Subject #{subject_id} (ID sought), Alice (Boots) says:",
        ANSWER,
    ]
    assert told.protect_content
    for where in (town.group, town.control_room, bob, dave, wendy):
        assert not any(ANSWER in said for said in town.chat(where)), where
    again = await answers(town, alice, question, "And he has a brother")
    assert again.startswith("That question is no longer open")
    assert len(await store.subjects.intel(subject_id)) == 1

    bob.open_chat(town.bot)
    assert (await bob.press(card, "I know who this is") or "").startswith("I have asked you")
    await a_bot_message(town, bob, f"Who is Subject #{subject_id}?")

    entries = await store.audit.of_actions(None, ["subject.intel", "subject.card"])
    assert [(e.action, e.outcome, e.detail.get("reason")) for e in entries] == [
        ("subject.card", AuditOutcome.ALLOWED, None),
        ("subject.intel", AuditOutcome.REFUSED, Refusal.OTHER_SCHEME),
        ("subject.intel", AuditOutcome.REFUSED, Refusal.FORGED),
        ("subject.intel", AuditOutcome.REFUSED, "intel_too_long"),
        ("subject.intel", AuditOutcome.REFUSED, "intel_has_link"),
        ("subject.intel", AuditOutcome.ALLOWED, None),
    ]

    carol_row = await store.members.get(norwich.id, carol.id)
    assert carol_row is not None
    bundle = await town.runtime.services.subjects.subject_access(Actor(carol_row), subject_id)
    assert [(d.action, d.how) for d in bundle.disclosures] == [
        ("subject.card", "members' group")
    ], "the request a person may make lists the card shown to the member shops"

    town.sandbox.advance_time(37 * 3600)
    await town.runtime.outbox.run_once(now=utcnow() + timedelta(hours=37))
    assert town.sandbox.refresh(card).deleted, "the card goes with the chat TTL"


async def test_only_new_id_sought_faces_with_a_photo_are_put_to_the_group_once(
    synced_store: Store,
) -> None:
    store = synced_store
    scheme = await store.schemes.get_by_slug("norwich")
    assert scheme.id is not None
    made: list[int] = []
    for pictured in (True, False, True):
        photo = Photo(
            sha256=f"{len(made)}" * 64,
            phash="0" * 16,
            width=4,
            height=3,
            size=9,
            relative_path="p",
        )
        report = await store.reports.create(
            Report(
                scheme_id=scheme.id,
                category=Category.THEFT,
                urgency=Urgency.NOW,
                description="Took razor blades",
            ),
            lambda saved: [],
            [photo] if pictured else [],
        )
        subject = await store.subjects.create_from_report(
            report.id or 0, scheme_id=scheme.id, by_member_id=None, description=""
        )
        made.append(subject.id or 0)
    with_photo, _without_a_photo, named = made
    await store.subjects.identify(
        named,
        Identification("Dean Smith", (), "PCSO Hale"),
        scheme_id=scheme.id,
        by_member_id=None,
    )

    assert [s.id for s in await store.subjects.unasked(50)] == [with_photo]
    await store.subjects.mark_asked(with_photo, utcnow())
    assert await store.subjects.unasked(50) == []
