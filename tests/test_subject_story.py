"""The people side's whole story in the chats, turn by turn through the Bot API sandbox.

Alice's photo alert becomes Subject #1; the members' group is asked who it is and Bob
names him privately; Carol records the identification with /identify and issues an
exclusion with /notice, and its letter arrives as a PDF she opens and reads; she records
its service with /served and /noticeletter gives the letter as served. When the same picture
comes back in a new alert, Carol is asked "Possibly Subject #1", links it, and the
control room's card shows EXCLUDED. Wrong and hostile commands get a clear answer and
change nothing: a 5,000-character name, no basis, a notice too long without a board
decision, one overlapping the first, a stage that is none, a member's /notice and
another scheme's coordinator asking for the letter.
"""

from __future__ import annotations

import io

from pypdf import PdfReader

from broadcast.texts import refusals
from broadcast.texts.subjects import day
from config.errors import Refusal
from config.vocabulary import AuditOutcome, Role, SubjectKind
from sandbox import MessageView, Person
from storage.models import utcnow
from tests.gallery_town import enrol
from tests.test_alerts import NORWICH, NORWICH_CONTROL_ROOM, copies, phone_photo
from tests.test_subject_know import a_bot_message, answers, the_card, the_watch_runs
from tests.test_subject_suggestions import a_suggestion, resized, until_it_says
from tests.town import Town

BOARD = "The board of Norwich ShopWatch"


async def says(town: Town, person: Person, text: str) -> str:
    """`person` sends `text` to the bot; its answer."""
    sent = await person.send(town.bot, text)
    said = await town.bot_message_after(person, sent.message_id, what=f"the answer to {text!r}")
    return said.body


async def a_letter(town: Town, person: Person, after: int) -> MessageView:
    def probe() -> MessageView | None:
        for message in town.sandbox.chat_messages(town.bot, person):
            if message.message_id > after and message.document is not None:
                return message
        return None

    return await town.sandbox.wait_for(probe, message=f"a letter to {person.name}")


