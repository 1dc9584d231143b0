"""How fast the log answers a search with a million reports in it, on SQLite and PostgreSQL.

Seeds BENCH_SEARCH_REPORTS reports (default 1,000,000) over the last year across
the four example schemes, recombining the people, places and items of
bench/data/sightings.tsv, with photos and radio/notes events on some of them.
Rows go in by bulk insert (executemany on SQLite, COPY on PostgreSQL) with the
search triggers firing, as they would for reports arriving one by one. Then
times five representative searches end to end (`ReportSearch.search`: the
query, the page of results and the audit entry), BENCH_SEARCH_ROUNDS each, and
the index query alone (`ReportSearch.matching_ids`).

PostgreSQL runs when SHOPWATCH_BENCH_POSTGRES_URL names a server database whose
user may create databases; the benchmark's own database is dropped afterwards.

    python -m bench.search
"""

from __future__ import annotations

import asyncio
import csv
import os
import random
import re
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from bench import SIGHTINGS as DEFAULT_SIGHTINGS
from bench.machine import describe, percentiles
from config.schemes import load_schemes
from storage.query import parse_query
from storage.search import SearchScope
from storage.store import Store
from tests.scratch import scratch_postgres_database

ROOT = Path(__file__).resolve().parent.parent
SIGHTINGS = Path(os.environ.get("BENCH_SIGHTINGS", DEFAULT_SIGHTINGS))
REPORTS = int(os.environ.get("BENCH_SEARCH_REPORTS", "1000000"))
ROUNDS = int(os.environ.get("BENCH_SEARCH_ROUNDS", "50"))
POSTGRES_URL_ENV = "SHOPWATCH_BENCH_POSTGRES_URL"
BATCH = 20_000
DAYS = 365
SHOPS = (
    "Jarrold",
    "Boots",
    "Primark",
    "Superdrug",
    "Co-op",
    "Greggs",
    "WHSmith",
    "Holland & Barrett",
    "Poundland",
    "TK Maxx",
    "Waterstones",
    "Sports Direct",
)
SCHEME_WEIGHTS = (55, 15, 15, 15)  # Norwich is the busy one
REPORT_COLUMNS = (
    "id",
    "scheme_id",
    "member_id",
    "created_at",
    "occurred_at",
    "updated_at",
    "category",
    "urgency",
    "description",
    "subject_description",
    "location_text",
    "police_reference",
    "status",
    "source",
)
PHOTO_COLUMNS = ("report_id", "sha256", "width", "height", "size", "relative_path", "created_at")
EVENT_COLUMNS = ("report_id", "kind", "status", "text", "created_at")
QUERIES = (
    "grey hoodie since:7d",
    "vodka from:{from_} to:{to}",
    "cat:theft status:open has:photo",
    'shop:"Jarrold" since:30d',
    "north face",
)


@dataclass(frozen=True)
class Vocabulary:
    """Fragments of real sighting texts, to recombine into a year of plausible reports."""

    lines: list[tuple[str, str, str]]
    fragments: list[str]
    places: list[str]

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        with path.open(newline="") as handle:
            rows = [
                (row["category"], row["urgency"], row["text"])
                for row in csv.DictReader(handle, delimiter="\t")
            ]
        fragments = [
            part.strip()
            for _, _, text in rows
            for part in re.split(r"[,.:]", text)
            if part.strip()
        ]
        places = sorted(
            {
                match.group(1)
                for _, _, text in rows
                for match in re.finditer(
                    r"(?:towards|to|on|up|down|along) ((?:[A-Z][\w']+ ?){1,3})", text
                )
            }
        )
        return cls(rows, fragments, [p.strip() for p in places])

    def report(self, rng: random.Random) -> tuple[str, str, str, str, str]:
        category, urgency, text = rng.choice(self.lines)
        extra = rng.sample(self.fragments, 2)
        description = f"{text}, {extra[0].lower()}"
        return category, urgency, description, extra[1], rng.choice(self.places)


