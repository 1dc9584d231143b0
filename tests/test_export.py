"""The weekly police export: four files and a manifest the police can trust, graded 3x5x2.

The storage stories run on SQLite and, when SHOPWATCH_TEST_POSTGRES_URL is set,
on PostgreSQL; the bot stories run the real bot against the sandbox.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import re
import stat
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from pypdf import PdfReader
from sqlmodel import col, select

from bot.cli import main
from bot.jobs import START_UP_JOB
from bot.runtime import BotRuntime
from broadcast.exports import run_weekly_exports
from broadcast.texts import export as export_texts
from broadcast.texts import grading as grading_texts
from broadcast.texts import refusals as refusal_texts
from config.errors import ExportFailedError, InvalidInputError, NotFoundError, Refusal
from config.schemes import load_schemes
from config.vocabulary import (
    AuditOutcome,
    Category,
    EventKind,
    HandlingCode,
    IntelligenceAssessment,
    ReportSource,
    ReportStatus,
    Role,
    SourceEvaluation,
    Urgency,
)
from sandbox import MessageView, Person
from storage.export.build import ExportResult, build_export
from storage.export.columns import REPORT_COLUMNS, WITNESS_COLUMNS
from storage.export.json_file import SCHEMA_FILE
from storage.export.period import (
    MAX_DAYS,
    ExportPeriod,
    due_week,
    last_full_week,
    parse_period,
    weekly_run_time,
)
from storage.export.records import ExportedBy
from storage.export.xlsx_file import EVENTS_SHEET, REPORTS_SHEET
from storage.grading import GradingPart, grading_of, regrade
from storage.models import (
    DESCRIPTOR_COLUMNS,
    PERSON_COLUMNS,
    AuditEntry,
    Report,
    ReportEvent,
    Scheme,
    utcnow,
)
from storage.photos import PhotoStore
from storage.retention import purge_expired
from storage.store import Store
from storage.transaction import transaction
from tests.export_seed import SHOPS, add_member, as_row, photo_bytes, seed_shops, seed_week
from tests.storage_fixtures import command_line_deployment
from tests.town import EXAMPLE_SCHEMES, Town

LONDON = ZoneInfo("Europe/London")
NOVEMBER_WEEK = ExportPeriod(date(2026, 11, 2), date(2026, 11, 8), "Europe/London")
CLOCKS_GO_BACK_WEEK = ExportPeriod(date(2026, 10, 19), date(2026, 10, 25), "Europe/London")
CAROL = ExportedBy("person", "Carol (NOR-M0001, coordinator)", telegram_user_id=700001)


async def norwich(store: Store) -> Scheme:
    return await store.schemes.get_by_slug("norwich")


async def export(
    store: Store,
    photos: PhotoStore,
    scheme: Scheme,
    period: ExportPeriod,
    out: Path,
    *,
    witness_contact: bool = False,
    apart: bool = True,
) -> ExportResult:
    return await build_export(
        store,
        photos,
        scheme,
        period,
        out,
        exported_by=CAROL,
        via="test",
        witness_contact=witness_contact,
        now=datetime(2026, 11, 9, 9, 30, tzinfo=UTC),
        apart=apart,
    )


def csv_rows(result: ExportResult) -> list[dict[str, str]]:
    with result.file("csv").path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def csv_header(result: ExportResult) -> list[str]:
    with result.file("csv").path.open(encoding="utf-8-sig", newline="") as handle:
        return next(csv.reader(handle))


def every_file_as_text(result: ExportResult) -> str:
    """What a reader of any of the files could see, as text."""
    parts = [result.file(kind).path.read_text(encoding="utf-8-sig") for kind in ("csv", "json")]
    workbook = load_workbook(result.file("xlsx").path, read_only=True)
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows(values_only=True):
            parts.append(" ".join("" if v is None else str(v) for v in row))
    workbook.close()
    parts.extend(page.extract_text() for page in PdfReader(result.file("pdf").path).pages)
    parts.append(result.file("manifest").path.read_text(encoding="utf-8"))
    return "\n".join(parts)


class TestTheExportOfAWeek:
    """Storage stories, on both databases."""

    async def test_a_busy_week_becomes_csv_xlsx_pdf_json_and_a_manifest_that_vouches_for_them(
        self, synced_store: Store, tmp_path: Path
    ) -> None:
        store = synced_store
        photos = PhotoStore(tmp_path / "photos")
        scheme = await norwich(store)
        week = await seed_week(store, photos, scheme, NOVEMBER_WEEK, reports=200, photo_count=60)
        ids = {r.id or 0 for r in week.reports}

        result = await export(store, photos, scheme, NOVEMBER_WEEK, tmp_path / "out")

        assert [f.kind for f in result.files] == ["csv", "xlsx", "pdf", "json", "manifest"]
        assert (result.reports, result.photos) == (200, 60)
        assert stat.S_IMODE(result.directory.stat().st_mode) == 0o700
        for file in result.files:
            assert stat.S_IMODE(file.path.stat().st_mode) == 0o600, file.name
        assert result.file("csv").name == "shopwatch-norwich-2026-11-02-to-2026-11-08.csv"

        # CSV: one row per report, the documented columns, every category, graded.
        rows = csv_rows(result)
        assert csv_header(result) == [c.name for c in REPORT_COLUMNS]
        assert {int(r["report_id"]) for r in rows} == ids
        assert {r["category"] for r in rows} == {c.value for c in Category}
        assert all(r["logged_at"].endswith("+00:00") for r in rows), "GMT in November"
        graded = {int(r["report_id"]): r["grading"] for r in rows}
        assert {graded[i] for i in week.cctv_confirmed} == {"1/A/P"}
        assert {r["grading"] for r in rows if r["source"] == "chat"} - {"1/A/P"} == {"2/A/P"}
        assert {r["grading"] for r in rows if r["source"] == "federation"} == {"2/C/P"}
        for row in rows:
            code = f"{row['source_evaluation']}/{row['intelligence_assessment']}"
            assert f"{code}/{row['handling_code']}" == row["grading"]
        assert sum(int(r["photo_count"]) for r in rows) == 60 + 40

        # XLSX: the same columns with a frozen, filterable header, and the events.
        workbook = load_workbook(result.file("xlsx").path)
        reports_sheet, events_sheet = workbook[REPORTS_SHEET], workbook[EVENTS_SHEET]
        header = [cell.value for cell in reports_sheet[1]]
        assert header == [c.name for c in REPORT_COLUMNS]
        assert reports_sheet.max_row == 201
        assert reports_sheet.freeze_panes == "A2"
        last = get_column_letter(len(REPORT_COLUMNS))
        assert reports_sheet.auto_filter.ref == f"A1:{last}201"
        grading_column = header.index("grading") + 1
        assert {reports_sheet.cell(row=n, column=grading_column).value for n in range(2, 202)} == {
            "1/A/P",
            "2/A/P",
            "2/C/P",
        }
        assert events_sheet.max_row == week.events + 1
        assert events_sheet.freeze_panes == "A2"

        # PDF: a cover, then every report on a page of its own with its grading.
        pdf = PdfReader(result.file("pdf").path)
        assert len(pdf.pages) == 201 == result.pages
        cover = pdf.pages[0].extract_text()
        assert "Norwich ShopWatch" in cover
        assert "Monday, 2 November 2026 to Sunday, 8 November 2026" in cover
        assert "theft" in cover
        assert "Incidents by day" in cover
        headings = [re.match(r"Report (\d+)\b", page.extract_text()) for page in pdf.pages[1:]]
        assert {int(h.group(1)) for h in headings if h} == ids
        confirmed = next(iter(week.cctv_confirmed))
        page = pdf.pages[sorted(ids).index(confirmed) + 1].extract_text()
        assert "1/A/P" in page
        assert "confirmed on CCTV" in page

        # JSON: what the schema promises, for every report.
        document = json.loads(result.file("json").path.read_text(encoding="utf-8"))
        schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
        assert set(schema["required"]) <= document.keys()
        assert document["counts"]["reports"] == len(document["reports"]) == 200
        assert document["period"] == {
            "from": "2026-11-02",
            "to": "2026-11-08",
            "start": "2026-11-02T00:00:00+00:00",
            "end": "2026-11-09T00:00:00+00:00",
        }
        report_required = set(schema["$defs"]["report"]["required"])
        for report in document["reports"]:
            assert report_required <= report.keys()
            assert "witness" not in report
        assert {len(r["photos"]) for r in document["reports"]} == {0, 1, 2}

        # The manifest: every file's hash matches, every photo is there and intact.
        manifest = json.loads(result.file("manifest").path.read_text(encoding="utf-8"))
        assert manifest["exported_by"]["description"] == CAROL.description
        listed = {f["name"]: f["sha256"] for f in manifest["files"]}
        assert listed.keys() == {f.name for f in result.files if f.kind != "manifest"}
        for file in result.files[:-1]:
            assert hashlib.sha256(file.path.read_bytes()).hexdigest() == listed[file.name]
        assert {p["sha256"] for p in manifest["photos"]} == week.photo_hashes
        assert {p["stored_file"] for p in manifest["photos"]} == {"verified"}

        # The audit trail names the export and vouches for the manifest.
        [entry] = [e for e in await store.audit.recent() if e.action == "export"]
        assert entry.outcome == AuditOutcome.ALLOWED
        assert entry.actor_telegram_id == 700001
        assert entry.detail["reports"] == 200
        assert entry.detail["witness_contact"] is False
        assert entry.detail["manifest_sha256"] == result.file("manifest").sha256

    async def test_the_bots_export_written_by_a_process_of_its_own_is_the_same_export(
        self, synced_store: Store, tmp_path: Path
    ) -> None:
        """The bot's exports are read and written by a child process; the command line
        writes its own. Both read the same log into the same files, audited alike."""
        store = synced_store
        photos = PhotoStore(tmp_path / "photos")
        scheme = await norwich(store)
        await seed_week(store, photos, scheme, NOVEMBER_WEEK, reports=30, photo_count=6)

        apart = await export(store, photos, scheme, NOVEMBER_WEEK, tmp_path / "apart")
        here = await export(store, photos, scheme, NOVEMBER_WEEK, tmp_path / "here", apart=False)

        assert (apart.reports, apart.photos, apart.pages) == (
            here.reports,
            here.photos,
            here.pages,
        )
        assert (apart.reports, apart.photos) == (30, 6)
        for kind in ("csv", "json"):
            assert apart.file(kind).path.read_bytes() == here.file(kind).path.read_bytes(), kind
        assert [f.name for f in apart.files] == [f.name for f in here.files]
        audited = [e for e in await store.audit.recent(10) if e.action == "export"]
        assert len(audited) == 2
        first, second = (dict(e.detail, files=None, manifest_sha256=None) for e in audited)
        assert first == second

    async def test_an_export_whose_process_fails_is_an_error_and_is_not_audited_as_made(
        self, synced_store: Store, tmp_path: Path
    ) -> None:
        store = synced_store
        photos = PhotoStore(tmp_path / "photos")
        scheme = await norwich(store)
        (tmp_path / "exports").write_text("a file where the exports' folder should be")

        with pytest.raises(ExportFailedError):
            await export(store, photos, scheme, NOVEMBER_WEEK, tmp_path / "exports" / "week")

        assert [e for e in await store.audit.recent(10) if e.action == "export"] == []

    async def test_shops_are_named_by_reference_unless_the_coordinator_asks_for_witness_contact(
        self, synced_store: Store, tmp_path: Path
    ) -> None:
        store = synced_store
        photos = PhotoStore(tmp_path / "photos")
        scheme = await norwich(store)
        week = await seed_week(store, photos, scheme, NOVEMBER_WEEK, reports=12, photo_count=3)
        priya = week.shops[0]

        protected = await export(store, photos, scheme, NOVEMBER_WEEK, tmp_path / "a")
        seen = every_file_as_text(protected)
        assert f"NOR-M{priya.id:04d}" in seen
        for name, username, shop, street in SHOPS:
            for detail in (name, username, shop, street):
                if detail:
                    assert detail not in seen, f"{detail!r} leaked into the export"
        assert str(priya.telegram_user_id) not in seen

        witness = await export(
            store, photos, scheme, NOVEMBER_WEEK, tmp_path / "b", witness_contact=True
        )
        assert csv_header(witness) == [c.name for c in REPORT_COLUMNS + WITNESS_COLUMNS]
        assert witness.file("csv").name.endswith("-witness-contact.csv")
        rows = [r for r in csv_rows(witness) if r["reported_by"] == f"NOR-M{priya.id:04d}"]
        assert rows
        assert {(r["witness_name"], r["witness_shop"], r["witness_street"]) for r in rows} == {
            ("Priya Shah", "Shah's Pharmacy", "Orford Hill")
        }
        assert {r["witness_telegram_id"] for r in rows} == {str(priya.telegram_user_id)}
        radio = [r for r in csv_rows(witness) if r["source"] == "radio"]
        assert radio
        assert {r["witness_name"] for r in radio} == {""}
        assert "WITNESS CONTACT DETAILS INCLUDED" in every_file_as_text(witness)
        exports = [e for e in await store.audit.recent() if e.action == "export"]
        assert [e.detail["witness_contact"] for e in exports] == [True, False]

    async def test_a_week_is_monday_to_sunday_in_the_schemes_time_even_when_the_clocks_go_back(
        self, synced_store: Store, tmp_path: Path
    ) -> None:
        store = synced_store
        photos = PhotoStore(tmp_path / "photos")
        scheme = await norwich(store)
        shops, _ = await seed_shops(store, scheme)
        assert scheme.id is not None

        async def logged(moment: datetime, description: str) -> None:
            await store.reports.create(
                Report(
                    scheme_id=scheme.id or 0,
                    member_id=shops[0].id,
                    created_at=moment,
                    occurred_at=moment,
                    category=Category.THEFT,
                    urgency=Urgency.NOW,
                    description=description,
                )
            )

        await logged(datetime(2026, 10, 18, 22, 59, tzinfo=UTC), "Sunday 23:59 BST: week before")
        await logged(datetime(2026, 10, 18, 23, 0, tzinfo=UTC), "Monday 00:00 BST: first")
        await logged(datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "01:30 BST, before the change")
        await logged(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "01:30 GMT, after the change")
        await logged(datetime(2026, 10, 25, 23, 59, tzinfo=UTC), "Sunday 23:59 GMT: last")
        await logged(datetime(2026, 10, 26, 0, 0, tzinfo=UTC), "Monday 00:00 GMT: next week")

        result = await export(store, photos, scheme, CLOCKS_GO_BACK_WEEK, tmp_path / "out")

        week = CLOCKS_GO_BACK_WEEK
        assert week.end.astimezone(UTC) - week.start.astimezone(UTC) == timedelta(hours=169)
        assert [(r["description"], r["logged_at"]) for r in csv_rows(result)] == [
            ("Monday 00:00 BST: first", "2026-10-19T00:00:00+01:00"),
            ("01:30 BST, before the change", "2026-10-25T01:30:00+01:00"),
            ("01:30 GMT, after the change", "2026-10-25T01:30:00+00:00"),
            ("Sunday 23:59 GMT: last", "2026-10-25T23:59:00+00:00"),
        ]

    async def test_reports_are_graded_by_how_they_were_seen_until_a_coordinator_grades_them(
        self, synced_store: Store, tmp_path: Path
    ) -> None:
        store = synced_store
        scheme = await norwich(store)
        assert scheme.id is not None
        shops, operator = await seed_shops(store, scheme)
        coordinator = await store.members.get(scheme.id, 700001)
        assert coordinator is not None

        async def report(**fields: object) -> int:
            values: dict[str, object] = {
                "scheme_id": scheme.id,
                "category": Category.THEFT,
                "urgency": Urgency.NOW,
                "description": "Grey hoodie took gin",
                **fields,
            }
            made = await store.reports.create(Report.model_validate(values))
            assert made.id is not None
            return made.id

        async def on_camera(report_id: int, by: int | None) -> None:
            await store.reports.add_event(
                ReportEvent(
                    report_id=report_id, member_id=by, kind=EventKind.STATUS, status="on_camera"
                )
            )

        async def code(report_id: int) -> tuple[str, str]:
            _, grading = await grading_of(store, report_id)
            return grading.code, grading.basis.value

        witnessed = await report(member_id=shops[0].id)
        confirmed = await report(member_id=shops[1].id)
        await on_camera(confirmed, operator.id)
        claimed = await report(member_id=shops[2].id)
        await on_camera(claimed, shops[3].id)  # a shopkeeper cannot confirm on CCTV
        radio = await report(source=ReportSource.RADIO)
        neighbours = await report(source=ReportSource.FEDERATION, origin_scheme="wymondham")

        assert await code(witnessed) == ("2/A/P", "member_witness")
        assert await code(confirmed) == ("1/A/P", "cctv_confirmed")
        assert await code(claimed) == ("2/A/P", "member_witness")
        assert await code(radio) == ("2/A/P", "radio_call")
        assert await code(neighbours) == ("2/C/P", "neighbouring_scheme")

        async def grade(report_id: int, part: GradingPart, value: str, **more: str) -> None:
            await regrade(
                store,
                report_id,
                part,
                value,
                scheme_id=scheme.id or 0,
                actor_telegram_id=700001,
                actor_member_id=coordinator.id,
                **more,
            )

        await grade(witnessed, GradingPart.SOURCE, "1")
        await grade(witnessed, GradingPart.ASSESSMENT, "b")
        assert await code(witnessed) == ("1/B/P", "coordinator")
        with pytest.raises(InvalidInputError) as refused:
            await grade(witnessed, GradingPart.HANDLING, "C")
        assert refused.value.reason == "conditions_required"
        await grade(witnessed, GradingPart.HANDLING, "C", conditions="Norfolk Constabulary only")
        graded, grading = await grading_of(store, witnessed)
        assert grading.code == "1/B/C"
        assert grading.handling_conditions == "Norfolk Constabulary only"
        assert (graded.source_evaluation, graded.intelligence_assessment) == (
            SourceEvaluation.RELIABLE,
            IntelligenceAssessment.KNOWN_INDIRECTLY_CORROBORATED,
        )
        await grade(witnessed, GradingPart.HANDLING, "P")
        graded, grading = await grading_of(store, witnessed)
        assert (graded.handling_code, graded.handling_conditions) == (
            HandlingCode.LAWFUL_SHARING_PERMITTED,
            None,
        )
        with pytest.raises(InvalidInputError):
            await grade(witnessed, GradingPart.SOURCE, "7")
        wymondham = await store.schemes.get_by_slug("wymondham")
        with pytest.raises(NotFoundError):
            await regrade(
                store,
                witnessed,
                GradingPart.SOURCE,
                "3",
                scheme_id=wymondham.id or 0,
                actor_telegram_id=700011,
                actor_member_id=None,
            )

        trail = [e for e in await store.audit.recent() if e.action == "grade"]
        assert [(e.detail["part"], e.detail["to"]) for e in reversed(trail)] == [
            ("source", "1"),
            ("assessment", "B"),
            ("handling", "C"),
            ("handling", "P"),
        ]
        assert {e.actor_telegram_id for e in trail} == {700001}

    async def test_the_guided_reports_answers_are_columns_and_a_withdrawn_report_hides_the_people(
        self, synced_store: Store, tmp_path: Path
    ) -> None:
        store = synced_store
        scheme = await norwich(store)
        described: dict[str, Any] = {
            "people_count": 2,
            "subject_sex": "male",
            "subject_age": "25-40",
            "subject_height": "tall",
            "subject_build": "slim",
            "subject_hair": "dark",
            "subject_clothing": "grey hoodie",
            "subject_marks": "neck tattoo",
            "subject_name": "Dazza",
            "vehicle": "silver Ford Focus AB12 CDE",
            "vehicle_registration": "AB12 CDE",
            "property_description": "2 bottles of gin",
            "cctv_held": True,
            "statement_willing": False,
        }
        for status in (ReportStatus.OPEN, ReportStatus.WITHDRAWN):
            await store.reports.create(
                Report(
                    scheme_id=scheme.id or 0,
                    created_at=datetime(2026, 11, 3, 10, 0, tzinfo=UTC),
                    occurred_at=datetime(2026, 11, 2, 15, 0, tzinfo=UTC),
                    category=Category.THEFT,
                    urgency=Urgency.LOG,
                    description="Two men took gin",
                    status=status,
                    **described,
                )
            )

        result = await export(
            store, PhotoStore(tmp_path / "p"), scheme, NOVEMBER_WEEK, tmp_path / "o"
        )

        kept, withdrawn = csv_rows(result)
        assert kept["occurred_at"] == "2026-11-02T15:00:00+00:00"
        assert kept["logged_at"] == "2026-11-03T10:00:00+00:00"
        shown = {
            name: "yes" if value is True else "no" if value is False else str(value)
            for name, value in described.items()
        }
        assert {name: kept[name] for name in described} == shown
        assert kept["subject_appearance"] == ""
        assert csv_header(result)[-len(DESCRIPTOR_COLUMNS) :] == list(DESCRIPTOR_COLUMNS)
        people = {name for name in described if name in PERSON_COLUMNS}
        assert {name: withdrawn[name] for name in people} == dict.fromkeys(people, "")
        assert withdrawn["property_description"] == "2 bottles of gin"
        document = json.loads(result.file("json").path.read_text(encoding="utf-8"))
        schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))["$defs"]["report"]
        for report in document["reports"]:
            assert report["descriptors"].keys() == set(
                schema["properties"]["descriptors"]["required"]
            )
        assert document["reports"][0]["descriptors"] == {**described, "subject_appearance": None}
        assert document["reports"][1]["descriptors"]["subject_name"] is None
        page = PdfReader(result.file("pdf").path).pages[1].extract_text()
        assert "Subject name" in page
        assert "Dazza" in page
        assert "Vehicle registration" in page

    async def test_free_text_cannot_become_a_spreadsheet_formula(
        self, synced_store: Store, tmp_path: Path
    ) -> None:
        store = synced_store
        scheme = await norwich(store)
        await store.reports.create(
            Report(
                scheme_id=scheme.id or 0,
                created_at=datetime(2026, 11, 3, 10, 0, tzinfo=UTC),
                category=Category.FRAUD,
                urgency=Urgency.LOG,
                description='=HYPERLINK("http://evil.example","click")',
                subject_description="+44 7700 900123 rang the shop",
                location_text="@Market",
            )
        )

        result = await export(
            store, PhotoStore(tmp_path / "p"), scheme, NOVEMBER_WEEK, tmp_path / "o"
        )

        [row] = csv_rows(result)
        assert row["description"] == '\'=HYPERLINK("http://evil.example","click")'
        assert row["subject_description"].startswith("'+44")
        assert row["location"] == "'@Market"
        sheet = load_workbook(result.file("xlsx").path)[REPORTS_SHEET]
        description = sheet.cell(
            row=2, column=[c.name for c in REPORT_COLUMNS].index("description") + 1
        )
        assert description.data_type == "s"
        assert description.value == '=HYPERLINK("http://evil.example","click")'


class TestThePeriod:
    def test_last_week_is_the_monday_to_sunday_before_this_one_where_the_scheme_is(self) -> None:
        tuesday = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
        assert last_full_week(tuesday, "Europe/London") == NOVEMBER_WEEK
        # 23:30 UTC on Sunday is already Monday in Auckland.
        sunday_night = datetime(2026, 11, 8, 23, 30, tzinfo=UTC)
        assert last_full_week(sunday_night, "Europe/London").first == date(2026, 10, 26)
        assert last_full_week(sunday_night, "Pacific/Auckland").first == date(2026, 11, 2)

    def test_the_weekly_export_is_due_from_monday_seven_oclock(self) -> None:
        before = datetime(2026, 11, 9, 6, 59, tzinfo=LONDON)
        at = datetime(2026, 11, 9, 7, 0, tzinfo=LONDON)
        assert due_week(before, "Europe/London").first == date(2026, 10, 26)
        assert due_week(at, "Europe/London") == NOVEMBER_WEEK
        # After the clocks go back, 07:00 in London is 07:00 UTC, an hour later than in summer.
        monday = datetime(2026, 10, 26, 6, 30, tzinfo=UTC)
        assert due_week(monday, "Europe/London").first == date(2026, 10, 12)
        assert due_week(monday + timedelta(minutes=30), "Europe/London") == CLOCKS_GO_BACK_WEEK

    @pytest.mark.parametrize(
        ("first", "last", "reason"),
        [
            ("2026-13-45", "2026-11-15", "not_a_date"),
            ("2026-11-01", "15-11-2026", "not_a_date"),
            ("31/11/2026", "2026-12-01", "not_a_date"),
            ("2026-11-15", "2026-11-01", "reversed"),
            ("2016-01-01", "2026-01-01", "too_long"),
        ],
    )
    def test_a_period_that_cannot_be_exported_says_why(
        self, first: str, last: str, reason: str
    ) -> None:
        with pytest.raises(InvalidInputError) as refused:
            parse_period(first, last, "Europe/London")
        assert refused.value.reason == reason

    def test_a_quarter_is_the_longest_export(self) -> None:
        quarter = parse_period("2026-10-01", "2026-12-31", "Europe/London")
        assert quarter.days == MAX_DAYS


class TestRetention:
    async def test_a_report_past_retention_goes_with_its_photo_and_a_recent_one_stays(
        self, synced_store: Store, tmp_path: Path
    ) -> None:
        store = synced_store
        photos = PhotoStore(tmp_path / "photos")
        scheme = await norwich(store)
        assert scheme.retention_days == 365
        shops, operator = await seed_shops(store, scheme)
        now = datetime(2026, 11, 23, 3, 30, tzinfo=UTC)
        old_photo = photos.ingest(photo_bytes(1))
        shared_photo = photos.ingest(photo_bytes(2))

        async def logged(days_ago: int, *pictures: object) -> int:
            report = await store.reports.create(
                Report(
                    scheme_id=scheme.id or 0,
                    member_id=shops[0].id,
                    created_at=now - timedelta(days=days_ago),
                    category=Category.THEFT,
                    urgency=Urgency.NOW,
                    description=f"seen {days_ago} days ago",
                ),
                photos=[as_row(p) for p in pictures],  # type: ignore[arg-type]
            )
            assert report.id is not None
            await store.reports.add_event(
                ReportEvent(
                    report_id=report.id,
                    member_id=operator.id,
                    kind=EventKind.STATUS,
                    status="on_camera",
                )
            )
            return report.id

        old = await logged(400, old_photo, shared_photo)
        recent = await logged(10, shared_photo)
        await store.audit.record(
            700001, "grade", AuditOutcome.ALLOWED, scheme_id=scheme.id, detail={"report_id": old}
        )
        await store.audit.record(
            700001, "view", AuditOutcome.ALLOWED, detail={"report_ids": [old, recent], "q": "gin"}
        )
        await store.audit.record(
            700001, "search", AuditOutcome.ALLOWED, detail={"query": "gin", "shown": [recent, old]}
        )
        await store.audit.record(700001, "show", AuditOutcome.ALLOWED, detail={"report": old})

        counts = await purge_expired(store, photos, scheme, now)

        assert (counts.reports, counts.photos, counts.photo_files, counts.events) == (1, 2, 1, 1)
        with pytest.raises(NotFoundError):
            await store.reports.get(old)
        assert not photos.path(old_photo.relative_path).exists()
        assert photos.path(shared_photo.relative_path).exists(), "the recent report shows it"
        assert (await store.reports.get(recent)).description == "seen 10 days ago"
        assert len(await store.reports.photos(recent)) == 1
        assert len(await store.reports.events(recent)) == 1
        async with store.sessions() as session:
            trail = (await session.exec(select(AuditEntry).order_by(col(AuditEntry.id)))).all()
        gone = "deleted under the retention period"
        details = [e.detail for e in trail if e.action in ("grade", "view", "search", "show")]
        assert details == [
            {"anonymised": gone},
            {"report_ids": [recent], "q": "gin", "anonymised": gone},
            {"shown": [recent], "anonymised": gone},  # the terms go with what they found
            {"anonymised": gone},
        ]
        assert counts.audit_anonymised == 4
        [summary] = [e for e in trail if e.action == "retention"]
        assert summary.detail["reports"] == 1

        again = await purge_expired(store, photos, scheme, now)
        assert again.reports == 0


async def test_a_quiet_week_still_gives_the_police_a_complete_set_of_files(
    synced_store: Store, tmp_path: Path
) -> None:
    store = synced_store
    scheme = await norwich(store)

    result = await export(store, PhotoStore(tmp_path / "p"), scheme, NOVEMBER_WEEK, tmp_path / "o")

    assert result.reports == 0
    assert csv_rows(result) == []
    assert len(PdfReader(result.file("pdf").path).pages) == 1
    document = json.loads(result.file("json").path.read_text(encoding="utf-8"))
    assert document["reports"] == []
    assert document["counts"]["by_category"] == {c.value: 0 for c in Category}


# --- The bot: /export, /grade and the weekly job, as people use them ---------------------


async def documents(town: Town, person: Person, count: int) -> list[MessageView]:
    """Wait for `count` documents in the person's private chat with the bot."""

    def probe() -> list[MessageView] | None:
        found = [m for m in town.sandbox.chat_messages(town.bot, person) if m.document]
        return found if len(found) >= count else None

    return await town.sandbox.wait_for(
        probe, timeout=20, message=f"{person.name} never got {count} documents"
    )


