"""People, not just incidents: subjects, notices and galleries keep their rules on both databases.

Every test in `TestSubjects` runs on SQLite and, when SHOPWATCH_TEST_POSTGRES_URL is set,
on PostgreSQL (tests/storage_fixtures.py).
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageDraw
from sqlalchemy import update
from sqlmodel import SQLModel

from broadcast.subjects.galleries import expire_galleries
from broadcast.subjects.notices import NoticeTerms, add_months, last_day
from broadcast.subjects.service import Actor, SubjectService, local_today
from config.errors import AccessDeniedError, InvalidInputError, NotFoundError, ReportClosedError
from config.schemes import SchemesFile, parse_schemes
from config.vocabulary import (
    AppealOutcome,
    AuditOutcome,
    Category,
    EventKind,
    MemberStatus,
    NoticeStage,
    ReportStatus,
    Role,
    SubjectKind,
    SubjectStatus,
    Urgency,
)
from storage.models import Member, Photo, Report, ReportEvent, Scheme
from storage.photos import PhotoStore
from storage.retention import purge_expired
from storage.store import Store
from storage.subject_models import Notice
from storage.transaction import transaction
from tests.storage_fixtures import EXAMPLE_SCHEMES

NORWICH_COORDINATOR = 700001
WYMONDHAM_COORDINATOR = 700011
OPERATOR = 5_000_000_101
SHOPKEEPER = 5_000_000_102


def in_words(day: date) -> str:
    """A day as a notice letter writes it: 3 December 2026."""
    return f"{day.day} {day:%B %Y}"


def cctv_still(seed: int) -> bytes:
    """A picture of its own for each seed: a figure on a background, as a member's photo."""
    image = Image.new("RGB", (640, 480), ((seed * 53) % 256, (seed * 97) % 256, 120))
    draw = ImageDraw.Draw(image)
    for n in range(6):
        x, y = (seed * 71 + n * 113) % 560, (seed * 37 + n * 89) % 400
        draw.ellipse((x, y, x + 80, y + 80), fill=((n * 40) % 256, (seed * 13) % 256, 200))
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=90)
    return out.getvalue()


@dataclass
class Norwich:
    store: Store
    photos: PhotoStore
    service: SubjectService
    scheme: Scheme
    coordinator: Actor
    operator: Actor
    shopkeeper: Actor

    async def report(self, *, photo: bytes | None = None, **fields: object) -> Report:
        assert self.scheme.id is not None
        values: dict[str, object] = {
            "scheme_id": self.scheme.id,
            "member_id": self.shopkeeper.member.id,
            "category": Category.THEFT,
            "urgency": Urgency.NOW,
            "description": "Took two bottles of gin, heading to Market St",
            "subject_description": "Male, 30s, grey hoodie, black cap, scar on left cheek",
            **fields,
        }
        rows = []
        if photo is not None:
            stored = self.photos.ingest(photo)
            rows.append(
                Photo(
                    sha256=stored.sha256,
                    phash=stored.phash,
                    width=stored.width,
                    height=stored.height,
                    size=stored.size,
                    relative_path=stored.relative_path,
                )
            )
        return await self.store.reports.create(Report.model_validate(values), photos=rows)

    async def audit_actions(self) -> list[tuple[str, AuditOutcome]]:
        entries = await self.store.audit.recent(200, scheme_id=self.scheme.id)
        return [(e.action, e.outcome) for e in reversed(entries)]


async def member(store: Store, scheme: Scheme, user_id: int, role: Role) -> Actor:
    assert scheme.id is not None
    row = await store.members.add(
        Member(
            scheme_id=scheme.id,
            telegram_user_id=user_id,
            display_name=f"user {user_id}",
            shop_name=f"Shop {user_id % 1000}",
            street="London Street",
            role=role,
            status=MemberStatus.ACTIVE,
        )
    )
    return Actor(row)


