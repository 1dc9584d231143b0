"""The nightly run on people: reminders of reviews and ends reach coordinators once, through the
outbox, and a lapsed subject leaves the galleries with its photos once nothing holds them.

The stories run on SQLite and, when SHOPWATCH_TEST_POSTGRES_URL is set, on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from broadcast.subjects.notices import NoticeTerms
from broadcast.subjects.reminders import run_nightly
from broadcast.subjects.service import local_today
from config.schemes import SchemesFile
from config.vocabulary import AppealOutcome, NoticeStage, OutboxKind, Role
from storage.outbox_payloads import MessagePayload, read
from storage.retention import purge_expired
from storage.store import Store
from tests.test_subjects import NORWICH_COORDINATOR, Norwich, cctv_still, member, town
from tests.town import Town

ISSUED = datetime(2026, 12, 2, 10, tzinfo=UTC)
SECOND_COORDINATOR = 5_000_000_103


@pytest.fixture
async def norwich(synced_store: Store, schemes_file: SchemesFile, tmp_path: Path) -> Norwich:
    return await town(synced_store, schemes_file, tmp_path)


async def reminders_to(norwich: Norwich, chat_id: int) -> list[str]:
    rows = [
        row
        for prefix in ("notice-review:", "notice-end:")
        for row in await norwich.store.outbox.by_dedupe_prefix(prefix)
        if row.chat_id == chat_id
    ]
    assert all(row.kind is OutboxKind.MESSAGE for row in rows)
    return [read(row, MessagePayload).text for row in sorted(rows, key=lambda r: r.id or 0)]


async def excluded(norwich: Norwich, seed: int, name: str) -> tuple[int, int, str]:
    """A Known subject from a photo alert of ISSUED, excluded from that day: (subject, notice,
    the photo's file)."""
    boss = norwich.coordinator
    alert = await norwich.report(photo=cctv_still(seed), occurred_at=ISSUED, created_at=ISSUED)
    subject = await norwich.service.create_from_report(boss, alert.id or 0)
    await norwich.service.identify(boss, subject.id or 0, name=name, basis="Named by PCSO Hale")
    notice = await norwich.service.issue_notice(
        boss,
        subject.id or 0,
        NoticeTerms(stage=NoticeStage.EXCLUSION, decided_by="Board", board_decision_ref="B1"),
        today=ISSUED.date(),
    )
    [photo] = await norwich.store.subjects.photos(subject.id or 0)
    return subject.id or 0, notice.id or 0, photo.relative_path


class TestNightly:
    async def test_coordinators_hear_of_the_review_and_the_end_once_each(
        self, norwich: Norwich, schemes_file: SchemesFile
    ) -> None:
        second = await member(norwich.store, norwich.scheme, SECOND_COORDINATOR, Role.COORDINATOR)
        sid, nid, _ = await excluded(norwich, 8, "Dean Smith")
        night = datetime(2027, 5, 18, 2, 45, tzinfo=UTC)  # 03:45 in Norwich, summer time

        await run_nightly(norwich.store, norwich.photos, schemes_file, night)
        assert await reminders_to(norwich, NORWICH_COORDINATOR) == []

        for _ in range(2):  # the next night, and a second run of it
            await run_nightly(norwich.store, norwich.photos, schemes_file, night + timedelta(1))

        review = (
            f"Notice NOR-N{nid:04d} on Dean Smith (Subject #{sid}) is due for review on "
            "2 Jun 2027. No incident has been linked to them since it began: the board may end "
            "it early."
        )
        assert await reminders_to(norwich, NORWICH_COORDINATOR) == [review]
        assert await reminders_to(norwich, second.telegram_id) == [review]
        assert await reminders_to(norwich, norwich.shopkeeper.telegram_id) == []

        await run_nightly(
            norwich.store, norwich.photos, schemes_file, datetime(2027, 11, 16, 3, tzinfo=UTC)
        )
        assert await reminders_to(norwich, NORWICH_COORDINATOR) == [review]
        await run_nightly(
            norwich.store, norwich.photos, schemes_file, datetime(2027, 11, 17, 3, tzinfo=UTC)
        )
        assert (await reminders_to(norwich, NORWICH_COORDINATOR))[1:] == [
            f"Notice NOR-N{nid:04d} on Dean Smith (Subject #{sid}) ends on 1 Dec 2027. "
            "After that they are no longer excluded unless the board issues a new notice."
        ]
        notice = await norwich.store.subjects.notice(nid)
        assert notice.review_reminded_at is not None
        assert notice.expiry_reminded_at is not None
        audits = [
            e.detail
            for e in reversed(await norwich.store.audit.recent(100, scheme_id=norwich.scheme.id))
            if e.action == "notices.reminders"
        ]
        assert audits == [
            {"review_notice_ids": [nid], "end_notice_ids": [], "messages": 2},
            {"review_notice_ids": [], "end_notice_ids": [nid], "messages": 2},
        ]

    async def test_the_review_reminder_names_the_incidents_since_the_notice_began(
        self, norwich: Norwich, schemes_file: SchemesFile
    ) -> None:
        """Free of incidents is the ground for an early end: the reminder says whether it is,
        counting a linked report by when it happened, not by when it was linked."""
        sid, nid, _ = await excluded(norwich, 12, "Dean Smith")
        issued = (await norwich.store.subjects.notice(nid)).issued_at
        before = await norwich.report(occurred_at=issued - timedelta(days=3))
        after = await norwich.report(occurred_at=issued + timedelta(days=40))
        for report in (before, after):
            await norwich.service.link(norwich.coordinator, sid, report.id or 0)

        await run_nightly(
            norwich.store, norwich.photos, schemes_file, datetime(2027, 5, 20, 3, tzinfo=UTC)
        )

        assert await reminders_to(norwich, NORWICH_COORDINATOR) == [
            f"Notice NOR-N{nid:04d} on Dean Smith (Subject #{sid}) is due for review on "
            f"2 Jun 2027. 1 incident linked to them since it began (report #{after.id}): not "
            "free of incidents, so it runs to its end unless the board decides otherwise."
        ]

    async def test_an_overturned_notice_is_not_reminded_and_a_missed_review_is_reminded_late(
        self, norwich: Norwich, schemes_file: SchemesFile
    ) -> None:
        _, overturned, _ = await excluded(norwich, 9, "Dean Smith")
        _, missed, _ = await excluded(norwich, 10, "Ann Jones")
        boss = norwich.coordinator
        received = local_today(norwich.scheme)
        await norwich.service.record_appeal(boss, overturned, received_on=received, text="Not me")
        await norwich.service.decide_appeal(
            boss,
            overturned,
            outcome=AppealOutcome.OVERTURNED,
            decided_on=received + timedelta(days=10),
            decision_ref="B2",
        )

        await run_nightly(
            norwich.store, norwich.photos, schemes_file, datetime(2027, 6, 20, 3, tzinfo=UTC)
        )

        texts = await reminders_to(norwich, NORWICH_COORDINATOR)
        assert len(texts) == 1
        assert texts[0].startswith(f"Notice NOR-N{missed:04d} on Ann Jones")

    async def test_a_lapsed_subject_leaves_and_its_photo_goes_once_no_report_holds_it(
        self, norwich: Norwich, schemes_file: SchemesFile
    ) -> None:
        sid, _, photo = await excluded(norwich, 11, "Dean Smith")
        policy = schemes_file.scheme("norwich").subjects
        store, photos = norwich.store, norwich.photos

        # A year on, retention takes the report; the notice ended on 1 Dec 2027, but a Known
        # subject stays known_days after that.
        await purge_expired(store, photos, norwich.scheme, ISSUED + timedelta(days=366))
        await run_nightly(store, photos, schemes_file, ISSUED + timedelta(days=366))
        assert [s.id for s in await store.subjects.gallery([norwich.scheme.id or 0])] == [sid]
        assert photos.path(photo).exists(), "the subject still holds it"

        lapse = datetime(2027, 12, 2, tzinfo=ZoneInfo("Europe/London")) + timedelta(
            days=policy.known_days
        )
        await run_nightly(store, photos, schemes_file, lapse - timedelta(hours=1))
        assert [s.id for s in await store.subjects.gallery([norwich.scheme.id or 0])] == [sid]
        [run] = await run_nightly(store, photos, schemes_file, lapse, only="norwich")

        assert (run.expiry.expired, run.expiry.photo_files) == (1, 1)
        assert await store.subjects.gallery([norwich.scheme.id or 0]) == []
        assert not photos.path(photo).exists()
        expiry = next(
            e.detail
            for e in await store.audit.recent(100, scheme_id=norwich.scheme.id)
            if e.action == "subjects.expiry"
        )
        assert expiry == {
            "subject_ids": [sid],
            "expired": 1,
            "photos": 1,
            "photo_files": 1,
            "deleted": 0,
        }


async def test_the_galleries_run_every_night_at_a_quarter_to_four_in_each_schemes_timezone(
    polling_town: Town,
) -> None:
    queue = polling_town.runtime.application.job_queue
    assert queue is not None
    jobs = {job.name: job for job in queue.jobs()}

    for scheme in polling_town.schemes.schemes:
        nightly = jobs[f"subjects:{scheme.slug}"]
        assert nightly.next_t is not None
        local = nightly.next_t.astimezone(ZoneInfo(scheme.timezone))
        assert (local.hour, local.minute) == (3, 45)
        assert nightly.next_t - datetime.now(UTC) <= timedelta(days=1, hours=1)