async def export_files(town: Town, person: Person, period: str) -> list[MessageView]:
    """Wait for the five files of one week's export ("2026-10-19-to-2026-10-25"), CSV first.

    Picked by name: the bot's own start-up check may export today's missed week to the
    same chat in between.
    """
    prefix = f"shopwatch-norwich-{period}"

    def probe() -> list[MessageView] | None:
        found = [
            m
            for m in town.sandbox.chat_messages(town.bot, person)
            if m.document is not None and (m.document.file_name or "").startswith(prefix)
        ]
        return found if len(found) >= 5 else None

    return await town.sandbox.wait_for(
        probe, timeout=20, message=f"{person.name} never got the export of {period}"
    )


def received(message: MessageView) -> bytes:
    assert message.document is not None
    return message.document.data


def document_names(town: Town, person: Person) -> list[str]:
    return [
        m.document.file_name or ""
        for m in town.sandbox.chat_messages(town.bot, person)
        if m.document is not None
    ]


def rows_of(message: MessageView) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(received(message).decode("utf-8-sig"))))


async def enrol(town: Town, first_name: str, user_id: int, role: Role, scheme: str) -> Person:
    """Someone the coordinator of `scheme` approved earlier, with `role`."""
    person = town.person(user_id, first_name)
    row = await town.runtime.store.schemes.get_by_slug(scheme)
    await add_member(town.runtime.store, row, user_id, first_name, role=role)
    return person


