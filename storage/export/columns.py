"""The columns of the CSV and the spreadsheet, in their stable, documented order.

Adding a column is done at the end (before the witness columns) so that a
police system importing the CSV by position keeps working; docs/exports.md lists them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from storage.export.records import ExportEvent, ExportReport

Value = str | int | float | Decimal | None


def iso(moment: datetime) -> str:
    """ISO-8601 to the second with the UTC offset: `2026-10-25T01:30:00+01:00`."""
    return moment.isoformat(timespec="seconds")


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

# A cell starting with one of these is a formula to Excel and LibreOffice.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Value) -> Value:
    """Prefix free text that a spreadsheet would run as a formula with an apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value
