"""The Monday digest: each member hears last week's new faces, exclusions and incidents, once,
through the outbox, protected; never which shops reported; a member may stop it.

The stories run on SQLite and, when SHOPWATCH_TEST_POSTGRES_URL is set, on PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from broadcast.subjects.digest import run_weekly_digests
from broadcast.subjects.notices import NoticeTerms
from config.errors import AccessDeniedError
from config.schemes import SchemesFile
from config.vocabulary import Category, EventKind, NoticeStage, ReportSource, ReportStatus, Role
from storage.models import OutboxRow, ReportEvent, Scheme
from storage.outbox_payloads import MessagePayload, read
from storage.store import Store
from storage.subject_models import Subject
from storage.transaction import transaction
from tests.test_subjects import NORWICH_COORDINATOR, Norwich, cctv_still, member, town
from tests.town import Town

TUESDAY = datetime(2026, 11, 3, 10, tzinfo=UTC)
MONDAY_MORNING = datetime(2026, 11, 9, 7, 30, tzinfo=UTC)  # 07:30 GMT: the export is due
QUIET = 5_000_000_104
OFFICER = 6_000_000_105


@pytest.fixture
async def norwich(synced_store: Store, schemes_file: SchemesFile, tmp_path: Path) -> Norwich:
    """Norwich, in the log since the spring (a digest is owed only from a scheme's start)."""
    async with transaction(synced_store.sessions, "backdate the schemes") as session:
        await session.exec(update(Scheme).values(created_at=datetime(2026, 3, 1, tzinfo=UTC)))
    return await town(synced_store, schemes_file, tmp_path)


async def created_on(store: Store, subject_id: int, when: datetime) -> None:
    """The subject as if made `when` (the service stamps the real time)."""
    async with transaction(store.sessions, "backdate the subject") as session:
        await session.exec(
            update(Subject).where(Subject.id == subject_id).values(created_at=when)  # type: ignore[arg-type]
        )


async def last_week(norwich: Norwich) -> dict[str, int]:
    """Three thefts and a sighting from two shops, a withdrawn and a neighbour's report,
    one new ID-sought face, Dean excluded on Wednesday and Ann's exclusion ending Friday."""
    boss, op = norwich.coordinator, norwich.operator
    at: dict[str, Any] = {"occurred_at": TUESDAY, "created_at": TUESDAY}
    sighting = await norwich.report(photo=cctv_still(41), **at)
    await norwich.report(**at)
    await norwich.report(category=Category.SUSPICIOUS, **at)
    await norwich.report(member_id=op.member.id, **at)
    withdrawn = await norwich.report(**at)
    await norwich.store.reports.add_event(
        ReportEvent(report_id=withdrawn.id or 0, kind=EventKind.STATUS, status="withdrawn"),
        changes={"status": ReportStatus.WITHDRAWN},
    )
    await norwich.report(member_id=None, source=ReportSource.FEDERATION, **at)
    earlier = TUESDAY - timedelta(days=7)
    await norwich.report(occurred_at=earlier, created_at=earlier)

    sought = await norwich.service.create_from_report(
        op, sighting.id or 0, description="Female, red coat, limps"
    )
    await created_on(norwich.store, sought.id or 0, TUESDAY)
    dean = await norwich.service.create_from_report(boss, (await norwich.report(**at)).id or 0)
    await norwich.service.identify(boss, dean.id or 0, name="Dean Smith", basis="PCSO Hale")
    await created_on(norwich.store, dean.id or 0, TUESDAY)
    excluded = await norwich.service.issue_notice(
        boss,
        dean.id or 0,
        NoticeTerms(stage=NoticeStage.EXCLUSION, decided_by="Board"),
        today=date(2026, 11, 4),
    )
    ann = await norwich.service.create_from_report(boss, (await norwich.report(**at)).id or 0)
    await norwich.service.identify(boss, ann.id or 0, name="Ann Jones", basis="PCSO Hale")
    await created_on(norwich.store, ann.id or 0, TUESDAY - timedelta(days=400))
    ended = await norwich.service.issue_notice(
        boss,
        ann.id or 0,
        NoticeTerms(
            stage=NoticeStage.EXCLUSION,
            decided_by="Board",
            starts_on=date(2025, 11, 7),
            ends_on=date(2026, 11, 6),
        ),
        today=date(2025, 11, 7),
    )
    return {
        "sought": sought.id or 0,
        "dean": dean.id or 0,
        "ann": ann.id or 0,
        "excluded": excluded.id or 0,
        "ended": ended.id or 0,
    }


async def digests(store: Store) -> dict[int, list[OutboxRow]]:
    by_chat: dict[int, list[OutboxRow]] = {}
    for row in sorted(await store.outbox.by_dedupe_prefix("digest:"), key=lambda r: r.id or 0):
        by_chat.setdefault(row.chat_id, []).append(row)
    return by_chat


class TestWeeklyDigest:
    async def test_each_member_gets_last_weeks_summary_and_the_new_faces_once(
        self, norwich: Norwich, schemes_file: SchemesFile
    ) -> None:
        ids = await last_week(norwich)
        quiet = await member(norwich.store, norwich.scheme, QUIET, Role.MEMBER)
        await member(norwich.store, norwich.scheme, OFFICER, Role.POLICE)
        await norwich.service.set_digest(quiet, on=False)

        [run] = await run_weekly_digests(
            norwich.store, schemes_file, MONDAY_MORNING, only="norwich"
        )

        assert (run.outcome, run.recipients, run.period.first) == ("sent", 3, date(2026, 11, 2))
        sent = await digests(norwich.store)
        assert set(sent) == {
            NORWICH_COORDINATOR,
            norwich.operator.telegram_id,
            norwich.shopkeeper.telegram_id,
        }
        summary_row, card_row = sent[norwich.shopkeeper.telegram_id]
        summary, card = read(summary_row, MessagePayload), read(card_row, MessagePayload)
        assert summary.text == "\n".join(
            [
                "Norwich ShopWatch: last week, 2 Nov 2026 to 8 Nov 2026",
                "",
                "New ID sought: 1. Do you know them?",
                "Their photos follow; tell a coordinator privately if you do.",
                f"- Subject #{ids['sought']}: Female, red coat, limps",
                "",
                "New exclusions:",
                f"- Dean Smith (NOR-N{ids['excluded']:04d}), until 3 Nov 2027",
                "Exclusions ended (no longer excluded):",
                f"- Ann Jones (NOR-N{ids['ended']:04d}), ended 6 Nov 2026",
                "",
                "Incidents logged: 6 (theft 5, suspicious 1).",
                "2 member shops reported.",
                "",
                "For members only: please do not copy, forward or share. This digest goes every "
                "Monday; a coordinator can stop it for you.",
            ]
        )
        [photo] = await norwich.store.subjects.photos(ids["sought"])
        assert card.photos == (photo.relative_path,)
        assert card.text.startswith(f"ID sought: Subject #{ids['sought']}\n")
        for payload in (summary, card):
            assert payload.protect_content is True
            assert payload.delete_after_hours == 36
        for shop in ("Shop 101", "Shop 102", "user 5000000"):
            assert shop not in summary.text

        again = await run_weekly_digests(
            norwich.store, schemes_file, MONDAY_MORNING + timedelta(1), only="norwich"
        )
        assert [r.outcome for r in again] == ["already_done"]
        assert await digests(norwich.store) == sent
        audit = [
            e.detail
            for e in await norwich.store.audit.recent(100, scheme_id=norwich.scheme.id)
            if e.action == "subject.digest"
        ]
        assert audit == [
            {
                "period": run.period.key,
                "subject_ids": sorted(ids[k] for k in ("sought", "dean", "ann")),
                "recipients": 3,
                "incidents": 6,
            }
        ]
        bundle = await norwich.service.subject_access(norwich.coordinator, ids["sought"])
        assert [(d.action, d.by) for d in bundle.disclosures] == [
            ("subject.digest", "ShopWatch (scheduled)")
        ]

    async def test_a_scheme_new_since_is_owed_no_digest_for_the_week_before_it(
        self, norwich: Norwich, schemes_file: SchemesFile
    ) -> None:
        async with transaction(norwich.store.sessions, "a scheme of today") as session:
            await session.exec(
                update(Scheme).values(created_at=MONDAY_MORNING + timedelta(days=1))
            )

        [run] = await run_weekly_digests(
            norwich.store, schemes_file, MONDAY_MORNING, only="norwich"
        )

        assert run.outcome == "not_due"
        assert await digests(norwich.store) == {}

    async def test_before_monday_seven_the_week_before_is_the_one_due(
        self, norwich: Norwich, schemes_file: SchemesFile
    ) -> None:
        await last_week(norwich)

        [run] = await run_weekly_digests(
            norwich.store, schemes_file, MONDAY_MORNING - timedelta(hours=1), only="norwich"
        )

        assert run.period.first == date(2026, 10, 26)
        assert run.digest is not None
        assert (run.digest.sought, sum(run.digest.incidents.values())) == ((), 1)

    async def test_a_member_stops_their_own_digest_and_only_a_coordinator_stops_anothers(
        self, norwich: Norwich
    ) -> None:
        shopkeeper, operator = norwich.shopkeeper, norwich.operator

        stopped = await norwich.service.set_digest(shopkeeper, on=False)
        assert stopped.weekly_digest is False
        with pytest.raises(AccessDeniedError):
            await norwich.service.set_digest(
                operator, on=True, telegram_user_id=shopkeeper.telegram_id
            )
        again = await norwich.service.set_digest(
            norwich.coordinator, on=True, telegram_user_id=shopkeeper.telegram_id
        )
        assert again.weekly_digest is True
        outcomes = [
            (e.action, e.outcome.value, e.detail.get("on"))
            for e in reversed(await norwich.store.audit.recent(10, scheme_id=norwich.scheme.id))
        ]
        assert outcomes == [
            ("member.digest", "allowed", False),
            ("member.digest", "refused", True),
            ("member.digest", "allowed", True),
        ]


async def test_the_digest_goes_out_on_monday_at_eight_in_each_schemes_timezone(
    polling_town: Town,
) -> None:
    queue = polling_town.runtime.application.job_queue
    assert queue is not None
    jobs = {job.name: job for job in queue.jobs()}

    for scheme in polling_town.schemes.schemes:
        weekly = jobs[f"digest:{scheme.slug}"]
        assert weekly.next_t is not None
        local = weekly.next_t.astimezone(ZoneInfo(scheme.timezone))
        assert (local.strftime("%A"), local.hour, local.minute) == ("Monday", 8, 0)
        assert weekly.next_t - datetime.now(UTC) <= timedelta(days=7, hours=1)
