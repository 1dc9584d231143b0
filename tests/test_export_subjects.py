"""The police export carries the scheme's subjects and notices, with the sources still protected.

The stories run on SQLite and, when SHOPWATCH_TEST_POSTGRES_URL is set, on PostgreSQL.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from broadcast.subjects.galleries import expire_galleries
from broadcast.subjects.notices import NoticeTerms
from broadcast.subjects.service import local_today
from config.schemes import SchemesFile
from config.vocabulary import NoticeStage
from storage.export.build import ExportResult, build_export
from storage.export.columns import NOTICE_COLUMNS, SUBJECT_COLUMNS
from storage.export.json_file import SCHEMA_FILE
from storage.export.period import ExportPeriod
from storage.export.records import ExportedBy
from storage.export.xlsx_file import NOTICES_SHEET, SUBJECTS_SHEET
from storage.store import Store
from tests.test_subjects import Norwich, cctv_still, town

WEEK = ExportPeriod(date(2026, 11, 30), date(2026, 12, 6), "Europe/London")
TUESDAY = datetime(2026, 12, 1, 11, tzinfo=UTC)
POLICE = ExportedBy("command line", "tester (command line)")


@pytest.fixture
async def norwich(synced_store: Store, schemes_file: SchemesFile, tmp_path: Path) -> Norwich:
    return await town(synced_store, schemes_file, tmp_path)


async def galleries(norwich: Norwich) -> dict[str, int]:
    """Dean (Known, excluded), an ID-sought woman, and a subject of last spring who has left
    the galleries."""
    boss, store = norwich.coordinator, norwich.store
    spring = datetime(2026, 3, 2, 10, tzinfo=UTC)
    at_boots = await norwich.report(
        photo=cctv_still(31),
        description="Took two bottles of gin, ran towards the market",
        at_premises=True,
        premises_shop="Shop 102",
        location_text="London Street",
        occurred_at=TUESDAY,
        created_at=TUESDAY,
    )
    dean = await norwich.service.create_from_report(
        norwich.operator, at_boots.id or 0, description="Scar on left cheek; seen in Shop 101"
    )
    await norwich.service.identify(
        boss, dean.id or 0, name="Dean Smith", basis="Named by the manager of Shop 102"
    )
    await norwich.service.tell(norwich.shopkeeper, dean.id or 0, "He drinks in the Bell")
    notice = await norwich.service.issue_notice(
        boss,
        dean.id or 0,
        NoticeTerms(
            stage=NoticeStage.EXCLUSION,
            decided_by="Board",
            board_decision_ref="BD-2026-31",
            conditions="Not to enter Shop 101 at all",
        ),
        today=date(2026, 12, 1),
    )
    await norwich.service.record_service(
        boss, notice.id or 0, served_on=local_today(norwich.scheme), how="By hand, PCSO Hale"
    )
    sought = await norwich.service.create_from_report(
        norwich.operator,
        (await norwich.report(photo=cctv_still(32), occurred_at=TUESDAY, created_at=TUESDAY)).id
        or 0,
        description="Female, red coat, limps",
    )
    old = await norwich.service.create_from_report(
        boss, (await norwich.report(occurred_at=spring, created_at=spring)).id or 0
    )
    await expire_galleries(
        store,
        norwich.photos,
        norwich.scheme,
        norwich.service.config(norwich.scheme),
        datetime(2026, 11, 1, tzinfo=UTC),
    )
    return {
        "dean": dean.id or 0,
        "sought": sought.id or 0,
        "old": old.id or 0,
        "notice": notice.id or 0,
    }


async def export(
    norwich: Norwich, tmp_path: Path, period: ExportPeriod = WEEK, name: str = "export"
) -> ExportResult:
    return await build_export(
        norwich.store,
        norwich.photos,
        norwich.scheme,
        period,
        tmp_path / name,
        exported_by=POLICE,
        via="command line",
        now=TUESDAY + timedelta(days=6),
    )


def pdf_text(result: ExportResult) -> str:
    pages = PdfReader(result.file("pdf").path).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


class TestExportedSubjects:
    async def test_every_file_carries_the_galleries_and_the_notices(
        self, norwich: Norwich, tmp_path: Path
    ) -> None:
        ids = await galleries(norwich)

        result = await export(norwich, tmp_path)

        document: dict[str, Any] = json.loads(result.file("json").path.read_text())
        subjects = {s["id"]: s for s in document["subjects"]}
        assert sorted(subjects) == sorted([ids["dean"], ids["sought"]]), "not the old one"
        dean = subjects[ids["dean"]]
        assert (dean["kind"], dean["name"], dean["excluded_until"]) == (
            "known",
            "Dean Smith",
            "2027-11-30",
        )
        assert dean["reference"] == f"NOR-S{ids['dean']:04d}"
        assert subjects[ids["sought"]]["description"] == "Female, red coat, limps"
        [notice] = document["notices"]
        assert (notice["reference"], notice["in_force"], notice["served_on"]) == (
            f"NOR-N{ids['notice']:04d}",
            True,
            local_today(norwich.scheme).isoformat(),
        )
        assert notice["premises_count"] == 1
        assert document["counts"]["subjects"] == 2
        schema = json.loads(SCHEMA_FILE.read_text())
        assert set(schema["required"]) <= document.keys()
        for subject in document["subjects"]:
            assert set(schema["$defs"]["subject"]["required"]) <= subject.keys()
        assert set(schema["$defs"]["notice"]["required"]) <= notice.keys()

        workbook = load_workbook(result.file("xlsx").path)
        subject_sheet, notice_sheet = workbook[SUBJECTS_SHEET], workbook[NOTICES_SHEET]
        assert [c.value for c in subject_sheet[1]] == [c.name for c in SUBJECT_COLUMNS]
        assert subject_sheet.max_row == 3
        assert [c.value for c in notice_sheet[1]] == [c.name for c in NOTICE_COLUMNS]
        assert [c.value for c in notice_sheet[2]][:6] == [
            ids["notice"],
            f"NOR-N{ids['notice']:04d}",
            ids["dean"],
            f"NOR-S{ids['dean']:04d}",
            "exclusion",
            "yes",
        ]

        text = pdf_text(result)
        assert "Subjects (2)" in text
        assert f"Subject NOR-S{ids['dean']:04d}: Dean Smith" in text
        assert "EXCLUDED until Tuesday, 30 November 2027" in text
        assert f"Notice NOR-N{ids['notice']:04d} · exclusion · in force" in text
        assert "board decision BD-2026-31" in text

        manifest = json.loads(result.file("manifest").path.read_text())
        by_subject = {sid: p["stored_file"] for p in manifest["photos"] for sid in p["subjects"]}
        assert by_subject == {ids["dean"]: "verified", ids["sought"]: "verified"}

        [entry] = [e for e in await norwich.store.audit.recent(50) if e.action == "export"]
        assert sorted(entry.detail["subject_ids"]) == sorted(subjects)
        assert entry.detail["notice_ids"] == [ids["notice"]]
        bundle = await norwich.service.subject_access(norwich.coordinator, ids["dean"])
        assert [d.by for d in bundle.disclosures if d.action == "export"] == [
            "police export (command line)"
        ]

        spring = ExportPeriod(date(2026, 3, 2), date(2026, 3, 8), "Europe/London")
        then = await export(norwich, tmp_path, spring, "spring")
        document = json.loads(then.file("json").path.read_text())
        statuses = {s["id"]: s["status"] for s in document["subjects"]}
        assert statuses == {ids["dean"]: "active", ids["sought"]: "active", ids["old"]: "expired"}

    async def test_no_file_names_a_shop_a_member_or_what_members_said(
        self, norwich: Norwich, tmp_path: Path
    ) -> None:
        await galleries(norwich)

        result = await export(norwich, tmp_path)

        workbook = load_workbook(result.file("xlsx").path, read_only=True)
        cells = " ".join(
            str(value)
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
            for value in row
            if value is not None
        )
        workbook.close()
        shown = {
            "xlsx": cells,
            "pdf": pdf_text(result),
            "json": result.file("json").path.read_text(),
            "csv": result.file("csv").path.read_text(encoding="utf-8-sig"),
        }
        for kind, text in shown.items():
            for secret in ("Shop 101", "Shop 102", "He drinks in the Bell", "user 5000000"):
                assert secret not in text, (kind, secret)
        document = json.loads(shown["json"])
        dean = next(s for s in document["subjects"] if s["name"] == "Dean Smith")
        assert dean["identification_basis"] == "Named by the manager of [member business]"
        assert dean["description"] == "Scar on left cheek; seen in [member business]"
        assert document["notices"][0]["conditions"] == "Not to enter [member business] at all"


async def test_an_export_of_a_scheme_without_subjects_adds_no_pages(
    synced_store: Store, schemes_file: SchemesFile, tmp_path: Path
) -> None:
    norwich = await town(synced_store, schemes_file, tmp_path)
    await norwich.report(occurred_at=TUESDAY, created_at=TUESDAY)

    result = await export(norwich, tmp_path)

    assert result.pages == 2
    document = json.loads(result.file("json").path.read_text())
    assert (document["subjects"], document["notices"]) == ([], [])
    assert "Subjects (" not in pdf_text(result)