def read_pdf(message: MessageView) -> str:
    assert message.document is not None
    pages = PdfReader(io.BytesIO(message.document.data)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


def last_id(town: Town, person: Person) -> int:
    return town.sandbox.chat_messages(town.bot, person)[-1].message_id


async def test_named_excluded_served_and_seen_again_all_in_the_chats(
    polling_town: Town,
) -> None:
    town = polling_town
    store = town.runtime.store
    carol = town.coordinator
    carol.open_chat(town.bot)
    alice = await enrol(town, 5_000_000_501, "Alice", shop="Boots", street="Haymarket")
    bob = await enrol(town, 5_000_000_502, "Bob", shop="Jarrold", street="London Street")
    dave = await enrol(town, 5_000_000_503, "Dave", role=Role.OPERATOR)
    town.control_room.add_member(dave)
    town.group.add_member(bob)
    bob.open_chat(town.bot)
    picture = phone_photo()

    await alice.send_photo(town.bot, picture, caption="Took six packs of razor blades")
    await alice.next_reply(town.bot)
    made = await dave.press((await copies(town, NORWICH))[NORWICH_CONTROL_ROOM], "New subject")
    subject_id = int((made or "").removeprefix("Subject #").split(" ", 1)[0])
    await the_watch_runs(town)
    await bob.press(await the_card(town), "I know who this is")
    question = await a_bot_message(town, bob, f"Who is Subject #{subject_id}?")
    await answers(town, bob, question, "Dean Smith, Deano to his mates; drinks in the Bell")
    await a_bot_message(town, carol, f"About Subject #{subject_id}")

    assert await says(town, carol, f"/identify {subject_id} {'D' * 5000} | PCSO Hale") == (
        "A name is kept to 120 characters."
    )
    assert await says(town, carol, f"/identify {subject_id} Dean Smith") == (
        "Give the basis of the identification after | (who named them, how)."
    )
    assert (await store.subjects.get(subject_id)).kind is SubjectKind.ID_SOUGHT
    assert await says(
        town,
        carol,
        f"/identify {subject_id} Dean Smith aka Deano | Named by a member shop; "
        "confirmed by PCSO Hale",
    ) == (
        f"Subject #{subject_id} is Known now: Dean Smith (also known as Deano). The basis is "
        "recorded with your name. Issue a notice with /notice."
    )

    too_long = await says(
        town, carol, f"/notice {subject_id} exclusion | by {BOARD} | until 2099-01-01"
    )
    assert too_long.startswith("An end on 2099-01-01 is longer than the scheme allows")
    assert await says(town, carol, f"/notice {subject_id} banishment | by {BOARD}") == (
        "Banishment is not a stage: warning or exclusion."
    )
    assert await says(town, alice, f"/notice {subject_id} exclusion | by me") == (
        refusals.refusal(Refusal.WRONG_ROLE)
    )
    assert await store.subjects.notices(subject_id) == []
    before = last_id(town, carol)
    issued = await says(
        town,
        carol,
        f"/notice {subject_id} exclusion | by {BOARD} | ref BD-2026-31 | conditions Not to "
        "enter Chapelfield Mall by its Malthouse Road entrance",
    )

    [notice] = await store.subjects.notices(subject_id)
    reference = f"NOR-N{notice.id:04d}"
    assert issued == (
        f"Exclusion notice {reference} on Dean Smith: from {day(notice.starts_on)} until the "
        f"end of {day(notice.ends_on)}, review on {day(notice.review_on)}. Its letter follows "
        "as a PDF: print it, serve it, then record how with /served."
    )
    letter = await a_letter(town, carol, before)
    assert letter.document is not None
    assert letter.document.file_name == f"norwich-notice-{reference}.pdf"
    assert letter.protect_content
    text = read_pdf(letter)
    for expected in (
        "Exclusion notice",
        reference,
        "Dean Smith (also known as Deano)",
        f"{BOARD} (board decision BD-2026-31)",
        "Not to enter Chapelfield Mall by its Malthouse Road entrance",
        "How to appeal",
        "Served on ______",
    ):
        assert expected in text, expected
    assert "PCSO Hale" not in text, "how they were identified is not the letter's"
    overlapping = await says(town, carol, f"/notice {subject_id} warning | by {BOARD}")
    assert overlapping == f"It would overlap notice {notice.id}, which is in force."

    today = utcnow().date()
    served = await says(
        town, carol, f"/served {notice.id} {today.isoformat()} by hand at Norwich police station"
    )
    assert served == (
        f"{reference}: served on {day(today)}, by hand at Norwich police station. "
        "/noticeletter gives the letter as served."
    )
    before = last_id(town, carol)
    await carol.send(town.bot, f"/noticeletter {notice.id}")
    again = read_pdf(await a_letter(town, carol, before))
    assert f"Served on {day(today)}: by hand at Norwich police station." in again
    wymondham = town.coordinator_of("wymondham")
    wymondham.open_chat(town.bot)
    assert await says(town, wymondham, f"/noticeletter {notice.id}") == (
        f"No notice {notice.id} in this scheme."
    )

    await alice.send_photo(town.bot, resized(picture), caption="Him again, by the tills")
    await alice.next_reply(town.bot)
    card = (await copies(town, NORWICH, 2))[NORWICH_CONTROL_ROOM]
    await the_watch_runs(town)
    asked = await a_suggestion(town, carol)
    assert asked.body.startswith(f"Possibly Subject #{subject_id}: report #")
    await carol.press(asked, "Link")

    shown = await until_it_says(town, card, "⛔ EXCLUDED until ")
    assert f"⛔ EXCLUDED until {day(notice.ends_on)} (Subject #{subject_id})" in shown.body
    entries = await store.audit.of_actions(None, ["subject.identify", "notice."])
    assert [(e.action, e.outcome, e.detail.get("reason")) for e in entries] == [
        ("subject.identify", AuditOutcome.REFUSED, "name_too_long"),
        ("subject.identify", AuditOutcome.REFUSED, "basis_missing"),
        ("subject.identify", AuditOutcome.ALLOWED, None),
        ("notice.issue", AuditOutcome.REFUSED, "notice_too_long"),
        ("notice.issue", AuditOutcome.REFUSED, Refusal.WRONG_ROLE),
        ("notice.issue", AuditOutcome.ALLOWED, None),
        ("notice.letter", AuditOutcome.ALLOWED, None),
        ("notice.issue", AuditOutcome.REFUSED, "notice_overlaps"),
        ("notice.serve", AuditOutcome.ALLOWED, None),
        ("notice.letter", AuditOutcome.ALLOWED, None),
        ("notice.letter", AuditOutcome.REFUSED, "NotFoundError"),
    ]
