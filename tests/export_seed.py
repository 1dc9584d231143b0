"""A week of Norwich's log, seeded straight through the store and the photo store.

Five member shops, an operator in the control room, reports of every category
spread over the week, photos (some shared between reports), radio calls, a
neighbour's report, CCTV confirmations and notes: what an export has to carry.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from PIL import Image

from config.vocabulary import Category, EventKind, MemberStatus, ReportSource, Role, Urgency
from storage.export.period import ExportPeriod
from storage.models import Member, Photo, Report, ReportEvent, Scheme
from storage.photos import PhotoStore, StoredPhoto
from storage.store import Store

SHOPS = (
    ("Priya Shah", "priya_pharmacy", "Shah's Pharmacy", "Orford Hill"),
    ("Tom Blake", "tomblake", "Blake & Sons Butchers", "Timber Hill"),
    ("Ana Novak", None, "Novak Vintage", "Lower Goat Lane"),
    ("Dev Mistry", "devm", "Mistry Mobiles", "Pottergate"),
    ("Jo Hughes", "jo_h", "Hughes Books", "Bedford Street"),
)
PLACES = ("Gentleman's Walk", "Haymarket", "Castle Meadow", "Red Lion Street", "Westlegate")
PEOPLE = (
    "Male 30s, grey hoodie, black joggers",
    "Female 20s, beige puffer jacket",
    "Two youths in school uniform",
    "Male 40s, bald, grey tracksuit",
)
ITEMS = ("razor blades", "perfume testers", "two bottles of vodka", "phone chargers", "meat")
CATEGORIES = tuple(Category)


def photo_bytes(number: int) -> bytes:
    """A small JPEG unlike every other number's."""
    image = Image.new("RGB", (48, 36), (number % 256, (number * 7) % 256, 255 - number % 256))
    image.putpixel((number % 48, (number // 48) % 36), (255, 255, 255))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG")
    return buffer.getvalue()


def as_row(stored: StoredPhoto) -> Photo:
    return Photo(
        sha256=stored.sha256,
        phash=stored.phash,
        width=stored.width,
        height=stored.height,
        size=stored.size,
        relative_path=stored.relative_path,
    )


async def add_member(
    store: Store,
    scheme: Scheme,
    telegram_user_id: int,
    name: str,
    *,
    role: Role = Role.MEMBER,
    username: str | None = None,
    shop: str | None = None,
    street: str | None = None,
) -> Member:
    assert scheme.id is not None
    return await store.members.add(
        Member(
            scheme_id=scheme.id,
            telegram_user_id=telegram_user_id,
            display_name=name,
            username=username,
            shop_name=shop,
            street=street,
            role=role,
            status=MemberStatus.ACTIVE,
        )
    )


@dataclass
class SeededWeek:
    scheme: Scheme
    shops: list[Member]
    operator: Member
    reports: list[Report] = field(default_factory=list)
    photo_hashes: set[str] = field(default_factory=set)
    events: int = 0
    cctv_confirmed: set[int] = field(default_factory=set)


async def seed_shops(store: Store, scheme: Scheme) -> tuple[list[Member], Member]:
    shops = [
        await add_member(
            store, scheme, 5_000_000_101 + n, name, username=user, shop=shop, street=street
        )
        for n, (name, user, shop, street) in enumerate(SHOPS)
    ]
    operator = await add_member(
        store, scheme, 5_000_000_201, "Olu Control", role=Role.OPERATOR, username="cctv_olu"
    )
    return shops, operator


async def seed_week(
    store: Store,
    photos: PhotoStore,
    scheme: Scheme,
    period: ExportPeriod,
    *,
    reports: int = 200,
    photo_count: int = 60,
) -> SeededWeek:
    """`reports` reports logged evenly over `period`, `photo_count` distinct photos.

    Reports 0..photo_count-1 carry one photo each; the next twenty show photos
    already used (the same person seen again). Every 40th report (from the 7th) is
    a radio call and (from the 13th) a neighbour's; every 10th is confirmed on
    CCTV by the operator; every 15th has a shop's note.
    """
    assert scheme.id is not None
    shops, operator = await seed_shops(store, scheme)
    seeded = SeededWeek(scheme, shops, operator)
    stored = [photos.ingest(photo_bytes(n)) for n in range(photo_count)]
    # Arithmetic in UTC: Python adds to a local time by the clock on the wall.
    start, end = period.start.astimezone(UTC), period.end.astimezone(UTC)
    step = (end - start) / reports
    for n in range(reports):
        logged: datetime = start + step * n + timedelta(seconds=30)
        source = ReportSource.CHAT
        member_id = shops[n % len(shops)].id
        origin = None
        if n % 40 == 7:
            source, member_id = ReportSource.RADIO, None
        elif n % 40 == 13:
            source, member_id, origin = ReportSource.FEDERATION, None, "wymondham"
        if n < photo_count:
            pictures = [stored[n]]
        elif n < photo_count + 20 and photo_count > 1:
            pictures = [stored[(n - photo_count) % photo_count], stored[(n + 1) % photo_count]]
            pictures = pictures if pictures[0] != pictures[1] else pictures[:1]
        else:
            pictures = []
        report = await store.reports.create(
            Report(
                scheme_id=scheme.id,
                member_id=member_id,
                created_at=logged,
                occurred_at=logged - timedelta(minutes=3 + n % 40),
                category=CATEGORIES[n % len(CATEGORIES)],
                urgency=Urgency.NOW if n % 3 else Urgency.LOG,
                description=(
                    f"{PEOPLE[n % len(PEOPLE)]} took {ITEMS[n % len(ITEMS)]}, "
                    f"heading towards {PLACES[(n + 1) % len(PLACES)]}"
                ),
                subject_description=PEOPLE[n % len(PEOPLE)],
                location_text=PLACES[n % len(PLACES)],
                direction=PLACES[(n + 1) % len(PLACES)],
                value_pence=(n * 137) % 9000 or None,
                police_reference=f"NC-{28000 + n}" if n % 9 == 0 else None,
                source=source,
                origin_scheme=origin,
            ),
            photos=[as_row(p) for p in pictures],
        )
        assert report.id is not None
        seeded.reports.append(report)
        seeded.photo_hashes.update(p.sha256 for p in pictures)
        if n % 10 == 0:
            await store.reports.add_event(
                ReportEvent(
                    report_id=report.id,
                    member_id=operator.id,
                    kind=EventKind.STATUS,
                    status="on_camera",
                    created_at=logged + timedelta(minutes=2),
                )
            )
            seeded.events += 1
            seeded.cctv_confirmed.add(report.id)
        if n % 15 == 0:
            await store.reports.add_event(
                ReportEvent(
                    report_id=report.id,
                    member_id=shops[0].id,
                    kind=EventKind.NOTE,
                    text="Came back ten minutes later, left towards the market",
                    created_at=logged + timedelta(minutes=9),
                )
            )
            seeded.events += 1
    return seeded