async def joined_long_ago(store: Store, slug: str) -> None:
    """The scheme has been on ShopWatch since January: every Monday's export was due."""
    async with transaction(store.sessions, "backdate the scheme") as session:
        scheme = (await session.exec(select(Scheme).where(Scheme.slug == slug))).one()
        scheme.created_at = datetime(2026, 1, 5, tzinfo=UTC)


async def exports_audited(store: Store, outcome: AuditOutcome) -> list[AuditEntry]:
    return [
        e
        for e in await store.audit.recent(200)
        if e.action.startswith("export") and e.outcome == outcome
    ]


async def norwich_logged_last_week(town: Town, *, reports: int, photo_count: int) -> ExportPeriod:
    """Norwich's log holds `reports` sightings (with photos) from last Monday to Sunday."""
    store = town.runtime.store
    last_week = last_full_week(utcnow(), "Europe/London")
    await seed_week(
        store,
        town.runtime.services.photos,
        await norwich(store),
        last_week,
        reports=reports,
        photo_count=photo_count,
    )
    return last_week


async def test_a_coordinator_asks_for_last_weeks_export_and_the_files_arrive_in_her_chat(
    polling_town: Town,
) -> None:
    town = polling_town
    store = town.runtime.store
    last_week = await norwich_logged_last_week(town, reports=21, photo_count=4)

    await town.coordinator.send(town.bot, "/export")

    reply = await town.coordinator.next_reply(town.bot)
    assert reply.body.startswith("Preparing the export of Norwich ShopWatch")
    files = await documents(town, town.coordinator, 5)
    base = f"shopwatch-norwich-{last_week.slug}"
    assert [received_name(m) for m in files] == [
        f"{base}.csv",
        f"{base}.xlsx",
        f"{base}.pdf",
        f"{base}.json",
        f"{base}-manifest.json",
    ]
    assert all(m.protect_content for m in files), "members cannot forward police exports"
    assert "21 reports" in files[0].body
    assert len(rows_of(files[0])) == 21
    manifest = json.loads(received(files[4]))
    assert manifest["exported_by"]["telegram_user_id"] == town.coordinator.id
    for message, listed in zip(files[:4], manifest["files"], strict=True):
        assert hashlib.sha256(received(message)).hexdigest() == listed["sha256"]
    [entry] = await exports_audited(store, AuditOutcome.ALLOWED)
    assert entry.actor_telegram_id == town.coordinator.id
    assert entry.detail["via"] == "telegram"


