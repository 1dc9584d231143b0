"""Suggestions reach the coordinators, turn by turn through the Bot API sandbox.

A shop's photo alert becomes Subject #1, later excluded; the same picture comes back in a
new alert, resized; the subjects' watch (the plugin's scheduled job, run here when the
story needs it rather than waited for) puts "Possibly Subject #1" to Carol with Link and
Not them. Link links the report and the control room's card shows EXCLUDED; a second
press changes nothing and says so. A description sharing a subject's distinctive words is
suggested too and Not them keeps them apart; forged and replayed buttons, a member and
another scheme's coordinator are refused, and nothing changes.
"""

from __future__ import annotations

import io

from PIL import Image

from bot.plugins.subjects import WATCH_JOB
from bot.runtime import BotRuntime
from broadcast.subjects.notices import NoticeTerms
from broadcast.subjects.service import Actor
from broadcast.subjects.watch import SubjectWatch
from broadcast.texts import refusals
from config.errors import Refusal
from config.vocabulary import (
    AuditOutcome,
    Category,
    EventKind,
    NoticeStage,
    SuggestionState,
    Urgency,
)
from sandbox import MessageView, Person
from storage.models import Member, Photo, Report, ReportEvent
from storage.store import Store
from tests.test_alerts import (
    NORWICH,
    NORWICH_CONTROL_ROOM,
    alice,
    copies,
    dave_in_the_control_room,
    phone_photo,
)
from tests.test_intake import another_photo
from tests.town import Town

SUGGESTED = "Possibly Subject #"


def resized(photo: bytes) -> bytes:
    """The same picture as it comes back: shared, scaled down, saved again."""
    with Image.open(io.BytesIO(photo)) as image:
        smaller = image.convert("RGB").resize((560, 420))
    out = io.BytesIO()
    smaller.save(out, format="JPEG", quality=70)
    return out.getvalue()


async def the_watch_runs(town: Town) -> None:
    """The subjects' scheduled job runs once now, as it does every twenty seconds."""
    queue = town.runtime.application.job_queue
    assert queue is not None
    [job] = queue.get_jobs_by_name(WATCH_JOB)
    await job.run(town.runtime.application)


def suggestions_to(town: Town, person: Person) -> list[MessageView]:
    return [
        m
        for m in town.sandbox.chat_messages(town.bot, person)
        if m.from_bot and m.body.startswith(SUGGESTED)
    ]


async def a_suggestion(town: Town, person: Person) -> MessageView:
    def probe() -> MessageView | None:
        found = suggestions_to(town, person)
        return found[0] if found else None

    return await town.sandbox.wait_for(probe, message=f"a suggestion to {person.name}")


async def until_it_says(town: Town, message: MessageView, words: str) -> MessageView:
    """The message as it is once an edit through the outbox has put `words` in it."""

    def probe() -> MessageView | None:
        now = town.sandbox.refresh(message)
        return now if words in now.body else None

    return await town.sandbox.wait_for(probe, message=f"{words!r} in the message")


async def member(town: Town, person: Person, scheme: str = "norwich") -> Member:
    row = await town.runtime.store.schemes.get_by_slug(scheme)
    assert row.id is not None
    found = await town.runtime.store.members.get(row.id, person.id)
    assert found is not None
    return found


async def made_subject(town: Town, operator: Person, count: int) -> int:
    """Dave presses New subject on the control room's newest card; the subject's number."""
    card = (await copies(town, NORWICH, count))[NORWICH_CONTROL_ROOM]
    answer = await operator.press(card, "New subject")
    assert answer is not None
    assert answer.startswith("Subject #"), answer
    return int(answer.removeprefix("Subject #").split(" ", 1)[0])


async def audited(town: Town, *actions: str) -> list[tuple[str, AuditOutcome, object]]:
    entries = await town.runtime.store.audit.of_actions(None, list(actions))
    return [(e.action, e.outcome, e.detail.get("reason")) for e in entries]