def _sqlite_time(moment: datetime) -> str:
    """How SQLAlchemy stores a UTC datetime in SQLite, so triggers and queries agree."""
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


@dataclass
class Seeder:
    vocabulary: Vocabulary
    schemes: list[int]
    shops: dict[int, list[int]]
    now: datetime
    rng: random.Random

    def batches(self, count: int) -> Iterator[tuple[list[tuple[Any, ...]], ...]]:
        """Reports in the order they happened, with their photos and events."""
        start = self.now - timedelta(days=DAYS)
        step = timedelta(days=DAYS) / count
        reports: list[tuple[Any, ...]] = []
        photos: list[tuple[Any, ...]] = []
        events: list[tuple[Any, ...]] = []
        rng = self.rng
        for number in range(1, count + 1):
            seen = start + step * number
            scheme = rng.choices(self.schemes, SCHEME_WEIGHTS)[0]
            member = rng.choice(self.shops[scheme]) if rng.random() < 0.9 else None
            category, urgency, description, subject, place = self.vocabulary.report(rng)
            status = rng.choices(("open", "closed", "withdrawn"), (80, 15, 5))[0]
            reference = f"NC-{number:06d}-26" if rng.random() < 0.05 else None
            reports.append(
                (
                    number,
                    scheme,
                    member,
                    seen,
                    seen,
                    seen,
                    category,
                    urgency,
                    description,
                    subject,
                    place,
                    reference,
                    status,
                    "chat",
                )
            )
            if rng.random() < 0.3:
                photos.append((number, f"{number:064x}", 1024, 768, 90_000, f"{number}.jpg", seen))
            if rng.random() < 0.2:
                text = f"Radio: {rng.choice(self.vocabulary.fragments).lower()}"
                events.append((number, "radio_call", None, text, seen + timedelta(minutes=3)))
            if len(reports) == BATCH:
                yield reports, photos, events
                reports, photos, events = [], [], []
        if reports:
            yield reports, photos, events


def _placeholders(columns: Sequence[str]) -> str:
    return f"({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"


async def _seed_sqlite(connection: AsyncConnection, seeder: Seeder, count: int) -> None:
    def stamp(rows: list[tuple[Any, ...]], *positions: int) -> list[tuple[Any, ...]]:
        return [
            tuple(_sqlite_time(v) if i in positions else v for i, v in enumerate(row))
            for row in rows
        ]

    for reports, photos, events in seeder.batches(count):
        await connection.exec_driver_sql(
            f"INSERT INTO report {_placeholders(REPORT_COLUMNS)}", stamp(reports, 3, 4, 5)
        )
        await connection.exec_driver_sql(
            f"INSERT INTO photo {_placeholders(PHOTO_COLUMNS)}", stamp(photos, 6)
        )
        await connection.exec_driver_sql(
            f"INSERT INTO event {_placeholders(EVENT_COLUMNS)}", stamp(events, 4)
        )
        await connection.commit()
    await connection.exec_driver_sql("ANALYZE")
    await connection.exec_driver_sql("INSERT INTO search_fts (search_fts) VALUES ('optimize')")
    await connection.commit()


async def _seed_postgresql(connection: AsyncConnection, seeder: Seeder, count: int) -> None:
    raw = await connection.get_raw_connection()
    driver: Any = raw.driver_connection
    for reports, photos, events in seeder.batches(count):
        await driver.copy_records_to_table("report", records=reports, columns=REPORT_COLUMNS)
        await driver.copy_records_to_table("photo", records=photos, columns=PHOTO_COLUMNS)
        await driver.copy_records_to_table("event", records=events, columns=EVENT_COLUMNS)
        await connection.commit()
    await connection.exec_driver_sql(
        "SELECT setval(pg_get_serial_sequence('report', 'id'), (SELECT max(id) FROM report))"
    )
    await connection.commit()
    for table in ("report", "photo", "event", "search_document"):
        await connection.exec_driver_sql(f"VACUUM ANALYZE {table}")