async def test_an_export_that_cannot_be_written_is_explained_and_nothing_is_sent(
    polling_town: Town,
) -> None:
    town = polling_town
    exports = town.runtime.services.settings.exports_dir
    exports.mkdir(parents=True, exist_ok=True)
    (exports / "norwich").write_text("a file where Norwich's exports should go")

    await town.coordinator.send(town.bot, "/export 23/11/2026 29/11/2026")

    assert (await town.coordinator.next_reply(town.bot)).body.startswith("Preparing the export")
    assert (await town.coordinator.next_reply(town.bot)).body == export_texts.EXPORT_FAILED
    assert document_names(town, town.coordinator) == []
    assert await exports_audited(town.runtime.store, AuditOutcome.ALLOWED) == []


async def test_a_coordinator_names_the_days_as_search_takes_them(polling_town: Town) -> None:
    town = polling_town

    await town.coordinator.send(town.bot, "/export 23/11/2026 29/11/2026")

    reply = await town.coordinator.next_reply(town.bot)
    assert reply.body.startswith("Preparing the export of Norwich ShopWatch")
    files = await documents(town, town.coordinator, 5)
    assert received_name(files[0]) == "shopwatch-norwich-2026-11-23-to-2026-11-29.csv"


async def test_the_coordinator_from_the_schemes_file_is_named_as_telegram_names_her(
    polling_town: Town,
) -> None:
    town = polling_town
    carol = town.coordinator
    scheme = await norwich(town.runtime.store)
    before = await town.runtime.store.members.for_user(carol.id)
    assert [m.display_name for m, _ in before] == ["Coordinator"], "listed, never spoken"

    await carol.send(town.bot, "/export 23/11/2026 29/11/2026")

    await carol.next_reply(town.bot)
    files = await documents(town, carol, 5)
    manifest = json.loads(received(files[4]))
    assert manifest["exported_by"]["description"].startswith("Carol (")
    [(member, _)] = await town.runtime.store.members.for_user(carol.id)
    assert member.display_name == "Carol"
    assert member.scheme_id == scheme.id


