"""The people side reaches people: a coordinator's reminder and a member's digest arrive in their
private chats through the outbox, protected, the digest's new face with its photo.

Through the Bot API sandbox: the bot runs unmodified and its outbox worker sends.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from broadcast.subjects.digest import run_weekly_digests
from broadcast.subjects.notices import NoticeTerms
from broadcast.subjects.reminders import run_nightly
from broadcast.subjects.service import Actor, SubjectService
from config.vocabulary import NoticeStage
from storage.models import utcnow
from tests.test_alerts import THEFT, phone_photo
from tests.town import Town

LONDON = ZoneInfo("Europe/London")


async def test_the_coordinator_is_reminded_and_a_member_gets_the_digest_in_their_chats(
    polling_town: Town,
) -> None:
    town = polling_town
    services = town.runtime.services
    store = services.store
    alice = town.person(5_000_000_401, "Alice")
    await town.join(alice, shop="Jarrold", street="London Street")
    await alice.send_photo(town.bot, phone_photo(), caption=THEFT)
    await alice.next_reply(town.bot)
    scheme = await store.schemes.get_by_slug("norwich")
    assert scheme.id is not None
    [report] = await store.reports.recent(scheme.id)
    carol_row = await store.members.get(scheme.id, town.coordinator.id)
    assert carol_row is not None
    carol = Actor(carol_row)
    desk = SubjectService(town.schemes, store, services.photos)
    sought = await desk.create_from_report(carol, report.id or 0, description="Grey hoodie")
    known = await desk.create_from_report(carol, report.id or 0, description="Black joggers")
    await desk.identify(carol, known.id or 0, name="Dean Smith", basis="Named by PCSO Hale")
    today = datetime.now(LONDON).date()
    notice = await desk.issue_notice(
        carol,
        known.id or 0,
        NoticeTerms(
            stage=NoticeStage.EXCLUSION, decided_by="Board", review_on=today + timedelta(days=7)
        ),
    )
    before = len(town.sandbox.chat_messages(town.bot, town.coordinator))

    await run_nightly(store, services.photos, town.schemes, utcnow(), wake=services.outbox.wake)

    reminder = await town.bot_message_after(
        town.coordinator,
        town.sandbox.chat_messages(town.bot, town.coordinator)[before - 1].message_id,
        lambda m: "due for review" in m.body,
        what="the review reminder",
    )
    assert reminder.body.startswith(
        f"Notice NOR-N{notice.id:04d} on Dean Smith (Subject #{known.id}) is due for review"
    )
    assert reminder.protect_content

    last = town.sandbox.chat_messages(town.bot, alice)[-1].message_id
    next_monday = today + timedelta(days=7 - today.weekday())
    monday_eight = datetime.combine(next_monday, time(8), LONDON)
    [run] = await run_weekly_digests(
        store, town.schemes, monday_eight, only="norwich", wake=services.outbox.wake
    )

    assert run.outcome == "sent"
    card = await town.bot_message_after(
        alice, last, lambda m: m.body.startswith("ID sought"), what="the digest's card"
    )
    summary = next(
        m
        for m in town.sandbox.chat_messages(town.bot, alice)
        if m.message_id > last and "last week" in m.body
    )
    assert f"- Subject #{sought.id}: Grey hoodie" in summary.body
    assert f"- Dean Smith (NOR-N{notice.id:04d}), until" in summary.body
    assert "1 member shop reported." in summary.body
    assert "Jarrold" not in summary.body
    assert card.body.startswith(f"ID sought: Subject #{sought.id}\nGrey hoodie")
    assert card.photo is not None
    assert summary.protect_content
    assert card.protect_content
