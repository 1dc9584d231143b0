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

The second story is the subject's whole life, the people joining as people do: from the
first photo to the review reminder, retention taking the reports, the lapse that takes
him out of the galleries and his photos off the disk. Time passes as the bot lives it:
the sandbox's clock moves on and the nightly jobs run for that night, as their job queue
runs them.
"""

from __future__ import annotations

import io
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from PIL import Image
from pypdf import PdfReader

from broadcast.subjects.reminders import run_nightly
from broadcast.texts import refusals
from broadcast.texts.subjects import day
from config.errors import Refusal
from config.vocabulary import AuditOutcome, Role, SubjectKind
from sandbox import Group, MessageView, Person
from storage.models import utcnow
from storage.retention import purge_expired, purge_old_exports
from tests.gallery_town import enrol
from tests.test_alerts import NORWICH, NORWICH_CONTROL_ROOM, copies, phone_photo
from tests.test_subject_know import a_bot_message, answers, the_card, the_watch_runs
from tests.test_subject_suggestions import (
    a_suggestion,
    resized,
    suggestions_to,
    until_it_says,
)
from tests.test_subjects import in_words
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
    assert f"Served on {in_words(today)}: by hand at Norwich police station." in again
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
        ("notice.issue", AuditOutcome.REFUSED, "notice_stage_invalid"),
        ("notice.issue", AuditOutcome.REFUSED, Refusal.WRONG_ROLE),
        ("notice.issue", AuditOutcome.ALLOWED, None),
        ("notice.letter", AuditOutcome.ALLOWED, None),
        ("notice.issue", AuditOutcome.REFUSED, "notice_overlaps"),
        ("notice.serve", AuditOutcome.ALLOWED, None),
        ("notice.letter", AuditOutcome.ALLOWED, None),
        ("notice.letter", AuditOutcome.REFUSED, "NotFoundError"),
    ]


# --- a subject's whole life, from the first photo to the last file ---------------------------

LONDON = ZoneInfo("Europe/London")
LEFT = "The galleries are empty: no one is sought, known or excluded just now."


def resent(photo: bytes) -> bytes:
    """The picture as another shop's phone sends it on: decoded, saved again as a JPEG at the
    quality a messenger recompresses to, its metadata gone (other bytes, the same image)."""
    with Image.open(io.BytesIO(photo)) as image:
        again = image.convert("RGB")
    out = io.BytesIO()
    again.save(out, format="JPEG", quality=72)
    return out.getvalue()


async def a_member(
    town: Town, person: Person, role: Role, chat: Group, *, shop: str, street: str
) -> None:
    """`person` joins Norwich as people do (invited, approved) and enters `chat` by their
    link."""
    await town.join(person, role, shop=shop, street=street)
    links = await town.join_links(person)
    name = "the control room" if chat is town.control_room else "the group"
    await town.enters(person, chat, links[name])


def from_the_bot(town: Town, person: Person | Group, beginning: str) -> list[MessageView]:
    return [
        m
        for m in town.sandbox.chat_messages(town.bot, person)
        if m.from_bot and m.body.startswith(beginning)
    ]


async def the_gallery(town: Town, person: Person) -> MessageView:
    """`person` sends /gallery; the first card (or the answer that there is none)."""
    sent = await person.send(town.bot, "/gallery")
    return await town.bot_message_after(person, sent.message_id, what="the gallery")


async def night_of(town: Town, on: date) -> None:
    """The night of `on` in Norwich: the sandbox's clock moves there, and the two nightly
    jobs run for that moment as the job queue runs them at 03:30 and 03:45 (retention, then
    the galleries and the reminders), their messages going out through the outbox."""
    services = town.runtime.services
    retention_at = datetime.combine(on, time(3, 30), LONDON)
    galleries_at = datetime.combine(on, time(3, 45), LONDON)
    town.sandbox.advance_time(galleries_at.timestamp() - town.sandbox.state.now())
    scheme = await services.store.schemes.get_by_slug("norwich")
    data_dir = services.settings.data_dir
    await purge_expired(services.store, services.photos, scheme, retention_at, data_dir=data_dir)
    purge_old_exports(services.settings.exports_dir / "norwich", retention_at)
    await run_nightly(
        services.store,
        services.photos,
        town.schemes,
        galleries_at,
        only="norwich",
        wake=services.outbox.wake,
    )


async def test_a_subjects_life_from_the_first_photo_to_the_last_file(polling_town: Town) -> None:
    town = polling_town
    store = town.runtime.store
    photos = town.runtime.services.photos
    carol = town.coordinator
    carol.open_chat(town.bot)
    alice, bob, dave = (
        town.person(5_000_000_601, "Alice"),
        town.person(5_000_000_602, "Bob"),
        town.person(5_000_000_603, "Dave"),
    )
    await a_member(town, alice, Role.MEMBER, town.group, shop="Boots", street="Haymarket")
    await a_member(town, bob, Role.MEMBER, town.group, shop="Jarrold", street="London Street")
    await a_member(
        town, dave, Role.OPERATOR, town.control_room, shop="Norwich CCTV", street="City Hall"
    )
    picture = phone_photo()

    # Alice's photo alert; Dave in the control room makes an ID-sought subject of it.
    await alice.send_photo(town.bot, picture, caption="Took six packs of razor blades")
    await alice.next_reply(town.bot)
    first = (await copies(town, NORWICH))[NORWICH_CONTROL_ROOM]
    made = await dave.press(first, "New subject")
    assert made is not None
    subject_id = int(made.removeprefix("Subject #").split(" ", 1)[0])
    assert made.endswith("with its 1 photo. It is in the scheme's galleries now.")
    [held] = await store.subjects.photos(subject_id)
    assert photos.path(held.relative_path).exists()

    # The members' group is asked, once, on a protected card; Bob answers in private.
    await the_watch_runs(town)
    card = await the_card(town)
    await the_watch_runs(town)
    assert len(from_the_bot(town, town.group, "Do you know this person?")) == 1
    assert card.protect_content
    assert card.photo is not None
    assert card.button_texts == ["I know who this is"]
    assert (await bob.press(card, "I know who this is") or "").startswith("I have asked you")
    question = await a_bot_message(town, bob, f"Who is Subject #{subject_id}?")
    said = "Dean Smith, Deano to his mates; drinks in the Bell"
    thanks = await answers(town, bob, question, said)
    assert thanks.startswith(f"Thank you. What you said about Subject #{subject_id} went to")
    told = await a_bot_message(town, carol, f"About Subject #{subject_id}")
    assert told.body.splitlines()[:2] == [
        f"About Subject #{subject_id} (ID sought), Bob (Jarrold) says:",
        said,
    ]
    assert len(from_the_bot(town, carol, f"About Subject #{subject_id}")) == 1
    for where in (town.group, town.control_room, alice, dave):
        assert not any(said in text for text in town.chat(where)), where

    # Carol records who it is and on what basis, and issues an exclusion.
    identified = await says(
        town, carol, f"/identify {subject_id} Dean Smith aka Deano | Named by a member shop"
    )
    assert identified.startswith(f"Subject #{subject_id} is Known now: Dean Smith")
    before = last_id(town, carol)
    issued = await says(town, carol, f"/notice {subject_id} exclusion | by {BOARD} | ref BD-31")
    [notice] = await store.subjects.notices(subject_id)
    reference = f"NOR-N{notice.id:04d}"
    assert issued.startswith(f"Exclusion notice {reference} on Dean Smith: from ")

    # The letter comes as a protected PDF, and reads as a letter to serve.
    letter = await a_letter(town, carol, before)
    assert letter.protect_content
    text = read_pdf(letter)
    for expected in (
        "Norwich ShopWatch",
        f"Exclusion notice Reference {reference}",
        "To Dean Smith (also known as Deano)",
        f"Until the end of {in_words(notice.ends_on)}",
        f"Review {in_words(notice.review_on)}",
        f"{BOARD} (board decision BD-31)",
        "Boots, Haymarket",
        "Jarrold, London Street",
        f"{in_words(notice.starts_on)}: theft",
        "How to appeal",
        "PO Box 1234, Norwich NR1 1AA",
        "Served on ______",
        "How the scheme uses information about you",
    ):
        assert expected in text, expected
    for private in ("Bell", "Bob"):
        assert private not in text, "who named him is not the letter's"
    assert "Norwich CCTV" not in text, "the control room is no premises he is kept out of"
    assert len([m for m in town.sandbox.chat_messages(town.bot, carol) if m.document]) == 1

    # He is seen again: the same picture, re-sent from another phone, in a new alert.
    await alice.send_photo(town.bot, resent(picture), caption="Him again, by the tills")
    await alice.next_reply(town.bot)
    second = (await copies(town, NORWICH, 2))[NORWICH_CONTROL_ROOM]
    assert "EXCLUDED" not in second.body, "a suggestion, never a decision"
    seen_again = int(second.body.split("Report #", 1)[1].split()[0])
    await the_watch_runs(town)
    asked = await a_suggestion(town, carol)
    assert asked.body.startswith(f"Possibly Subject #{subject_id}: report #{seen_again} ")
    assert asked.button_texts == ["Link", "Not them"]
    await the_watch_runs(town)
    assert len(suggestions_to(town, carol)) == 1, "each report is put to her once"
    await carol.press(asked, "Link")
    shown = await until_it_says(town, second, "⛔ EXCLUDED until ")
    assert f"⛔ EXCLUDED until {day(notice.ends_on)} (Subject #{subject_id})" in shown.body
    held_files = [p.relative_path for p in await store.subjects.photos(subject_id)]
    assert len(held_files) == 2, "the linked report's photo is the subject's too"
    shop_view = await the_gallery(town, bob)
    assert shop_view.body.startswith(f"EXCLUDED · Subject #{subject_id} (1 of 1)")
    assert f"Excluded until {day(notice.ends_on)}" in shop_view.body

    # Months pass. The night the review comes within 14 days, Carol is reminded, once.
    review_night = notice.review_on - timedelta(days=14)
    await night_of(town, review_night - timedelta(days=1))
    await night_of(town, review_night)
    reminder = await a_bot_message(town, carol, f"Notice {reference} on Dean Smith")
    assert reminder.body == (
        f"Notice {reference} on Dean Smith (Subject #{subject_id}) is due for review on "
        f"{day(notice.review_on)}. 1 incident linked to them since it began (report "
        f"#{seen_again}): not free of incidents, so it runs to its end unless the board "
        "decides otherwise."
    )
    assert reminder.protect_content
    await night_of(town, review_night + timedelta(days=1))
    await night_of(town, notice.ends_on - timedelta(days=14))
    ending = await town.bot_message_after(
        carol, reminder.message_id, lambda m: "ends on" in m.body, what="the end's reminder"
    )
    assert ending.body.startswith(f"Notice {reference} on Dean Smith (Subject #{subject_id}) ")
    assert len(from_the_bot(town, carol, f"Notice {reference}")) == 2
    for person in (alice, bob, dave):
        assert from_the_bot(town, person, f"Notice {reference}") == []

    # A year after the alerts, retention takes both reports; the subject still holds
    # their photos, so the files stay while the exclusion runs and for a while after.
    await night_of(town, notice.starts_on + timedelta(days=367))
    assert await store.reports.recent(notice.scheme_id) == []
    assert all(photos.path(p).exists() for p in held_files)
    assert f"Subject #{subject_id} (1 of 1)" in (await the_gallery(town, bob)).body

    # The notice has ended; 90 days on (known_days), he leaves the galleries and, with
    # no report in retention holding them any more, his photos leave the disk.
    lapse = notice.ends_on + timedelta(days=1 + 90)
    await night_of(town, lapse - timedelta(days=1))
    assert f"Subject #{subject_id} (1 of 1)" in (await the_gallery(town, bob)).body
    await night_of(town, lapse)
    assert (await the_gallery(town, bob)).body == LEFT
    assert (await the_gallery(town, carol)).body == LEFT
    assert not any(photos.path(p).exists() for p in held_files)
    assert await store.subjects.photos(subject_id) == []
    data_dir = town.runtime.services.settings.data_dir
    assert [p for p in data_dir.rglob("*") if p.is_file()] == [], "nor his letter, long since"
    expiry = [
        e.detail
        for e in await store.audit.of_actions(None, ["subjects.expiry"])
        if e.detail["expired"]
    ]
    assert expiry == [
        {"subject_ids": [subject_id], "expired": 1, "photos": 2, "photo_files": 2, "deleted": 0}
    ]

    # His record is still held, out of every gallery: a request for it is answered in full.
    before = last_id(town, carol)
    await carol.send(town.bot, f"/sar {subject_id}")
    bundle = await town.bot_message_after(carol, before, lambda m: m.document is not None)
    assert bundle.body.startswith(
        f"Norwich ShopWatch, subject NOR-S{subject_id:04d}: 1 notice(s), 0 report(s), 0 photo(s)"
    )
    # A retention period later the record goes too, Bob's words and the notice with it.
    await night_of(town, lapse + timedelta(days=366))
    assert await says(town, carol, f"/sar {subject_id}") == (
        f"No Subject #{subject_id} in Norwich ShopWatch: check the number on its card or in "
        "/gallery."
    )
    assert await store.subjects.intel(subject_id) == []
    assert await store.subjects.notices(subject_id) == []