def received_name(message: MessageView) -> str:
    assert message.document is not None
    return message.document.file_name or ""


async def test_a_shopkeeper_asking_for_an_export_is_refused_and_gets_no_files(
    polling_town: Town,
) -> None:
    town = polling_town
    shopkeeper = await enrol(town, "Priya", 5_000_000_101, Role.MEMBER, "norwich")

    await shopkeeper.send(town.bot, "/export")

    reply = await shopkeeper.next_reply(town.bot)
    assert reply.body == refusal_texts.refusal(Refusal.WRONG_ROLE)
    await shopkeeper.send(town.bot, "/export 2026-11-01 2026-11-07")
    assert (await shopkeeper.next_reply(town.bot)).body == refusal_texts.refusal(
        Refusal.WRONG_ROLE
    )
    assert document_names(town, shopkeeper) == []
    refused = await exports_audited(town.runtime.store, AuditOutcome.REFUSED)
    assert [e.actor_telegram_id for e in refused] == [shopkeeper.id, shopkeeper.id]
    assert await exports_audited(town.runtime.store, AuditOutcome.ALLOWED) == []


async def test_police_get_their_own_schemes_log_and_never_another_schemes(
    polling_town: Town,
) -> None:
    town = polling_town
    store = town.runtime.store
    await norwich_logged_last_week(town, reports=7, photo_count=1)
    officer = await enrol(town, "PC Daniels", 6_000_000_011, Role.POLICE, "wymondham")

    await officer.send(town.bot, "/export norwich")
    assert (await officer.next_reply(town.bot)).body == refusal_texts.refusal(
        Refusal.NOT_YOUR_SCHEME
    )
    await officer.send(town.bot, "/export witness wymondham")
    assert (await officer.next_reply(town.bot)).body == refusal_texts.refusal(
        Refusal.WITNESS_CONTACT
    )
    assert document_names(town, officer) == []

    await officer.send(town.bot, "/export")
    assert "Wymondham Business Watch" in (await officer.next_reply(town.bot)).body
    files = await documents(town, officer, 5)
    assert received_name(files[0]).startswith("shopwatch-wymondham-")
    assert rows_of(files[0]) == [], "none of Norwich's reports reach Wymondham's police"
    refused = await exports_audited(store, AuditOutcome.REFUSED)
    assert sorted(e.detail["reason"] for e in refused) == ["not_your_scheme", "witness_contact"]


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("/export 2026-13-45 2026-11-15", "“2026-13-45” is not a date"),
        ("/export 2026-11-15 2026-11-01", "The period ends before it starts"),
        ("/export 2016-01-01 2026-01-01", "That is 3654 days: one export covers at most 92"),
        ("/export 2026-11-01", "Name both the first and the last day"),
    ],
)
async def test_a_period_that_makes_no_sense_is_explained_and_nothing_is_exported(
    polling_town: Town, command: str, answer: str
) -> None:
    town = polling_town

    await town.coordinator.send(town.bot, command)

    reply = await town.coordinator.next_reply(town.bot)
    assert reply.body.startswith(answer)
    assert "/export 2026-11-01 2026-11-15" in reply.body, "the answer shows how to ask"
    assert await exports_audited(town.runtime.store, AuditOutcome.ALLOWED) == []
    assert document_names(town, town.coordinator) == []