async def town(store: Store, schemes: SchemesFile, tmp_path: Path) -> Norwich:
    scheme = await store.schemes.get_by_slug("norwich")
    assert scheme.id is not None
    coordinator = await store.members.get(scheme.id, NORWICH_COORDINATOR)
    assert coordinator is not None
    photos = PhotoStore(tmp_path / "photos")
    return Norwich(
        store=store,
        photos=photos,
        service=SubjectService(schemes, store, photos),
        scheme=scheme,
        coordinator=Actor(coordinator),
        operator=await member(store, scheme, OPERATOR, Role.OPERATOR),
        shopkeeper=await member(store, scheme, SHOPKEEPER, Role.MEMBER),
    )


@pytest.fixture
async def norwich(synced_store: Store, schemes_file: SchemesFile, tmp_path: Path) -> Norwich:
    return await town(synced_store, schemes_file, tmp_path)


class TestSubjects:
    async def test_the_control_room_makes_a_subject_from_a_photo_alert(
        self, norwich: Norwich
    ) -> None:
        alert = await norwich.report(photo=cctv_still(1))

        subject = await norwich.service.create_from_report(norwich.operator, alert.id or 0)

        assert subject.kind is SubjectKind.ID_SOUGHT
        assert subject.description == alert.subject_description
        assert subject.id is not None
        photos = await norwich.store.subjects.photos(subject.id)
        assert [p.sha256 for p in photos] == [
            p.sha256 for p in await norwich.store.reports.photos(alert.id or 0)
        ]
        assert [r.id for r in await norwich.store.subjects.reports(subject.id)] == [alert.id]
        gallery = await norwich.store.subjects.gallery([norwich.scheme.id or 0])
        assert [s.id for s in gallery] == [subject.id]
        assert ("subject.create", AuditOutcome.ALLOWED) in await norwich.audit_actions()

    async def test_a_withdrawn_report_another_schemes_report_or_a_member_make_no_subject(
        self, norwich: Norwich
    ) -> None:
        withdrawn = await norwich.report()
        await norwich.store.reports.add_event(
            ReportEvent(report_id=withdrawn.id or 0, kind=EventKind.STATUS, status="withdrawn"),
            changes={"status": ReportStatus.WITHDRAWN},
        )
        wymondham = await norwich.store.schemes.get_by_slug("wymondham")
        elsewhere = await norwich.report(scheme_id=wymondham.id, member_id=None)
        ordinary = await norwich.report()

        with pytest.raises(ReportClosedError):
            await norwich.service.create_from_report(norwich.coordinator, withdrawn.id or 0)
        with pytest.raises(NotFoundError):
            await norwich.service.create_from_report(norwich.coordinator, elsewhere.id or 0)
        with pytest.raises(AccessDeniedError):
            await norwich.service.create_from_report(norwich.shopkeeper, ordinary.id or 0)

        assert await norwich.store.subjects.gallery([norwich.scheme.id or 0]) == []
        assert await norwich.audit_actions() == [("subject.create", AuditOutcome.REFUSED)] * 3

    async def test_reports_are_linked_once_and_two_subjects_merge_into_one(
        self, norwich: Norwich
    ) -> None:
        first = await norwich.report(photo=cctv_still(1))
        second = await norwich.report(photo=cctv_still(2))
        third = await norwich.report(photo=cctv_still(1))
        service, boss = norwich.service, norwich.coordinator
        one = await service.create_from_report(boss, first.id or 0)
        two = await service.create_from_report(boss, second.id or 0)
        await service.identify(boss, two.id or 0, name="Dean Smith", basis="Named by PCSO Hale")
        await service.tell(norwich.shopkeeper, two.id or 0, "Drinks in the Bell most nights")

        assert await service.link(boss, one.id or 0, third.id or 0) is True
        assert await service.link(boss, one.id or 0, third.id or 0) is False
        kept = await service.merge(boss, one.id or 0, two.id or 0)

        assert kept.kind is SubjectKind.KNOWN
        assert kept.name == "Dean Smith"
        reports = await norwich.store.subjects.reports(kept.id or 0)
        assert sorted(r.id or 0 for r in reports) == sorted(
            r.id or 0 for r in (first, second, third)
        )
        # The same picture twice (first and third) is kept once.
        assert len(await norwich.store.subjects.photos(kept.id or 0)) == 2
        assert [i.text for i in await norwich.store.subjects.intel(kept.id or 0)] == [
            "Drinks in the Bell most nights"
        ]
        gone = await norwich.store.subjects.get(two.id or 0)
        assert (gone.status, gone.merged_into_id) == (SubjectStatus.MERGED, kept.id)
        assert [s.id for s in await norwich.store.subjects.gallery([norwich.scheme.id or 0])] == [
            kept.id
        ]

    async def test_an_identification_needs_its_basis_and_a_coordinator(
        self, norwich: Norwich
    ) -> None:
        subject = await norwich.service.create_from_report(
            norwich.operator, (await norwich.report()).id or 0
        )
        sid = subject.id or 0

        with pytest.raises(InvalidInputError, match="basis_missing"):
            await norwich.service.identify(norwich.coordinator, sid, name="Dean Smith", basis=" ")
        with pytest.raises(AccessDeniedError):
            await norwich.service.identify(norwich.operator, sid, name="Dean Smith", basis="CCTV")
        named = await norwich.service.identify(
            norwich.coordinator,
            sid,
            name="Dean Smith",
            aliases=["Deano"],
            basis="Named by two member shops; confirmed by PCSO Hale from custody image",
        )

        assert (named.kind, named.name, named.aliases) == (
            SubjectKind.KNOWN,
            "Dean Smith",
            ["Deano"],
        )
        assert named.identified_by_member_id == norwich.coordinator.member.id
        assert named.identification_basis is not None

    async def test_what_a_member_says_is_kept_for_coordinators_but_not_an_essay_or_a_link(
        self, norwich: Norwich
    ) -> None:
        subject = await norwich.service.create_from_report(
            norwich.operator, (await norwich.report()).id or 0
        )
        sid = subject.id or 0
        tell = norwich.service.tell

        with pytest.raises(InvalidInputError, match="intel_too_long"):
            await tell(norwich.shopkeeper, sid, "He is " * 1000)
        with pytest.raises(InvalidInputError, match="intel_has_link"):
            await tell(norwich.shopkeeper, sid, "See https://example.com/him")
        said = await tell(norwich.shopkeeper, sid, "That's  Dean\u202e from Mile Cross")

        assert said.text == "That's Dean from Mile Cross"
        assert said.member_id == norwich.shopkeeper.member.id
        assert [i.text for i in await norwich.store.subjects.intel(sid)] == [said.text]
        outcomes = [o for a, o in await norwich.audit_actions() if a == "subject.intel"]
        assert outcomes == [AuditOutcome.REFUSED, AuditOutcome.REFUSED, AuditOutcome.ALLOWED]

    async def test_a_notice_takes_the_schemes_periods_and_refuses_what_it_does_not_allow(
        self, norwich: Norwich
    ) -> None:
        alert = await norwich.report(photo=cctv_still(3))
        subject = await norwich.service.create_from_report(norwich.coordinator, alert.id or 0)
        sid = subject.id or 0
        boss = norwich.coordinator
        today = date(2026, 12, 2)
        exclusion = NoticeTerms(stage=NoticeStage.EXCLUSION, decided_by="Board, 1 Dec 2026")

        with pytest.raises(InvalidInputError, match="notice_needs_known_subject"):
            await norwich.service.issue_notice(boss, sid, exclusion, today=today)
        await norwich.service.identify(boss, sid, name="Dean Smith", basis="Named by PCSO Hale")
        notice = await norwich.service.issue_notice(boss, sid, exclusion, today=today)

        assert (notice.starts_on, notice.ends_on, notice.review_on) == (
            today,
            date(2027, 12, 1),
            date(2027, 6, 2),
        ), "twelve months from 2 December run until the end of 1 December, the review after six"
        assert notice.premises == ["Shop 102, London Street"], "the member shop's, not the CCTV's"
        backwards = NoticeTerms(
            stage=NoticeStage.EXCLUSION,
            decided_by="Board",
            starts_on=date(2028, 3, 1),
            ends_on=date(2028, 2, 1),
        )
        a_day_past_twelve_months = NoticeTerms(
            stage=NoticeStage.EXCLUSION, decided_by="Board", ends_on=date(2027, 12, 2)
        )
        for terms, reason in (
            (backwards, "notice_ends_before_start"),
            (a_day_past_twelve_months, "notice_too_long"),
            (exclusion, "notice_overlaps"),
        ):
            with pytest.raises(InvalidInputError, match=reason):
                await norwich.service.issue_notice(boss, sid, terms, today=today)
        assert [n.id for n in await norwich.store.subjects.notices(sid)] == [notice.id]

        later = await norwich.service.issue_notice(
            boss,
            sid,
            NoticeTerms(
                stage=NoticeStage.EXCLUSION,
                decided_by="Board",
                board_decision_ref="BD-2027-14",
                starts_on=date(2028, 1, 1),
                ends_on=date(2029, 6, 1),
            ),
            today=today,
        )
        assert later.board_decision_ref == "BD-2027-14"
        assert await norwich.service.excluded_until(alert.id or 0, today) == date(2027, 12, 1)
        refusals = [a for a, o in await norwich.audit_actions() if o is AuditOutcome.REFUSED]
        assert refusals == ["notice.issue"] * 4

    async def test_a_notice_covers_the_member_shops_and_not_the_cctv_room_or_the_station(
        self, norwich: Norwich
    ) -> None:
        """Everyone who joins names a shop or business: the operator's control room and the
        officer's station must not be premises the person is told not to enter."""
        await member(norwich.store, norwich.scheme, 5_000_000_104, Role.POLICE)
        await member(norwich.store, norwich.scheme, 5_000_000_105, Role.MEMBER)
        boss = norwich.coordinator
        subject = await norwich.service.create_from_report(boss, (await norwich.report()).id or 0)
        await norwich.service.identify(
            boss, subject.id or 0, name="Dean Smith", basis="Named by PCSO Hale"
        )

        notice = await norwich.service.issue_notice(
            boss,
            subject.id or 0,
            NoticeTerms(stage=NoticeStage.EXCLUSION, decided_by="Board"),
            today=local_today(norwich.scheme),
        )

        assert notice.premises == ["Shop 102, London Street", "Shop 105, London Street"]

    async def test_service_and_an_appeal_are_recorded_and_decided(self, norwich: Norwich) -> None:
        boss = norwich.coordinator
        subject = await norwich.service.create_from_report(boss, (await norwich.report()).id or 0)
        sid = subject.id or 0
        await norwich.service.identify(boss, sid, name="Dean Smith", basis="Named by PCSO Hale")
        today = local_today(norwich.scheme)
        notice = await norwich.service.issue_notice(
            boss, sid, NoticeTerms(stage=NoticeStage.EXCLUSION, decided_by="Board"), today=today
        )
        nid = notice.id or 0

        with pytest.raises(InvalidInputError, match="no_appeal"):
            await norwich.service.decide_appeal(
                boss, nid, outcome=AppealOutcome.UPHELD, decided_on=today, decision_ref="B1"
            )
        await norwich.service.record_service(boss, nid, served_on=today, how="By hand, PCSO Hale")
        received = today + timedelta(days=18)
        for early, reason in (
            (today - timedelta(days=1), "appeal_before_issue"),
            (received + timedelta(days=1), "appeal_in_future"),
        ):
            with pytest.raises(InvalidInputError, match=reason):
                await norwich.service.record_appeal(
                    boss, nid, received_on=early, text="Not me", today=received
                )
        await norwich.service.record_appeal(
            boss, nid, received_on=received, text="I was at work that day", today=received
        )
        with pytest.raises(InvalidInputError, match="decided_before_appeal"):
            await norwich.service.decide_appeal(
                boss, nid, outcome=AppealOutcome.UPHELD, decided_on=today, decision_ref="B1"
            )
        six_months = today + timedelta(days=182)
        decided = await norwich.service.decide_appeal(
            boss,
            nid,
            outcome=AppealOutcome.VARIED,
            decided_on=today + timedelta(days=39),
            decision_ref="BD-2027-02",
            new_end=six_months,
        )

        assert (decided.served_on, decided.served_how) == (today, "By hand, PCSO Hale")
        assert (decided.appeal_outcome, decided.ends_on) == (
            AppealOutcome.VARIED,
            six_months,
        )
        assert decided.review_on == six_months

    async def test_service_and_appeal_count_the_day_of_issue_in_the_schemes_own_time(
        self, norwich: Norwich
    ) -> None:
        """Issued at 00:30 on 2 June in Norwich (23:30 on 1 June in UTC): the notice was not
        there on 1 June for anyone to be served with or to appeal against."""
        boss = norwich.coordinator
        subject = await norwich.service.create_from_report(boss, (await norwich.report()).id or 0)
        sid = subject.id or 0
        await norwich.service.identify(boss, sid, name="Dean Smith", basis="Named by PCSO Hale")
        june_2 = date(2027, 6, 2)
        notice = await norwich.service.issue_notice(
            boss, sid, NoticeTerms(stage=NoticeStage.EXCLUSION, decided_by="Board"), today=june_2
        )
        nid = notice.id or 0
        async with transaction(norwich.store.sessions, "issue it just after midnight") as session:
            await session.exec(
                update(Notice)
                .where(Notice.id == nid)  # type: ignore[arg-type]
                .values(issued_at=datetime(2027, 6, 1, 23, 30, tzinfo=UTC))
            )
        june_1 = june_2 - timedelta(days=1)

        with pytest.raises(InvalidInputError, match="served_before_issue"):
            await norwich.service.record_service(boss, nid, served_on=june_1, how="By hand")
        with pytest.raises(InvalidInputError, match="appeal_before_issue"):
            await norwich.service.record_appeal(
                boss, nid, received_on=june_1, text="Not me", today=june_2
            )
        served = await norwich.service.record_service(boss, nid, served_on=june_2, how="By hand")

        assert (served.served_on, served.appeal_received_on) == (june_2, None)

    async def test_grounds_too_long_for_an_appeal_are_refused_whole_not_cut(
        self, norwich: Norwich
    ) -> None:
        boss = norwich.coordinator
        subject = await norwich.service.create_from_report(boss, (await norwich.report()).id or 0)
        sid = subject.id or 0
        await norwich.service.identify(boss, sid, name="Dean Smith", basis="Named by PCSO Hale")
        today = local_today(norwich.scheme)
        notice = await norwich.service.issue_notice(
            boss, sid, NoticeTerms(stage=NoticeStage.EXCLUSION, decided_by="Board"), today=today
        )
        nid = notice.id or 0
        letter = "I was at work that day. " * 167  # 4,008 characters

        with pytest.raises(InvalidInputError, match="appeal_text_too_long: 4000"):
            await norwich.service.record_appeal(boss, nid, received_on=today, text=letter)
        assert (await norwich.store.subjects.notice(nid)).appeal_received_on is None
        whole = letter[:4000]
        recorded = await norwich.service.record_appeal(boss, nid, received_on=today, text=whole)

        assert recorded.appeal_text == whole.strip(), "whole, not cut"
        reasons = [
            e.detail.get("reason")
            for e in await norwich.store.audit.of_actions(None, ["notice.appeal"])
        ]
        assert reasons == ["appeal_text_too_long", None]

    async def test_of_two_appeals_recorded_at_the_same_moment_one_stands(
        self, norwich: Norwich
    ) -> None:
        """Two coordinators typing /appeal for the same letter at once: both find no appeal
        yet, but only the first save may stand, or the second's grounds silently replace
        the first's."""
        boss = norwich.coordinator
        subject = await norwich.service.create_from_report(boss, (await norwich.report()).id or 0)
        sid = subject.id or 0
        await norwich.service.identify(boss, sid, name="Dean Smith", basis="Named by PCSO Hale")
        today = local_today(norwich.scheme)
        notice = await norwich.service.issue_notice(
            boss, sid, NoticeTerms(stage=NoticeStage.EXCLUSION, decided_by="Board"), today=today
        )
        nid = notice.id or 0
        grounds = ("I was at work that day", "It was my brother")

        outcomes = await asyncio.gather(
            *(
                norwich.service.record_appeal(boss, nid, received_on=today, text=text)
                for text in grounds
            ),
            return_exceptions=True,
        )

        [refused] = [o for o in outcomes if isinstance(o, BaseException)]
        [stood] = [o for o in outcomes if not isinstance(o, BaseException)]
        assert isinstance(refused, InvalidInputError)
        assert refused.reason == "appeal_already_recorded"
        assert isinstance(stood, Notice)
        assert (await norwich.store.subjects.notice(nid)).appeal_text == stood.appeal_text
        reasons = [
            e.detail.get("reason")
            for e in await norwich.store.audit.of_actions(None, ["notice.appeal"])
        ]
        assert sorted(reasons, key=str) == [None, "appeal_already_recorded"]

    async def test_a_lapsed_subject_leaves_the_gallery_and_its_photos_go_once_no_report_holds_them(
        self, norwich: Norwich
    ) -> None:
        start = datetime(2026, 1, 5, 10, tzinfo=UTC)
        boss = norwich.coordinator
        sought = await norwich.service.create_from_report(
            boss,
            (await norwich.report(photo=cctv_still(4), occurred_at=start, created_at=start)).id
            or 0,
        )
        known = await norwich.service.create_from_report(
            boss,
            (await norwich.report(photo=cctv_still(5), occurred_at=start, created_at=start)).id
            or 0,
        )
        await norwich.service.identify(boss, known.id or 0, name="Dean Smith", basis="PCSO Hale")
        await norwich.service.issue_notice(
            boss,
            known.id or 0,
            NoticeTerms(stage=NoticeStage.EXCLUSION, decided_by="Board"),
            today=start.date(),
        )
        [sought_photo] = await norwich.store.subjects.photos(sought.id or 0)
        [known_photo] = await norwich.store.subjects.photos(known.id or 0)
        policy = norwich.service.config(norwich.scheme)

        counts = await expire_galleries(
            norwich.store, norwich.photos, norwich.scheme, policy, start + timedelta(days=91)
        )

        assert (counts.expired, counts.photo_files) == (1, 0)
        assert [s.id for s in await norwich.store.subjects.gallery([norwich.scheme.id or 0])] == [
            known.id
        ]
        assert norwich.photos.path(sought_photo.relative_path).exists(), "its report holds it"

        purged = await purge_expired(
            norwich.store, norwich.photos, norwich.scheme, start + timedelta(days=366)
        )

        assert (purged.reports, purged.photo_files) == (2, 1)
        assert not norwich.photos.path(sought_photo.relative_path).exists()
        assert norwich.photos.path(known_photo.relative_path).exists(), "the notice still runs"

        lapse = datetime(2027, 1, 6, tzinfo=UTC) + timedelta(days=policy.known_days)
        counts = await expire_galleries(
            norwich.store, norwich.photos, norwich.scheme, policy, lapse
        )

        assert (counts.expired, counts.photo_files) == (1, 1)
        assert await norwich.store.subjects.gallery([norwich.scheme.id or 0]) == []
        assert not norwich.photos.path(known_photo.relative_path).exists()
        expiry = [a for a, _ in await norwich.audit_actions() if a == "subjects.expiry"]
        assert len(expiry) == 2

    async def test_an_erased_subject_leaves_only_the_record_that_it_was_erased(
        self, norwich: Norwich
    ) -> None:
        alert = await norwich.report(photo=cctv_still(6))
        boss = norwich.coordinator
        subject = await norwich.service.create_from_report(boss, alert.id or 0)
        sid = subject.id or 0
        [photo] = await norwich.store.subjects.photos(sid)
        await norwich.store.reports.delete(alert.id or 0)

        erasure = await norwich.service.erase(boss, sid, "Wrong identification: twin brother")

        assert erasure.subject_id == sid
        with pytest.raises(NotFoundError):
            await norwich.store.subjects.get(sid)
        assert await norwich.store.subjects.erasure(sid) is not None
        assert not norwich.photos.path(photo.relative_path).exists()
        again = await norwich.service.create_from_report(boss, (await norwich.report()).id or 0)
        assert (again.id or 0) > sid, "an erased subject's number is never given again"


