"""Searching the log through the bot: an operator, a shopkeeper and police of another town.

Reports are written straight into the log (as an alert would leave them); people
then talk to the running bot through the sandbox and read what it answers.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from PIL import Image

from broadcast.texts import search as search_texts
from config.vocabulary import AuditOutcome, Category, EventKind, MemberStatus, Role, Urgency
from sandbox import MessageView, Person
from storage.models import Member, Photo, Report, ReportEvent, Scheme
from storage.store import Store
from tests.town import Town

OLIVE = 5_000_000_201  # control-room operator, Norwich
PRIYA = 5_000_000_202  # Jarrold, Norwich
SAM = 5_000_000_203  # Boots, Norwich
PC_WEST = 5_000_000_204  # police, Wymondham


async def enrol(
    town: Town,
    telegram_id: int,
    name: str,
    role: Role,
    *,
    scheme: str = "norwich",
    shop: str | None = None,
) -> tuple[Person, Member]:
    """An approved person of the scheme, as the membership desk would leave them."""
    store = town.runtime.store
    joined = await store.members.add(
        Member(
            scheme_id=(await store.schemes.get_by_slug(scheme)).id or 0,
            telegram_user_id=telegram_id,
            display_name=name,
            shop_name=shop,
            street="London Street" if shop else None,
            role=role,
            status=MemberStatus.ACTIVE,
        )
    )
    return town.person(telegram_id, name), joined


def a_photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (120, 120, 130)).save(out, format="PNG")
    return out.getvalue()


async def sighting(
    town: Town,
    description: str,
    *,
    days_ago: float,
    by: Member | None = None,
    scheme: str = "norwich",
    photo: bool = False,
) -> Report:
    store = town.runtime.store
    seen = datetime.now(UTC) - timedelta(days=days_ago)
    photos = []
    if photo:
        stored = town.runtime.services.photos.ingest(a_photo())
        photos.append(Photo(**vars(stored)))
    target: Scheme = await store.schemes.get_by_slug(scheme)
    return await store.reports.create(
        Report(
            scheme_id=target.id or 0,
            member_id=by.id if by else None,
            category=Category.THEFT,
            urgency=Urgency.NOW,
            description=description,
            location_text="Gentleman's Walk",
            occurred_at=seen,
            created_at=seen,
        ),
        photos=photos,
    )


async def a_week_of_grey_hoodies(town: Town, by: Member | None = None) -> list[Report]:
    """Seven grey hoodie sightings this week, newest first, and two that do not match."""
    reports = [
        await sighting(town, f"Grey hoodie, took razor blades (day {day})", days_ago=day + 0.1)
        for day in range(7)
    ]
    await sighting(town, "Grey hoodie again, a fortnight ago", days_ago=14)
    await sighting(town, "Beige puffer jacket, perfume testers", days_ago=1)
    return reports


def numbers(message: MessageView) -> list[int]:
    """The report numbers a results message offers to open, in order."""
    return [int(label.removeprefix("Open ")) for label in message.button_texts if "Open" in label]


async def ask(person: Person, town: Town, text: str) -> MessageView:
    await person.send(town.bot, text)
    return await person.next_reply(town.bot)


async def test_an_operator_finds_the_grey_hoodie_pages_on_and_opens_the_timeline(
    polling_town: Town,
) -> None:
    town = polling_town
    store: Store = town.runtime.store
    olive, operator = await enrol(town, OLIVE, "Olive", Role.OPERATOR)
    week = await a_week_of_grey_hoodies(town)
    newest = await sighting(town, "Grey hoodie and black cap, on camera", days_ago=0, photo=True)
    await store.reports.add_event(
        ReportEvent(
            report_id=newest.id or 0,
            member_id=operator.id,
            kind=EventKind.STATUS,
            status="on_camera",
        )
    )
    await store.reports.add_event(
        ReportEvent(report_id=newest.id or 0, kind=EventKind.RADIO_CALL, text="Lost at M&S")
    )

    results = await ask(olive, town, "/search grey hoodie since:7d")

    assert "Results 1–5, newest first" in results.body
    assert numbers(results) == [newest.id, *[r.id for r in week[:4]]]
    assert "Next ›" in results.button_texts
    assert "‹ Previous" not in results.button_texts
    assert results.protect_content

    await olive.press(results, "Next ›")
    second = town.sandbox.refresh(results)

    assert "Results 6–8" in second.body
    assert numbers(second) == [r.id for r in week[4:]]
    assert "Next ›" not in second.button_texts
    assert "‹ Previous" in second.button_texts

    await olive.press(second, "‹ Previous")
    await olive.press(town.sandbox.refresh(results), f"Open {newest.id}")
    card = await olive.next_reply(town.bot)
    picture = await olive.next_reply(town.bot)

    assert card.body.startswith(f"Report {newest.id} · Theft · open")
    assert "Where: Gentleman's Walk" in card.body
    assert "Timeline:" in card.body
    assert "status on camera · control room" in card.body
    assert "radio · radio or another scheme: Lost at M&S" in card.body
    assert card.protect_content
    assert picture.photo is not None
    assert picture.protect_content


async def test_a_grey_hoody_finds_the_grey_hoodie_however_it_was_spelt(
    polling_town: Town,
) -> None:
    town = polling_town
    olive, _ = await enrol(town, OLIVE, "Olive", Role.OPERATOR)
    hoodie = await sighting(town, "Grey hoodie, took razor blades", days_ago=2)
    gray = await sighting(town, "gray hoody and black trackies, Haymarket", days_ago=1)
    await sighting(town, "Grey coat, hood up", days_ago=0.5)

    results = await ask(olive, town, "/search grey hoody")

    assert numbers(results) == [gray.id, hoodie.id]


async def test_a_shopkeeper_finds_and_opens_only_their_own_reports(polling_town: Town) -> None:
    town = polling_town
    priya, jarrold = await enrol(town, PRIYA, "Priya", Role.MEMBER, shop="Jarrold")
    _, boots = await enrol(town, SAM, "Sam", Role.MEMBER, shop="Boots")
    mine = await sighting(town, "Grey hoodie took gin", days_ago=1, by=jarrold)
    theirs = await sighting(town, "Grey hoodie took perfume", days_ago=0.5, by=boots)

    results = await ask(priya, town, "/search grey hoodie")
    refused = await ask(priya, town, f"/show {theirs.id}")
    shown = await ask(priya, town, f"/show {mine.id}")
    none_of_hers = await ask(priya, town, "/search perfume")

    assert numbers(results) == [mine.id]
    assert "Jarrold, London Street" in results.body
    assert refused.body == f"There is no report {theirs.id} that you can see."
    assert shown.body.startswith(f"Report {mine.id} · Theft")
    assert "Timeline: nothing since it was reported." in shown.body
    assert none_of_hers.body.startswith("Nothing in your own reports matches “perfume”."), (
        "Sam's perfume report is in the log; Priya searches her own"
    )


async def test_police_of_another_scheme_see_nothing_of_this_one(polling_town: Town) -> None:
    town = polling_town
    officer, _ = await enrol(town, PC_WEST, "PC West", Role.POLICE, scheme="wymondham")
    norwich = await a_week_of_grey_hoodies(town)
    theirs = await sighting(
        town, "Grey hoodie at the Market Place", days_ago=1, scheme="wymondham"
    )

    results = await ask(officer, town, "/search grey hoodie")
    refused = await ask(officer, town, f"/show {norwich[0].id}")

    assert numbers(results) == [theirs.id]
    assert refused.body == f"There is no report {norwich[0].id} that you can see."


async def test_a_search_that_cannot_be_run_is_explained(polling_town: Town) -> None:
    town = polling_town
    olive, _ = await enrol(town, OLIVE, "Olive", Role.OPERATOR)
    await sighting(town, "Grey hoodie took gin", days_ago=1)

    answers = {
        text: (await ask(olive, town, text)).body
        for text in (
            "/search",
            "/search since:",
            "/search grey from:2026-13-45",
            "/search from:2026-11-15 to:2026-11-01",
            "/search from:2020-01-01 to:2026-01-01",
            "/search cat:shoplifters",
            "/search " + "x" * 600,
            "/search '; DROP TABLE report;--",
            '/search "grey" OR "*" NEAR',
            "/show twelve",
        )
    }

    assert answers["/search"].startswith("Search the log: send /search followed by words")
    assert answers["/search since:"].startswith("since: needs something after the colon")
    assert answers["/search grey from:2026-13-45"].startswith(
        "I could not read the date in from:2026-13-45."
    )
    assert answers["/search from:2026-11-15 to:2026-11-01"].startswith(
        "That date range ends before it starts."
    )
    assert answers["/search from:2020-01-01 to:2026-01-01"].startswith(
        "Please search at most 2 years at a time."
    )
    assert answers["/search cat:shoplifters"].startswith("“shoplifters” is not a category.")
    assert answers["/search " + "x" * 600].startswith("That search is too long")
    assert answers["/search '; DROP TABLE report;--"] == (
        "Nothing in the log matches “'; DROP TABLE report;--”."
    )
    assert answers['/search "grey" OR "*" NEAR'].startswith("Nothing in the log matches")
    assert answers["/show twelve"] == "Send /show followed by a report number, e.g. /show 1234."


async def test_every_search_and_every_report_opened_is_in_the_audit_trail(
    polling_town: Town,
) -> None:
    town = polling_town
    store = town.runtime.store
    olive, operator = await enrol(town, OLIVE, "Olive", Role.OPERATOR)
    week = await a_week_of_grey_hoodies(town)

    results = await ask(olive, town, "/search grey hoodie since:7d")
    await olive.press(results, "Next ›")
    await olive.press(town.sandbox.refresh(results), f"Open {week[5].id}")
    await olive.next_reply(town.bot)
    await ask(olive, town, f"/show {week[0].id}")
    await ask(olive, town, "/show 999999")
    await ask(olive, town, "/search from:2026-13-45")

    trail = list(reversed(await store.audit.recent(actor=OLIVE)))
    assert [(e.action, e.outcome) for e in trail] == [
        ("search", AuditOutcome.ALLOWED),
        ("search", AuditOutcome.ALLOWED),
        ("view", AuditOutcome.ALLOWED),
        ("view", AuditOutcome.ALLOWED),
        ("view", AuditOutcome.REFUSED),
        ("search", AuditOutcome.REFUSED),
    ]
    first, second, opened, shown, missing, bad = trail
    assert first.detail["query"] == "grey hoodie since:7d"
    assert first.detail["shown"] == [r.id for r in week[:5]]
    assert second.detail["search"] == first.id
    assert second.detail["shown"] == [r.id for r in week[5:]]
    assert opened.detail == {"report": week[5].id, "via": "search"}
    assert shown.detail == {"report": week[0].id, "via": "show"}
    assert missing.detail["report"] == 999999
    assert bad.detail == {"reason": "bad_date", "query": "from:2026-13-45"}
    assert {e.actor_member_id for e in trail} == {operator.id}
    assert {e.scheme_id for e in trail} == {operator.scheme_id}


async def test_searching_in_a_group_points_to_a_private_chat(polling_town: Town) -> None:
    town = polling_town
    await town.coordinator.send(town.group, "/search grey hoodie")

    reply = await town.coordinator.next_reply(town.group)

    assert reply.body.startswith("The log is private: please search it in a private chat")


async def test_a_stranger_cannot_search(polling_town: Town) -> None:
    town = polling_town
    stranger = town.person(900777, "Mallory")

    reply = await ask(stranger, town, "/search grey hoodie")

    assert "only approved members" in reply.body


async def test_a_page_of_someone_elses_search_or_a_forged_button_shows_nothing(
    polling_town: Town,
) -> None:
    town = polling_town
    store = town.runtime.store
    olive, _ = await enrol(town, OLIVE, "Olive", Role.OPERATOR)
    other, _ = await enrol(town, SAM, "Sam", Role.OPERATOR)
    await a_week_of_grey_hoodies(town)
    await ask(olive, town, "/search grey hoodie since:7d")
    [olives_search] = await store.audit.recent(actor=OLIVE)
    await ask(other, town, "/search puffer")
    replayed = town.runtime.services.signer.sign("search", "p", olives_search.id or 0, 1)

    answers = [
        await town.press_forged(other, replayed),
        await town.press_forged(other, "search:o:1:000000000000"),
        await town.press_forged(other, "search:p:1:1"),
    ]

    assert answers == [search_texts.SEARCH_EXPIRED] * 3
    refusals = [
        e.detail["reason"]
        for e in await store.audit.recent(actor=SAM)
        if e.outcome is AuditOutcome.REFUSED
    ]
    assert sorted(refusals) == ["forged", "forged", "not_found"]
    assert len(town.bot_said(other)) == 1, "nothing of Olive's search reached Sam"
