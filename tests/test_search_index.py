"""The search finds the same reports on SQLite and PostgreSQL, and keeps up with the log.

`QUERIES` is the shared table: one small Norwich log (and a Wymondham report that
Norwich must never see), each query with the reports it must find, newest first.
`TestSearchIndex` runs on both backends (SHOPWATCH_TEST_POSTGRES_URL for PostgreSQL).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Integer, String, column, insert, table, update
from sqlmodel import col
from sqlmodel.sql.sqltypes import UTCDateTime

from config.schemes import SchemesFile
from config.vocabulary import Category, EventKind, MemberStatus, ReportStatus, Role, Urgency
from storage.engine import create_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import Member, Photo, Report, ReportEvent, Scheme
from storage.query import parse_query
from storage.schemes import scheme_row
from storage.search import FEW_MATCHES, ReportSearch, SearchScope
from storage.store import Store

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
PRIYA = 5_000_000_101  # Jarrold
BEN = 5_000_000_102  # Boots


@dataclass(frozen=True)
class Sighting:
    description: str
    days_ago: float
    category: Category = Category.THEFT
    shopkeeper: int | None = None
    subject: str | None = None
    location: str | None = None
    status: ReportStatus = ReportStatus.OPEN
    police_reference: str | None = None
    events: tuple[str, ...] = ()
    photos: int = 0
    scheme: str = "norwich"


LOG: dict[str, Sighting] = {
    "hoodie": Sighting(
        "Male 30s, grey hoodie, black joggers, took 6 packs of razor blades, heading to Haymarket",
        days_ago=1,
        shopkeeper=PRIYA,
        subject="grey hoodie, black cap",
        location="Gentleman's Walk",
        photos=1,
    ),
    "bottle": Sighting(
        "Customer refused service, threatened staff with a bottle, male 40s, bald, grey "
        "tracksuit, heading to Gentleman's Walk",
        days_ago=2,
        category=Category.VIOLENCE,
        police_reference="NC-12345-24",
        events=("Police attended, PC Zoë Łukasz took a statement",),
    ),
    "puffer": Sighting(
        "Two females, one in a beige puffer jacket, filled a bag with perfume testers",
        days_ago=3,
        shopkeeper=BEN,
        location="London Street",
        status=ReportStatus.CLOSED,
    ),
    "note": Sighting(
        "Woman trying to pay with a £50 note that feels wrong, grey coat, to Red Lion Street",
        days_ago=5,
        category=Category.FRAUD,
        status=ReportStatus.WITHDRAWN,
    ),
    "gin": Sighting(
        "Took two bottles of gin and the ginger beer, left on a black e-bike",
        days_ago=6,
        shopkeeper=PRIYA,
    ),
    "vodka": Sighting(
        "Male, red cap, blue North Face jacket, concealed two bottles of vodka, up Timberhill",
        days_ago=10,
        shopkeeper=BEN,
        events=("Radio: lost at M&S, camera 4", "Seen again on Castle Street"),
        photos=2,
    ),
    "chiller": Sighting(
        "Yesterday 16:40 known male (tall, thin, tattoo on neck) took meat from the chiller, "
        "value about £60",
        days_ago=20,
    ),
    "spitting": Sighting(
        "Verbal abuse and spitting at our security guard, male 20s, police ref NC-28112",
        days_ago=40,
        category=Category.VIOLENCE,
    ),
    "wymondham": Sighting(
        "Grey hoodie and black cap, took razor blades at the Market Place",
        days_ago=1,
        scheme="wymondham",
    ),
}

# A migration that rebuilds report, event or photo on SQLite drops these with the table.
INDEX_TRIGGERS = {
    "sqlite": {
        "search_report_insert",
        "search_report_update",
        "search_event_insert",
        "search_event_update",
        "search_event_delete",
        "search_photo_insert",
        "search_photo_update",
        "search_photo_delete",
        "search_fts_insert",
        "search_fts_update",
        "search_fts_delete",
    },
    "postgresql": {
        "search_document_tokens",
        "search_report_changed",
        "search_event_changed",
        "search_photo_changed",
    },
}

# Query -> what Norwich's operators find, newest first. Words are prefixes, all required.
QUERIES: list[tuple[str, list[str]]] = [
    ("grey hoodie", ["hoodie"]),
    ("grey", ["hoodie", "bottle", "note"]),
    ("hood", ["hoodie"]),
    ("HOODIE", ["hoodie"]),
    ("gin", ["gin"]),
    ("bottle", ["bottle", "gin", "vodka"]),
    ("Gentleman's Walk", ["hoodie", "bottle"]),
    ("lost at m&s", ["vodka"]),
    ("castle", ["vodka"]),
    ("zoë", ["bottle"]),
    ("ZOË łukasz", ["bottle"]),
    ("£60", ["chiller"]),
    ("16:40", ["chiller"]),
    ("NC-28112", ["spitting"]),
    ("nc 12345", ["bottle"]),
    ("ref:nc-12345-24", ["bottle"]),
    ("ref:NC-28112", []),  # only in the description, not the police reference field
    ("cat:violence", ["bottle", "spitting"]),
    ("cat:theft,fraud status:open", ["hoodie", "gin", "vodka", "chiller"]),
    ("status:closed,withdrawn", ["puffer", "note"]),
    ("has:photo", ["hoodie", "vodka"]),
    ("bottles has:photo", ["vodka"]),
    ("shop:jarrold", ["hoodie", "gin"]),
    ('shop:"BOOTS"', ["puffer", "vodka"]),
    ("shop:“boots” vodka", ["vodka"]),
    ("shop:primark", []),
    ("since:7d", ["hoodie", "bottle", "puffer", "note", "gin"]),
    ("black since:7d", ["hoodie", "gin"]),
    ("from:2026-11-09 to:2026-11-10", ["vodka"]),
    ("from:31/10/2026 to:10/11/2026 male", ["vodka", "chiller"]),
    ("to:2026-10-15", ["spitting"]),
    ("'; DROP TABLE report;--", []),
    ('"grey" OR "*"', []),
    ("NEAR(grey hoodie)", []),
    ("grey* hoodie", ["hoodie"]),
    ("razor", ["hoodie"]),
]

SHOPKEEPER_QUERIES: list[tuple[str, list[str]]] = [
    ("bottle", ["gin"]),
    ("since:7d", ["hoodie", "gin"]),
    ("vodka", []),
]


@dataclass
class Log:
    scope: SearchScope
    names: dict[int, str] = field(default_factory=dict)
    reports: dict[str, Report] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)

    def named(self, ids: list[int]) -> list[str]:
        return [self.names[report_id] for report_id in ids]


async def shopkeeper(store: Store, scheme: Scheme, telegram_id: int, shop: str) -> Member:
    return await store.members.add(
        Member(
            scheme_id=scheme.id or 0,
            telegram_user_id=telegram_id,
            display_name=shop + " staff",
            shop_name=shop,
            role=Role.MEMBER,
            status=MemberStatus.ACTIVE,
        )
    )


async def write(store: Store, sighting: Sighting, scheme: Scheme, member: Member | None) -> Report:
    seen = NOW - timedelta(days=sighting.days_ago)
    report = await store.reports.create(
        Report(
            scheme_id=scheme.id or 0,
            member_id=member.id if member else None,
            category=sighting.category,
            urgency=Urgency.NOW,
            description=sighting.description,
            subject_description=sighting.subject,
            location_text=sighting.location,
            police_reference=sighting.police_reference,
            status=sighting.status,
            occurred_at=seen,
            created_at=seen,
        ),
        photos=[
            Photo(sha256=f"{n:064x}", width=8, height=8, size=64, relative_path=f"{n}.jpg")
            for n in range(sighting.photos)
        ],
    )
    for text in sighting.events:
        await store.reports.add_event(
            ReportEvent(report_id=report.id or 0, kind=EventKind.RADIO_CALL, text=text)
        )
    return report


async def write_log(store: Store) -> Log:
    norwich = await store.schemes.get_by_slug("norwich")
    members = {
        PRIYA: await shopkeeper(store, norwich, PRIYA, "Jarrold"),
        BEN: await shopkeeper(store, norwich, BEN, "Boots the Chemist"),
    }
    log = Log(SearchScope(norwich.id or 0, norwich.timezone), members=members)
    for name, sighting in LOG.items():
        scheme = await store.schemes.get_by_slug(sighting.scheme)
        member = members.get(sighting.shopkeeper or 0)
        report = await write(store, sighting, scheme, member)
        log.names[report.id or 0] = name
        log.reports[name] = report
    return log


# Ways the search may go about it (storage.search._matching_ids); all must agree.
PLANS: dict[str, tuple[tuple[int, ...] | None, int]] = {
    "newest-first": (None, FEW_MATCHES),
    "word-index-first": ((), FEW_MATCHES),
    "index-after-two-probes": ((1, 2), FEW_MATCHES),
    "index-walked-past-many-matches": ((), 0),
}


async def find(
    store: Store, text: str, scope: SearchScope, plan: str = "newest-first"
) -> list[int]:
    query = parse_query(text, now=NOW, timezone=scope.timezone)
    probes, few_matches = PLANS[plan]
    search = ReportSearch(store.sessions, store.audit, probes=probes, few_matches=few_matches)
    return await search.matching_ids(query, scope, limit=50)


class TestSearchIndex:
    @pytest.mark.parametrize("plan", PLANS)
    async def test_every_query_finds_the_same_reports_newest_first(
        self, synced_store: Store, plan: str
    ) -> None:
        log = await write_log(synced_store)

        found = {
            text: log.named(await find(synced_store, text, log.scope, plan)) for text, _ in QUERIES
        }

        assert found == dict(QUERIES)

    async def test_a_shopkeeper_finds_only_their_own_reports(self, synced_store: Store) -> None:
        log = await write_log(synced_store)
        priya = log.members[PRIYA]
        scheme = await synced_store.schemes.get_by_slug("norwich")
        scope = SearchScope.of(priya, scheme)
        assert scope.member_id == priya.id

        for plan in PLANS:
            found = {
                text: log.named(await find(synced_store, text, scope, plan))
                for text, _ in SHOPKEEPER_QUERIES
            }
            assert found == dict(SHOPKEEPER_QUERIES), plan

    async def test_another_scheme_finds_only_its_own(self, synced_store: Store) -> None:
        log = await write_log(synced_store)
        wymondham = await synced_store.schemes.get_by_slug("wymondham")
        scope = SearchScope(wymondham.id or 0, wymondham.timezone)

        assert log.named(await find(synced_store, "grey hoodie", scope)) == ["wymondham"]
        assert await find(synced_store, "vodka", scope) == []

    async def test_pages_follow_on_without_overlap(self, synced_store: Store) -> None:
        log = await write_log(synced_store)
        query = parse_query("cat:theft", now=NOW, timezone="Europe/London")

        first = await synced_store.search.matching_ids(query, log.scope, limit=2)
        second = await synced_store.search.matching_ids(query, log.scope, limit=2, offset=2)
        rest = await synced_store.search.matching_ids(query, log.scope, limit=2, offset=4)

        assert log.named(first + second + rest) == ["hoodie", "puffer", "gin", "vodka", "chiller"]

    async def test_the_index_follows_new_events_status_changes_and_deletions(
        self, synced_store: Store
    ) -> None:
        log = await write_log(synced_store)
        puffer = log.reports["puffer"]
        assert await find(synced_store, "stopped", log.scope) == []

        await synced_store.reports.add_event(
            ReportEvent(report_id=puffer.id or 0, kind=EventKind.NOTE, text="Stopped by PCSO")
        )
        async with synced_store.sessions() as session, session.begin():
            await session.exec(
                update(Report)
                .where(col(Report.id) == puffer.id)
                .values(status=ReportStatus.OPEN, description="Beige puffer, perfume")
            )

        assert log.named(await find(synced_store, "stopped pcso", log.scope)) == ["puffer"]
        assert "puffer" in log.named(await find(synced_store, "status:open", log.scope))
        assert log.named(await find(synced_store, "beige perfume", log.scope)) == ["puffer"]
        assert await find(synced_store, "testers", log.scope) == []

        await synced_store.reports.delete(puffer.id or 0)

        assert await find(synced_store, "stopped", log.scope) == []
        assert await find(synced_store, "shop:boots puffer", log.scope) == []

    async def test_deleting_the_last_photo_clears_has_photo(self, synced_store: Store) -> None:
        log = await write_log(synced_store)
        hoodie = log.reports["hoodie"]

        async with synced_store.sessions() as session, session.begin():
            for photo in await synced_store.reports.photos(hoodie.id or 0):
                await session.delete(await session.get(Photo, photo.id))

        assert log.named(await find(synced_store, "has:photo", log.scope)) == ["vodka"]

    async def test_reports_already_in_the_log_become_searchable_when_migrated(
        self, database_url: str, schemes_file: SchemesFile
    ) -> None:
        await upgrade(database_url, "0002")
        engine = create_engine(database_url)
        try:
            sessions = make_session_factory(engine)
            # The scheme as the log of those days held it: no member table of today's shape.
            norwich = scheme_row(schemes_file.scheme("norwich"))
            async with sessions() as session:
                session.add(norwich)
                await session.commit()
                await session.refresh(norwich)
            # The report table as it was at 0002: today's model has columns added since.
            old_report = table(
                "report",
                column("id", Integer),
                column("scheme_id", Integer),
                column("created_at", UTCDateTime()),
                column("occurred_at", UTCDateTime()),
                column("updated_at", UTCDateTime()),
                column("category", String),
                column("urgency", String),
                column("description", String),
                column("status", String),
                column("source", String),
            )
            now = datetime.now(UTC)
            older = "Logged before search existed: green parka, phone chargers"
            async with engine.begin() as connection:
                older_id = (
                    await connection.execute(
                        insert(old_report)
                        .values(
                            scheme_id=norwich.id or 0,
                            created_at=now,
                            occurred_at=now,
                            updated_at=now,
                            category="theft",
                            urgency="log",
                            description=older,
                            status="open",
                            source="chat",
                        )
                        .returning(old_report.c.id)
                    )
                ).scalar_one()
            async with sessions() as session, session.begin():
                session.add(
                    Photo(
                        report_id=older_id,
                        sha256="ef" * 32,
                        width=8,
                        height=8,
                        size=64,
                        relative_path="e",
                    )
                )
                session.add(ReportEvent(report_id=older_id, kind=EventKind.NOTE, text="CCTV kept"))
        finally:
            await engine.dispose()

        store = await Store.open(database_url)
        try:
            scope = SearchScope(norwich.id or 0, norwich.timezone)
            found = await find(store, "green parka cctv has:photo", scope)
        finally:
            await store.close()

        assert found == [older_id]

    async def test_every_trigger_that_keeps_the_index_in_step_is_there(self, store: Store) -> None:
        async with store.engine.connect() as connection:
            if store.backend == "sqlite":
                names = await connection.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger'"
                )
            else:
                names = await connection.exec_driver_sql(
                    "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal"
                )
            triggers = {str(name) for (name,) in names.all()}

        assert INDEX_TRIGGERS[store.backend] <= triggers