def test_the_ethnicity_descriptor_is_off_unless_the_scheme_turns_it_on() -> None:
    text = EXAMPLE_SCHEMES.read_text()
    assert parse_schemes(text).scheme("norwich").subjects.ethnicity_descriptor is False
    turned_on = text.replace(
        "retention_days = 180\n",
        "retention_days = 180\n\n  [scheme.subjects]\n  ethnicity_descriptor = true\n",
    )
    schemes = parse_schemes(turned_on)
    assert schemes.scheme("wymondham").subjects.ethnicity_descriptor is True
    assert schemes.scheme("wymondham").subjects.notice_months == 12
    assert schemes.scheme("norwich").subjects.ethnicity_descriptor is False


async def test_a_scheme_without_the_descriptor_refuses_it(
    synced_store: Store, schemes_file: SchemesFile, tmp_path: Path
) -> None:
    norwich = await town(synced_store, schemes_file, tmp_path)
    alert = await norwich.report()

    with pytest.raises(InvalidInputError, match="ethnicity_descriptor_off"):
        await norwich.service.create_from_report(
            norwich.operator, alert.id or 0, ethnicity_descriptor="White European"
        )
    assert await norwich.store.subjects.gallery([norwich.scheme.id or 0]) == []


def test_no_table_has_a_place_for_special_category_data() -> None:
    forbidden = ("religio", "faith", "health", "medical", "disab", "sexual", "orientation")
    columns = [
        f"{table.name}.{column.name}"
        for table in SQLModel.metadata.tables.values()
        for column in table.columns
    ]
    assert [c for c in columns if any(word in c for word in forbidden)] == []
    assert "subject.ethnicity_descriptor" in columns


def test_months_are_added_as_a_calendar_would() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 12, 2), 12) == date(2027, 12, 2)
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)


def test_a_period_of_months_counts_its_first_day_as_a_uk_letter_does() -> None:
    assert last_day(date(2026, 12, 3), 12) == date(2027, 12, 2)
    assert last_day(date(2026, 12, 3), 6) == date(2027, 6, 2)
    assert last_day(date(2026, 1, 1), 12) == date(2026, 12, 31)
    assert last_day(date(2027, 1, 31), 1) == date(2027, 2, 28), "no 31 February: to its end"
    assert last_day(date(2028, 2, 29), 12) == date(2029, 2, 28)
    assert last_day(date(2027, 1, 28), 1) == date(2027, 2, 27)
