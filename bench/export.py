"""How long a busy week's police export takes, and how much memory it needs.

Seeds a week of 5,000 reports with 1,000 distinct photos (camera-sized JPEGs
through the photo store, as members' photos arrive) and about 7,000 events,
then exports it (CSV, XLSX, PDF, JSON, manifest) in a fresh process, so the
peak memory measured is the export's and not the seeding's.

    python -m bench.export            # BENCH_EXPORT_REPORTS / BENCH_EXPORT_PHOTOS to change
"""

from __future__ import annotations

import asyncio
import io
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, timedelta
from pathlib import Path

from PIL import Image, ImageDraw

from bench import SIGHTINGS
from bench.machine import describe
from config.schemes import load_schemes
from config.vocabulary import Category, EventKind, MemberStatus, ReportSource, Role, Urgency
from storage.export.build import build_export
from storage.export.period import ExportPeriod
from storage.export.records import ExportedBy
from storage.models import Member, Photo, Report, ReportEvent
from storage.photos import PhotoStore
from storage.store import Store
from storage.transaction import transaction

ROOT = Path(__file__).resolve().parent.parent
REPORTS = int(os.environ.get("BENCH_EXPORT_REPORTS", "5000"))
PHOTOS = int(os.environ.get("BENCH_EXPORT_PHOTOS", "1000"))
WEEK = ExportPeriod(date(2026, 11, 2), date(2026, 11, 8), "Europe/London")


def sighting_texts() -> list[str]:
    lines = SIGHTINGS.read_text(encoding="utf-8").splitlines()[1:]
    return [line.split("\t", 2)[2] for line in lines if line.count("\t") >= 2]


def camera_photo(number: int) -> bytes:
    """A 1600x1200 picture with enough detail to compress like a phone photo."""
    rng = random.Random(number)
    small = Image.effect_noise((200, 150), 40 + number % 30).convert("RGB")
    image = small.resize((1600, 1200), Image.Resampling.BICUBIC)
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(1500), rng.randrange(1100)
        colour = (rng.randrange(256), rng.randrange(256), rng.randrange(256))
        draw.rectangle((x, y, x + rng.randrange(40, 300), y + rng.randrange(40, 300)), colour)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=92)
    return out.getvalue()