async def a_shops_theft(store: Store, description: str) -> Report:
    """A theft one of Norwich's seeded shops logged."""
    scheme = await norwich(store)
    shops, _ = await seed_shops(store, scheme)
    return await store.reports.create(
        Report(
            scheme_id=scheme.id or 0,
            member_id=shops[0].id,
            category=Category.THEFT,
            urgency=Urgency.NOW,
            description=description,
        )
    )


async def test_a_coordinator_grades_a_report_with_buttons_and_states_conditions(
    polling_town: Town,
) -> None:
    town = polling_town
    store = town.runtime.store
    report = await a_shops_theft(
        store, "Grey hoodie took two bottles of gin, heading to Market St"
    )
    carol = town.coordinator

    await carol.send(town.bot, f"/grade {report.id}")

    card = await carol.next_reply(town.bot)
    assert card.body.startswith(f"Report {report.id} · theft")
    assert "Grading now: 2/A/P (default: a member's own sighting)" in card.body
    assert "✓ 2 untested" in card.button_texts
    assert await carol.press(card, "1 reliable") == "Graded 1/A/P."
    card = town.sandbox.refresh(card)
    assert "Grading now: 1/A/P (set by a coordinator)" in card.body
    assert "✓ 1 reliable" in card.button_texts
    assert await carol.press(card, "B") == "Graded 1/B/P."

    answer = await carol.press(town.sandbox.refresh(card), "C with conditions")
    assert answer == grading_texts.grade_conditions_needed(report.id or 0)
    await carol.send(town.bot, f"/grade {report.id} conditions Norfolk Constabulary only")
    card = await carol.next_reply(town.bot)
    assert "Grading now: 1/B/C (set by a coordinator)" in card.body
    assert "Conditions: Norfolk Constabulary only" in card.body

    stored = await store.reports.get(report.id or 0)
    assert (stored.source_evaluation, stored.intelligence_assessment, stored.handling_code) == (
        SourceEvaluation.RELIABLE,
        IntelligenceAssessment.KNOWN_INDIRECTLY_CORROBORATED,
        HandlingCode.CONDITIONS_APPLY,
    )
    graded = [e for e in await store.audit.recent() if e.action == "grade"]
    assert [e.detail["to"] for e in reversed(graded)] == ["1", "B", "C"]

    await carol.send(town.bot, "/grade 999999")
    assert (await carol.next_reply(town.bot)).body == grading_texts.grade_not_found("999999")
    forged = f"grade:{report.id}:s:3:000000000000"
    assert await town.press_forged(carol, forged) == refusal_texts.refusal(Refusal.FORGED_BUTTON)
    shopkeeper = await enrol(town, "Priya", 5_000_000_401, Role.MEMBER, "norwich")
    await shopkeeper.send(town.bot, f"/grade {report.id}")
    assert (await shopkeeper.next_reply(town.bot)).body == refusal_texts.refusal(
        Refusal.WRONG_ROLE
    )
    assert (await store.reports.get(report.id or 0)).source_evaluation == "1"