async def test_the_same_photo_again_is_put_to_the_coordinator_and_link_shows_excluded(
    polling_town: Town,
) -> None:
    town = polling_town
    store = town.runtime.store
    shopkeeper = await alice(town)
    operator = await dave_in_the_control_room(town)
    carol = town.coordinator
    carol.open_chat(town.bot)
    picture = phone_photo()

    await shopkeeper.send_photo(town.bot, picture, caption="Took six packs of razor blades")
    await shopkeeper.next_reply(town.bot)
    subject_id = await made_subject(town, operator, 1)
    desk = town.runtime.services.subjects
    coordinator = Actor(await member(town, carol))
    await desk.identify(coordinator, subject_id, name="Dean Smith", basis="Named by PCSO Hale")
    notice = await desk.issue_notice(
        coordinator, subject_id, NoticeTerms(stage=NoticeStage.EXCLUSION, decided_by="Board")
    )
    await the_watch_runs(town)
    assert suggestions_to(town, carol) == [], "the report a subject was made from is theirs"

    await shopkeeper.send_photo(town.bot, resized(picture), caption="Him again, by the tills")
    await shopkeeper.next_reply(town.bot)
    card = (await copies(town, NORWICH, 2))[NORWICH_CONTROL_ROOM]
    report_id = int(card.body.split("Report #", 1)[1].split()[0].strip(".,:"))
    assert "EXCLUDED" not in card.body
    await the_watch_runs(town)

    asked = await a_suggestion(town, carol)
    lines = asked.body.splitlines()
    assert lines[0] == f"Possibly Subject #{subject_id}: report #{report_id} may show them."
    assert lines[1].startswith("Why: the same photo (distance ")
    assert f"Subject #{subject_id} (Dean Smith):" in asked.body
    assert asked.button_texts == ["Link", "Not them"]
    assert asked.protect_content

    await the_watch_runs(town)
    again = SubjectWatch(store, town.runtime.services.photos, town.runtime.services.signer)
    assert (await again.run(notice.issued_at)).put == 0, "the log says it was put already"
    assert len(suggestions_to(town, carol)) == 1, "each pair is put once"

    answer = await carol.press(asked, "Link")

    assert answer == f"Report #{report_id} is linked to Subject #{subject_id}, with its photos."
    assert [s.id for s in await store.subjects.of_report(report_id)] == [subject_id]
    shown = await until_it_says(town, card, "⛔ EXCLUDED until ")
    assert f"(Subject #{subject_id})" in shown.body
    decided = await until_it_says(town, asked, "Linked by Carol.")
    assert decided.body.endswith("\n\nLinked by Carol.")
    assert decided.button_texts == []
    data = asked.buttons[0][0].callback_data
    assert isinstance(data, str)

    replayed = await town.press_forged(carol, data, on=decided)

    assert replayed == (
        f"Report #{report_id} was linked to Subject #{subject_id} already: nothing changed."
    )
    not_them = asked.buttons[0][1].callback_data
    assert isinstance(not_them, str)
    assert await town.press_forged(carol, not_them, on=decided) == replayed
    suggestion = await store.subjects.suggestion(int(data.split(":")[2]))
    assert suggestion.state is SuggestionState.LINKED
    assert await audited(town, "subject.link", "subject.dismiss") == [
        ("subject.link", AuditOutcome.ALLOWED, None)
    ], "a press that changes nothing is not logged"


async def test_shared_words_are_suggested_not_them_keeps_them_apart_and_forgeries_change_nothing(
    polling_town: Town,
) -> None:
    town = polling_town
    store = town.runtime.store
    shopkeeper = await alice(town)
    operator = await dave_in_the_control_room(town)
    carol = town.coordinator
    carol.open_chat(town.bot)
    wymondham = town.coordinator_of("wymondham")

    await shopkeeper.send_photo(
        town.bot, phone_photo(), caption="Tall lad, Burberry cap, scar on his left cheek"
    )
    await shopkeeper.next_reply(town.bot)
    subject_id = await made_subject(town, operator, 1)
    await shopkeeper.send_photo(
        town.bot,
        another_photo((30, 160, 60)),
        caption="Lad with a scar on his cheek and a Burberry cap took vodka",
    )
    await shopkeeper.next_reply(town.bot)
    await copies(town, NORWICH, 2)
    await the_watch_runs(town)

    asked = await a_suggestion(town, carol)
    assert asked.body.splitlines()[1] == "Why: shared words: burberry, cheek, scar."
    report_id = int(asked.body.split("report #", 1)[1].split()[0])
    link, not_them = (b.callback_data for b in asked.buttons[0])
    assert isinstance(link, str)
    assert isinstance(not_them, str)

    forged = await town.press_forged(carol, link.rsplit(":", 1)[0] + ":000000000000", on=asked)
    assert forged == refusals.refusal(Refusal.FORGED)
    sent = await shopkeeper.send(town.bot, "/start")
    await town.bot_message_after(shopkeeper, sent.message_id, what="Alice's /start")
    by_a_member = await town.press_forged(shopkeeper, link)
    assert by_a_member == refusals.refusal(Refusal.WRONG_ROLE)
    sent = await wymondham.send(town.bot, "/start")
    await town.bot_message_after(wymondham, sent.message_id, what="the /start in Wymondham")
    by_a_neighbour = await town.press_forged(wymondham, link)
    assert by_a_neighbour == "That suggestion belongs to another scheme."
    assert await store.subjects.of_report(report_id) == []

    answer = await carol.press(asked, "Not them")

    assert answer == (
        f"Noted: report #{report_id} is not Subject #{subject_id}. Nothing is linked, and "
        "this pair is not suggested again."
    )
    await until_it_says(town, asked, "Marked Not them by Carol.")
    late_link = await town.press_forged(carol, link, on=asked)
    assert late_link == (
        f"Report #{report_id} was marked Not them for Subject #{subject_id} already: "
        f"nothing changed. If it is them after all: /link {subject_id} {report_id}"
    )
    assert await store.subjects.of_report(report_id) == []
    await the_watch_runs(town)
    assert len(suggestions_to(town, carol)) == 1
    assert await audited(town, "subject.link", "subject.dismiss", "subject.suggestion") == [
        ("subject.suggestion", AuditOutcome.REFUSED, Refusal.FORGED),
        ("subject.suggestion", AuditOutcome.REFUSED, Refusal.WRONG_ROLE),
        ("subject.suggestion", AuditOutcome.REFUSED, Refusal.OTHER_SCHEME),
        ("subject.dismiss", AuditOutcome.ALLOWED, None),
    ]