async def seed(directory: Path, reports: int = REPORTS, photos_wanted: int = PHOTOS) -> str:
    """A week of Norwich's log in `directory` (bench.db, data/photos); returns its URL."""
    url = f"sqlite+aiosqlite:///{directory / 'bench.db'}"
    store = await Store.open(url)
    try:
        await store.schemes.sync(load_schemes(ROOT / "schemes.example.toml"))
        scheme = await store.schemes.get_by_slug("norwich")
        assert scheme.id is not None
        shops = [
            await store.members.add(
                Member(
                    scheme_id=scheme.id,
                    telegram_user_id=5_000_000_000 + n,
                    display_name=f"Shop {n}",
                    shop_name=f"Shop {n}",
                    role=Role.MEMBER,
                    status=MemberStatus.ACTIVE,
                )
            )
            for n in range(60)
        ]
        operator = await store.members.add(
            Member(
                scheme_id=scheme.id,
                telegram_user_id=5_100_000_000,
                display_name="Control room",
                role=Role.OPERATOR,
                status=MemberStatus.ACTIVE,
            )
        )
        photos = PhotoStore(directory / "data" / "photos")
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:  # Pillow frees the GIL
            stored = list(pool.map(lambda n: photos.ingest(camera_photo(n)), range(photos_wanted)))
        texts = sighting_texts()
        categories = list(Category)
        start = WEEK.start.astimezone(UTC)
        step = (WEEK.end.astimezone(UTC) - start) / reports
        photo_every = max(1, reports // max(1, photos_wanted))
        for batch in range(0, reports, 500):
            async with transaction(store.sessions, "seed") as session:
                made: list[tuple[int, Report]] = []
                for n in range(batch, min(batch + 500, reports)):
                    logged = start + step * n
                    report = Report(
                        scheme_id=scheme.id,
                        member_id=None if n % 50 == 7 else shops[n % len(shops)].id,
                        source=ReportSource.RADIO if n % 50 == 7 else ReportSource.CHAT,
                        created_at=logged,
                        occurred_at=logged - timedelta(minutes=n % 90),
                        category=categories[n % len(categories)],
                        urgency=Urgency.NOW if n % 4 else Urgency.LOG,
                        description=texts[n % len(texts)],
                        subject_description="Male 30s, grey hoodie" if n % 2 else None,
                        location_text="Gentleman's Walk",
                        value_pence=(n * 137) % 9000,
                    )
                    session.add(report)
                    made.append((n, report))
                await session.flush()
                for n, report in made:
                    assert report.id is not None
                    if n % photo_every == 0 and n // photo_every < photos_wanted:
                        p = stored[n // photo_every]
                        session.add(
                            Photo(
                                report_id=report.id,
                                sha256=p.sha256,
                                phash=p.phash,
                                width=p.width,
                                height=p.height,
                                size=p.size,
                                relative_path=p.relative_path,
                            )
                        )
                    at = report.created_at
                    session.add(
                        ReportEvent(
                            report_id=report.id,
                            member_id=operator.id,
                            kind=EventKind.STATUS,
                            status="acknowledged",
                            created_at=at + timedelta(minutes=1),
                        )
                    )
                    if n % 5 == 0:
                        session.add(
                            ReportEvent(
                                report_id=report.id,
                                member_id=operator.id,
                                kind=EventKind.STATUS,
                                status="on_camera",
                                created_at=at + timedelta(minutes=2),
                            )
                        )
                    if n % 7 == 0:
                        session.add(
                            ReportEvent(
                                report_id=report.id,
                                member_id=report.member_id,
                                kind=EventKind.NOTE,
                                text="Seen again outside Boots, same clothes",
                                created_at=at + timedelta(minutes=9),
                            )
                        )
    finally:
        await store.close()
    return url


async def measure(url: str, directory: Path) -> None:
    """In a fresh process: export the week and print time and peak memory."""
    store = await Store.open(url, migrate=False)
    try:
        scheme = await store.schemes.get_by_slug("norwich")
        photos = PhotoStore(directory / "data" / "photos")
        usage = resource.getrusage(resource.RUSAGE_SELF)
        before, cpu_before = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
        began = time.perf_counter()
        result = await build_export(
            store,
            photos,
            scheme,
            WEEK,
            directory / "export",
            exported_by=ExportedBy("command line", "benchmark"),
            via="benchmark",
            apart=False,
        )
        elapsed = time.perf_counter() - began
        usage = resource.getrusage(resource.RUSAGE_SELF)
        peak, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime - cpu_before
    finally:
        await store.close()
    sizes = ", ".join(f"{f.kind} {f.size / 2**20:.1f} MB" for f in result.files)
    print(
        f"export of {result.reports} reports, {result.photos} photos, {result.pages} PDF pages: "
        f"{elapsed:.1f} s ({cpu:.1f} s of CPU); peak RSS {peak / 1024:.0f} MB "
        f"({before / 1024:.0f} MB before the export)"
    )
    print(f"files: {sizes}")


def main() -> None:
    print(describe())
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        began = time.perf_counter()
        url = asyncio.run(seed(directory))
        print(
            f"seeded {REPORTS} reports and {PHOTOS} photos in {time.perf_counter() - began:.0f} s"
        )
        subprocess.run(
            [sys.executable, "-m", "bench.export", "--measure", url, str(directory)],
            check=True,
            cwd=ROOT,
        )
    print(describe())


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--measure":
        asyncio.run(measure(sys.argv[2], Path(sys.argv[3])))
    else:
        main()