async def test_reading_a_report_through_grade_is_audited_like_show(polling_town: Town) -> None:
    town = polling_town
    store = town.runtime.store
    report = await a_shops_theft(store, "Tall man, red cap, took razors")
    carol = town.coordinator

    await carol.send(town.bot, f"/grade {report.id}")
    assert "Tall man, red cap" in (await carol.next_reply(town.bot)).body
    await carol.send(town.bot, "/grade 999999")
    await carol.next_reply(town.bot)

    views = [e for e in await store.audit.recent() if e.action == "view"]
    assert [(e.outcome, e.detail) for e in reversed(views)] == [
        (AuditOutcome.ALLOWED, {"report": report.id, "via": "grade"}),
        (AuditOutcome.REFUSED, {"report": 999999, "via": "grade", "reason": "not_found"}),
    ]
    assert {e.actor_telegram_id for e in views} == {carol.id}


async def test_on_monday_at_seven_the_coordinator_gets_last_weeks_export_even_as_clocks_change(
    polling_town: Town,
) -> None:
    town = polling_town
    store = town.runtime.store
    services = town.runtime.services
    await joined_long_ago(store, "norwich")
    scheme = await norwich(store)
    for moment, what in (
        (datetime(2026, 10, 18, 22, 59, tzinfo=UTC), "the Sunday before: not this week"),
        (datetime(2026, 10, 18, 23, 0, tzinfo=UTC), "Monday 00:00 BST"),
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "01:30 BST"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "01:30 GMT, an hour later"),
        (datetime(2026, 10, 26, 0, 0, tzinfo=UTC), "Monday 00:00 GMT: next week"),
    ):
        await store.reports.create(
            Report(
                scheme_id=scheme.id or 0,
                created_at=moment,
                category=Category.SUSPICIOUS,
                urgency=Urgency.NOW,
                description=what,
            )
        )
    town.coordinator.open_chat(town.bot)  # Carol has talked to the bot before
    monday_seven = datetime(2026, 10, 26, 7, 0, tzinfo=LONDON)
    assert monday_seven.astimezone(UTC).hour == 7, "GMT again: an hour later than in summer"

    runs = await run_weekly_exports(
        store,
        services.photos,
        services.settings,
        services.schemes,
        monday_seven,
        only="norwich",
        wake=services.outbox.wake,
    )

    assert [(r.scheme_slug, r.outcome, r.period) for r in runs] == [
        ("norwich", "exported", CLOCKS_GO_BACK_WEEK)
    ]
    files = await export_files(town, town.coordinator, "2026-10-19-to-2026-10-25")
    assert received_name(files[0]) == "shopwatch-norwich-2026-10-19-to-2026-10-25.csv"
    assert files[0].body.startswith("Weekly export, Norwich ShopWatch, 19 Oct 2026 to 25 Oct 2026")
    assert all(m.protect_content for m in files)
    assert [(r["description"], r["logged_at"]) for r in rows_of(files[0])] == [
        ("Monday 00:00 BST", "2026-10-19T00:00:00+01:00"),
        ("01:30 BST", "2026-10-25T01:30:00+01:00"),
        ("01:30 GMT, an hour later", "2026-10-25T01:30:00+00:00"),
    ]

    again = await run_weekly_exports(
        store,
        services.photos,
        services.settings,
        services.schemes,
        monday_seven + timedelta(hours=1),
        only="norwich",
    )
    assert [r.outcome for r in again] == ["already_done"]
    a_week_later = await run_weekly_exports(
        store,
        services.photos,
        services.settings,
        services.schemes,
        monday_seven + timedelta(days=7),
        only="norwich",
        wake=services.outbox.wake,
    )
    assert [(r.outcome, r.period.first) for r in a_week_later] == [
        ("exported", date(2026, 10, 26))
    ]
    files = await export_files(town, town.coordinator, "2026-10-26-to-2026-11-01")
    assert [r["description"] for r in rows_of(files[0])] == ["Monday 00:00 GMT: next week"]