async def test_a_report_is_matched_once_and_again_only_once_it_has_changed(
    synced_store: Store,
) -> None:
    store = synced_store
    scheme = await store.schemes.get_by_slug("norwich")
    assert scheme.id is not None
    report = await store.reports.create(
        Report(
            scheme_id=scheme.id,
            category=Category.THEFT,
            urgency=Urgency.NOW,
            description="Took razor blades",
        ),
        lambda saved: [],
        [],
    )
    assert report.id is not None
    assert [r.id for r in await store.subjects.unscanned(50)] == [report.id]

    await store.subjects.mark_scanned(report.id, report.updated_at, 0)

    assert await store.subjects.unscanned(50) == [], "a restart finds it matched"
    await store.reports.add_event(
        ReportEvent(report_id=report.id, kind=EventKind.UPDATE, text="Burberry cap"),
        changes={"subject_clothing": "Burberry cap"},
    )
    [changed] = await store.subjects.unscanned(50)
    assert changed.id == report.id
    await store.subjects.mark_scanned(report.id, changed.updated_at, 0)
    assert await store.subjects.unscanned(50) == []
    photo = Photo(sha256="0" * 64, phash="0" * 16, width=4, height=3, size=9, relative_path="p")
    await store.reports.add_event(
        ReportEvent(report_id=report.id, kind=EventKind.UPDATE), photos=[photo]
    )
    [pictured] = await store.subjects.unscanned(50)
    assert pictured.updated_at == changed.updated_at, "a photo alone leaves the report as it was"
    await store.subjects.mark_scanned(report.id, pictured.updated_at, photo.id or 0)
    assert await store.subjects.unscanned(50) == []
    await store.reports.delete(report.id)
    await store.subjects.mark_scanned(report.id, changed.updated_at, photo.id or 0)
    assert await store.subjects.unscanned(50) == [], "a report gone leaves no marker behind"


async def test_a_report_the_bot_had_not_matched_when_it_stopped_is_put_after_it_restarts(
    polling_town: Town,
) -> None:
    town = polling_town
    shopkeeper = await alice(town)
    operator = await dave_in_the_control_room(town)
    carol = town.coordinator
    carol.open_chat(town.bot)
    picture = phone_photo()
    await shopkeeper.send_photo(town.bot, picture, caption="Took six packs of razor blades")
    await shopkeeper.next_reply(town.bot)
    subject_id = await made_subject(town, operator, 1)
    await shopkeeper.send_photo(town.bot, resized(picture), caption="Him again, by the tills")
    await shopkeeper.next_reply(town.bot)
    await copies(town, NORWICH, 2)

    await town.runtime.stop()
    back = BotRuntime(town.runtime.settings, town.schemes)
    await back.start()
    try:
        queue = back.application.job_queue
        assert queue is not None
        [job] = queue.get_jobs_by_name(WATCH_JOB)
        await job.run(back.application)
        asked = await a_suggestion(town, carol)
        await job.run(back.application)

        assert len(suggestions_to(town, carol)) == 1
        assert asked.body.startswith(f"Possibly Subject #{subject_id}: report #")
        assert (await carol.press(asked, "Link") or "").startswith("Report #")
    finally:
        await back.stop()