async def seed(store: Store, count: int) -> tuple[float, dict[int, str]]:
    """Fill the log; returns the seconds it took and each scheme's timezone."""
    schemes = await store.schemes.sync(load_schemes(ROOT / "schemes.example.toml"))
    shops: dict[int, list[int]] = {}
    member_id = 0
    rows = []
    for scheme in schemes:
        assert scheme.id is not None
        shops[scheme.id] = []
        for shop in SHOPS:
            member_id += 1
            shops[scheme.id].append(10_000 + member_id)
            rows.append((10_000 + member_id, scheme.id, 8_000_000 + member_id, shop, shop))
    seeder = Seeder(
        Vocabulary.load(SIGHTINGS),
        [s.id or 0 for s in schemes],
        shops,
        datetime.now(UTC),
        random.Random(20261123),
    )
    began = time.perf_counter()
    member_sql = (
        "INSERT INTO member (id, scheme_id, telegram_user_id, display_name, shop_name, role, "
        "status, created_at, updated_at) VALUES ({}, 'member', 'active', {now}, {now})"
    )
    postgres = store.backend == "postgresql"
    autocommit = {"isolation_level": "AUTOCOMMIT"} if postgres else {}
    async with store.engine.connect() as connection:
        if postgres:
            values = "$1, $2, $3, $4, $5"
            now_sql = "now()"
        else:
            values = "?, ?, ?, ?, ?"
            now_sql = f"'{_sqlite_time(datetime.now(UTC))}'"
        await connection.exec_driver_sql(member_sql.format(values, now=now_sql), rows)
        await connection.commit()
        if postgres:
            await _seed_postgresql(await connection.execution_options(**autocommit), seeder, count)
        else:
            await _seed_sqlite(connection, seeder, count)
    return time.perf_counter() - began, {s.id or 0: s.timezone for s in schemes}


async def measure(store: Store, zones: dict[int, str]) -> list[str]:
    now = datetime.now(UTC)
    london = now.date()
    dates = {
        "from_": (london - timedelta(days=60)).isoformat(),
        "to": (london - timedelta(days=30)).isoformat(),
    }
    lines = []
    schemes = sorted(zones)
    for template in QUERIES:
        text = template.format(**dates)
        samples: list[float] = []
        index_only: list[float] = []
        found = 0
        for round_ in range(ROUNDS):
            scheme = schemes[round_ % len(schemes)]
            scope = SearchScope(scheme, zones[scheme])
            began = time.perf_counter()
            query = parse_query(text, now=now, timezone=scope.timezone)
            page = await store.search.search(query, scope, actor=1, now=now)
            samples.append(time.perf_counter() - began)
            found += len(page.hits)
            began = time.perf_counter()
            await store.search.matching_ids(query, scope, limit=6)
            index_only.append(time.perf_counter() - began)
        lines.append(f"  {text!r}: {percentiles(samples)}, {found / ROUNDS:.1f} hits/page")
        lines.append(f"  {'':{len(repr(text))}}  matching ids only: {percentiles(index_only)}")
    return lines


async def run(label: str, url: str, count: int) -> None:
    store = await Store.open(url)
    try:
        seconds, zones = await seed(store, count)
        print(f"{label}: {count:,} reports seeded in {seconds:.0f} s ({count / seconds:,.0f}/s)")
        for line in await measure(store, zones):
            print(line)
    finally:
        await store.close()


async def main(count: int = REPORTS) -> None:
    print(describe())
    with tempfile.TemporaryDirectory() as tmp:
        await run("SQLite", f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", count)
    print(describe())
    server_url = os.environ.get(POSTGRES_URL_ENV)
    if server_url:
        async with scratch_postgres_database(server_url, "shopwatch_bench") as url:
            await run("PostgreSQL", url, count)
        print(describe())
    else:
        print(f"PostgreSQL not measured: set {POSTGRES_URL_ENV}")


if __name__ == "__main__":
    asyncio.run(main())