async def test_a_monday_the_bot_was_down_for_is_exported_once_when_it_is_back(
    polling_town: Town,
) -> None:
    town = polling_town
    settings = town.runtime.settings
    photos = town.runtime.services.photos
    first_queue = town.runtime.application.job_queue
    assert first_queue is not None
    started = first_queue
    await town.sandbox.wait_for(
        lambda: not started.get_jobs_by_name(START_UP_JOB),
        message="the start-up check never ran",
    )
    await town.runtime.stop()  # down over Monday 07:00 (stopping waits for that check)

    store = await Store.open(settings.database_url)
    try:
        await joined_long_ago(store, "norwich")
        due = due_week(utcnow(), "Europe/London")
        await seed_week(store, photos, await norwich(store), due, reports=3, photo_count=1)
    finally:
        await store.close()
    town.coordinator.open_chat(town.bot)

    back = BotRuntime(settings, town.schemes)
    await back.start()
    try:
        files = await documents(town, town.coordinator, 5)
        assert received_name(files[0]) == f"shopwatch-norwich-{due.slug}.csv"
        assert files[0].body.startswith("Weekly export")
        assert len(rows_of(files[0])) == 3
    finally:
        await back.stop()

    once_more = BotRuntime(settings, town.schemes)
    await once_more.start()
    try:
        assert once_more.application.job_queue is not None
        queue = once_more.application.job_queue
        await town.sandbox.wait_for(
            lambda: not queue.get_jobs_by_name(START_UP_JOB),
            message="the start-up check never ran",
        )
    finally:
        await once_more.stop()  # waits for the check to finish
    reopened = await Store.open(settings.database_url)
    try:
        done = [e for e in await reopened.audit.recent(200) if e.action == "weekly_export"]
        assert [e.detail["period"] for e in done] == [due.key]
        weekly = [e for e in await reopened.audit.recent(200) if e.action == "export"]
        assert len(weekly) == 1
    finally:
        await reopened.close()
    assert len(document_names(town, town.coordinator)) == 5


async def test_the_weekly_export_is_scheduled_for_monday_seven_in_each_schemes_timezone(
    polling_town: Town,
) -> None:
    queue = polling_town.runtime.application.job_queue
    assert queue is not None
    now = utcnow()
    jobs = {job.name: job for job in queue.jobs()}

    for scheme in polling_town.schemes.schemes:
        zone = ZoneInfo(scheme.timezone)
        weekly = jobs[f"weekly-export:{scheme.slug}"]
        assert weekly.next_t is not None
        this_monday = weekly_run_time(last_full_week(now, scheme.timezone))
        expected = this_monday if this_monday > now else this_monday + timedelta(days=7)
        assert weekly.next_t == expected
        local = weekly.next_t.astimezone(zone)
        assert (local.strftime("%A"), local.hour, local.minute) == ("Monday", 7, 0)
        nightly = jobs[f"retention:{scheme.slug}"]
        assert nightly.next_t is not None
        local = nightly.next_t.astimezone(zone)
        assert (local.hour, local.minute) == (3, 30)
        assert timedelta(0) < nightly.next_t - now <= timedelta(days=1, hours=1)
    assert "weekly-export:catch-up" in jobs
    vacuum = jobs["vacuum"].next_t
    assert vacuum is not None
    assert (vacuum.astimezone(UTC).strftime("%A"), vacuum.hour, vacuum.minute) == ("Sunday", 4, 30)
    assert timedelta(0) < vacuum - now <= timedelta(days=7)


def test_an_administrator_exports_a_fortnight_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database_url = command_line_deployment(tmp_path, monkeypatch)
    fortnight = ExportPeriod(date(2026, 11, 1), date(2026, 11, 15), "Europe/London")

    async def seeded() -> None:
        store = await Store.open(database_url)
        try:
            await store.schemes.sync(load_schemes(EXAMPLE_SCHEMES))
            photos = PhotoStore(tmp_path / "data" / "photos")
            await seed_week(
                store, photos, await norwich(store), fortnight, reports=9, photo_count=2
            )
        finally:
            await store.close()

    asyncio.run(seeded())
    out = tmp_path / "for-the-police"
    command = ["export", "--scheme", "norwich", "--from", "2026-11-01", "--to", "2026-11-15"]

    assert main([*command, "--out", str(out)]) == 0

    printed = capsys.readouterr().out
    assert "Norwich ShopWatch, 2026-11-01 to 2026-11-15 (Europe/London): 9 reports" in printed
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        f"shopwatch-norwich-2026-11-01-to-2026-11-15{suffix}"
        for suffix in (".csv", ".xlsx", ".pdf", ".json", "-manifest.json")
    )
    assert main([*command, "--out", str(tmp_path / "w"), "--witness-contact"]) == 0
    assert "witness contact details" in capsys.readouterr().out

    assert (
        main(
            [
                "export",
                "--scheme",
                "norwich",
                "--from",
                "2026-13-45",
                "--to",
                "2026-11-15",
                "--out",
                str(tmp_path / "x"),
            ]
        )
        == 2
    )
    assert "'2026-13-45' is not a date" in capsys.readouterr().err
    assert main(["export", "--scheme", "atlantis", "--out", str(tmp_path / "y")]) == 2
    assert "no scheme 'atlantis'" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()

    async def trail() -> list[AuditEntry]:
        store = await Store.open(database_url)
        try:
            return [e for e in await store.audit.recent() if e.action == "export"]
        finally:
            await store.close()

    exports = asyncio.run(trail())
    assert [(e.detail["via"], e.detail["witness_contact"]) for e in exports] == [
        ("command line", True),
        ("command line", False),
    ]
