"""The search finds what the guided report's own columns hold, on SQLite and PostgreSQL.

What was taken, the typed clothing, marks, name and vehicle, and the registration
with or without its space: each is found by `/search`, follows a later answer, and is
found in reports logged before the search knew of them, once migrated
(SHOPWATCH_TEST_POSTGRES_URL runs the same on PostgreSQL).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from config.schemes import SchemesFile
from config.vocabulary import Category, Urgency
from storage.audit import AuditLog
from storage.engine import create_engine, make_session_factory
from storage.migrate import upgrade
from storage.models import Report
from storage.query import parse_query
from storage.schemes import scheme_row
from storage.search import FEW_MATCHES, ReportSearch, SearchScope
from storage.store import Store

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)

# Newest candidates checked first, or the word index asked first: both must agree.
PLANS = {"newest-first": None, "word-index-first": ()}


def guided(scheme_id: int, **descriptors: str) -> Report:
    return Report.model_validate(
        {
            "scheme_id": scheme_id,
            "category": Category.THEFT,
            "urgency": Urgency.NOW,
            "description": "Took two bottles from the front display and walked out",
            "occurred_at": NOW,
            "created_at": NOW,
            **descriptors,
        }
    )


DESCRIBED: dict[str, str] = {
    "subject_clothing": "Burgundy gilet, camo cargo trousers",
    "subject_marks": "Spider-web tattoo on the neck",
    "subject_name": "Dazza",
    "subject_hair": "ponytail",
    "vehicle": "silver Ford Focus",
    "vehicle_registration": "AB12 CDE",
    "property_description": "2 bottles of Gordon's gin",
}

# Query -> whether the guided report is found.
QUERIES = [
    ("gordon", True),
    ("gin bottles", True),
    ("burgundy gilet", True),
    ("spider tattoo", True),
    ("dazza", True),
    ("ponytail", True),
    ("focus", True),
    ("AB12 CDE", True),
    ("AB12CDE", True),
    ("ab12cde", True),
    ("whisky", False),
]


async def found(
    store: Store | async_sessionmaker[AsyncSession], text: str, scope: SearchScope, plan: str
) -> list[int]:
    sessions = store.sessions if isinstance(store, Store) else store
    search = ReportSearch(
        sessions, AuditLog(sessions), probes=PLANS[plan], few_matches=FEW_MATCHES
    )
    query = parse_query(text, now=NOW, timezone=scope.timezone)
    return await search.matching_ids(query, scope, limit=10)


@pytest.mark.parametrize("plan", PLANS)
async def test_a_guided_reports_descriptors_are_found(synced_store: Store, plan: str) -> None:
    norwich = await synced_store.schemes.get_by_slug("norwich")
    scope = SearchScope(norwich.id or 0, norwich.timezone)
    report = await synced_store.reports.create(guided(norwich.id or 0, **DESCRIBED))

    answers = {text: await found(synced_store, text, scope, plan) for text, _ in QUERIES}

    assert answers == {text: [report.id] if hit else [] for text, hit in QUERIES}


async def test_a_later_answer_is_found_as_soon_as_it_is_given(synced_store: Store) -> None:
    norwich = await synced_store.schemes.get_by_slug("norwich")
    scope = SearchScope(norwich.id or 0, norwich.timezone)
    report = await synced_store.reports.create(guided(norwich.id or 0))
    assert await found(synced_store, "gordon", scope, "word-index-first") == []

    async with synced_store.sessions() as session, session.begin():
        await session.exec(
            update(Report)
            .where(col(Report.id) == report.id)
            .values(property_description="2 bottles of Gordon's gin")
        )

    for plan in PLANS:
        assert await found(synced_store, "gordon", scope, plan) == [report.id], plan


async def test_reports_logged_before_are_found_by_their_descriptors_once_migrated(
    database_url: str, schemes_file: SchemesFile
) -> None:
    await upgrade(database_url, "0012")
    engine = create_engine(database_url)
    try:
        sessions = make_session_factory(engine)
        async with sessions() as session, session.begin():
            norwich = scheme_row(schemes_file.scheme("norwich"))
            session.add(norwich)
            await session.flush()
            older = guided(norwich.id or 0, **DESCRIBED)
            session.add(older)
        scope = SearchScope(norwich.id or 0, norwich.timezone)
        assert await found(sessions, "gordon", scope, "word-index-first") == [], "not yet"
    finally:
        await engine.dispose()

    store = await Store.open(database_url)
    try:
        for plan in PLANS:
            for text, hit in QUERIES:
                assert await found(store, text, scope, plan) == ([older.id] if hit else []), (
                    plan,
                    text,
                )
    finally:
        await store.close()
