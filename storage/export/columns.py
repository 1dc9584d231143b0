"""The columns of the CSV and the spreadsheet, in their stable, documented order.

Adding a column is done at the end (before the witness columns) so that a
police system importing the CSV by position keeps working; docs/exports.md lists them.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Generic, TypeVar

from storage.export.records import ExportEvent, ExportNotice, ExportReport, ExportSubject
from storage.models import DESCRIPTOR_COLUMNS

Value = str | int | float | Decimal | None
T = TypeVar("T")


def iso(moment: datetime) -> str:
    """ISO-8601 to the second with the UTC offset: `2026-10-25T01:30:00+01:00`."""
    return moment.isoformat(timespec="seconds")


def descriptor(report: ExportReport, *, name: str) -> Value:
    """A structured answer as a cell: yes/no for the questions answered so."""
    value = report.descriptors.get(name)
    if isinstance(value, bool):
        return "yes" if value else "no"
    return value


def pounds(pence: int | None) -> Decimal | None:
    return None if pence is None else Decimal(pence).scaleb(-2)


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    value: Callable[[ExportReport], Value]
    # Free text people typed: guarded against spreadsheet formula injection.
    text: bool = False
    width: int = 14


REPORT_COLUMNS: tuple[Column, ...] = (
    Column("report_id", lambda r: r.id, width=10),
    Column("logged_at", lambda r: iso(r.logged_at), width=26),
    Column("occurred_at", lambda r: iso(r.occurred_at), width=26),
    Column("category", lambda r: r.category.value, width=12),
    Column("urgency", lambda r: r.urgency.value, width=9),
    Column("status", lambda r: r.status.value, width=10),
    Column("source", lambda r: r.source.value, width=11),
    Column("origin_scheme", lambda r: r.origin_scheme, width=14),
    Column("reported_by", lambda r: r.reported_by, width=14),
    Column("location", lambda r: r.location_text, text=True, width=24),
    Column("latitude", lambda r: r.latitude, width=11),
    Column("longitude", lambda r: r.longitude, width=11),
    Column("direction", lambda r: r.direction, text=True, width=18),
    Column("description", lambda r: r.description, text=True, width=60),
    Column("subject_description", lambda r: r.subject_description, text=True, width=40),
    Column("value_gbp", lambda r: pounds(r.value_pence), width=10),
    Column("police_reference", lambda r: r.police_reference, text=True, width=16),
    Column("photo_count", lambda r: len(r.photos), width=8),
    Column("photo_sha256", lambda r: ";".join(p.sha256 for p in r.photos), width=30),
    Column("event_count", lambda r: len(r.events), width=8),
    Column("last_status", lambda r: r.last_status, text=True, width=14),
    Column("source_evaluation", lambda r: r.grading.source_evaluation.value, width=8),
    Column("intelligence_assessment", lambda r: r.grading.intelligence_assessment.value, width=8),
    Column("handling_code", lambda r: r.grading.handling_code.value, width=8),
    Column("handling_conditions", lambda r: r.grading.handling_conditions, text=True, width=30),
    Column("grading", lambda r: r.grading.code, width=9),
    Column("grading_basis", lambda r: r.grading.basis.value, width=18),
    *(
        Column(
            name,
            functools.partial(descriptor, name=name),
            text=name not in ("people_count", "cctv_held", "statement_willing"),
            width=8 if name in ("people_count", "cctv_held", "statement_willing") else 16,
        )
        for name in DESCRIPTOR_COLUMNS
    ),
)

WITNESS_COLUMNS: tuple[Column, ...] = (
    Column("witness_name", lambda r: r.witness.name if r.witness else None, text=True, width=20),
    Column(
        "witness_username",
        lambda r: r.witness.username if r.witness else None,
        text=True,
        width=16,
    ),
    Column(
        "witness_telegram_id",
        lambda r: r.witness.telegram_user_id if r.witness else None,
        width=14,
    ),
    Column("witness_shop", lambda r: r.witness.shop_name if r.witness else None, text=True),
    Column("witness_street", lambda r: r.witness.street if r.witness else None, text=True),
)


def report_columns(witness_contact: bool) -> tuple[Column, ...]:
    return REPORT_COLUMNS + WITNESS_COLUMNS if witness_contact else REPORT_COLUMNS


@dataclass(frozen=True, slots=True)
class EventColumn:
    name: str
    value: Callable[[ExportEvent], Value]
    text: bool = False
    width: int = 14


EVENT_COLUMNS: tuple[EventColumn, ...] = (
    EventColumn("report_id", lambda e: e.report_id, width=10),
    EventColumn("at", lambda e: iso(e.at), width=26),
    EventColumn("kind", lambda e: e.kind.value, width=12),
    EventColumn("status", lambda e: e.status, text=True, width=14),
    EventColumn("by", lambda e: e.by, text=True, width=14),
    EventColumn("text", lambda e: e.text, text=True, width=60),
)


@dataclass(frozen=True, slots=True)
class RowColumn(Generic[T]):
    """A column of the Subjects or Notices sheet."""

    name: str
    value: Callable[[T], Value]
    width: int = 14


def _day(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _moment(value: datetime | None) -> str | None:
    return iso(value) if value is not None else None


SUBJECT_COLUMNS: tuple[RowColumn[ExportSubject], ...] = (
    RowColumn("subject_id", lambda s: s.id, width=10),
    RowColumn("reference", lambda s: s.reference, width=12),
    RowColumn("kind", lambda s: s.kind, width=10),
    RowColumn("status", lambda s: s.status, width=10),
    RowColumn("name", lambda s: s.name, width=20),
    RowColumn("aliases", lambda s: "; ".join(s.aliases), width=20),
    RowColumn("description", lambda s: s.description, width=50),
    RowColumn("appearance", lambda s: s.appearance, width=16),
    RowColumn("identification_basis", lambda s: s.identification_basis, width=40),
    RowColumn("identified_at", lambda s: _moment(s.identified_at), width=26),
    RowColumn("created_at", lambda s: iso(s.created_at), width=26),
    RowColumn("last_seen_at", lambda s: iso(s.last_seen_at), width=26),
    RowColumn("left_galleries_at", lambda s: _moment(s.left_galleries_at), width=26),
    RowColumn("merged_into", lambda s: s.merged_into, width=10),
    RowColumn("excluded_until", lambda s: _day(s.excluded_until), width=12),
    RowColumn("report_ids", lambda s: ";".join(str(i) for i in s.report_ids), width=20),
    RowColumn("photo_sha256", lambda s: ";".join(p.sha256 for p in s.photos), width=30),
)

NOTICE_COLUMNS: tuple[RowColumn[ExportNotice], ...] = (
    RowColumn("notice_id", lambda n: n.id, width=10),
    RowColumn("reference", lambda n: n.reference, width=12),
    RowColumn("subject_id", lambda n: n.subject_id, width=10),
    RowColumn("subject_reference", lambda n: n.subject_reference, width=12),
    RowColumn("stage", lambda n: n.stage, width=10),
    RowColumn("in_force", lambda n: "yes" if n.in_force else "no", width=8),
    RowColumn("decided_by", lambda n: n.decided_by, width=24),
    RowColumn("board_decision_ref", lambda n: n.board_decision_ref, width=14),
    RowColumn("premises_count", lambda n: n.premises_count, width=8),
    RowColumn("starts_on", lambda n: n.starts_on.isoformat(), width=12),
    RowColumn("ends_on", lambda n: n.ends_on.isoformat(), width=12),
    RowColumn("review_on", lambda n: n.review_on.isoformat(), width=12),
    RowColumn("conditions", lambda n: n.conditions, width=40),
    RowColumn("issued_at", lambda n: iso(n.issued_at), width=26),
    RowColumn("served_on", lambda n: _day(n.served_on), width=12),
    RowColumn("served_how", lambda n: n.served_how, width=24),
    RowColumn("appeal_received_on", lambda n: _day(n.appeal_received_on), width=12),
    RowColumn("appeal_outcome", lambda n: n.appeal_outcome, width=12),
    RowColumn("appeal_decided_on", lambda n: _day(n.appeal_decided_on), width=12),
    RowColumn("appeal_decision_ref", lambda n: n.appeal_decision_ref, width=14),
)

# A cell starting with one of these is a formula to Excel and LibreOffice.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Value) -> Value:
    """Prefix free text that a spreadsheet would run as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
