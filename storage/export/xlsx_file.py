"""The spreadsheet: the CSV's columns on "Reports", every event on "Events", the galleries
on "Subjects" and their warnings and exclusions on "Notices".

Both sheets have a frozen header row and an auto filter. Written in openpyxl's
streaming mode, so a week of thousands of reports needs little memory. Strings
are always stored as text, never as formulas.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from storage.export.columns import (
    EVENT_COLUMNS,
    NOTICE_COLUMNS,
    SUBJECT_COLUMNS,
    Value,
    report_columns,
)
from storage.export.files import open_private
from storage.export.records import ExportData

REPORTS_SHEET = "Reports"
EVENTS_SHEET = "Events"
SUBJECTS_SHEET = "Subjects"
NOTICES_SHEET = "Notices"


def _prepare(
    sheet: WriteOnlyWorksheet, names: Sequence[str], widths: Sequence[int], rows: int
) -> None:
    sheet.freeze_panes = "A2"
    # Streaming sheets have these at run time; the stubs only give them to ordinary sheets.
    streaming: Any = sheet
    last = get_column_letter(len(names))
    streaming.auto_filter.ref = f"A1:{last}{rows + 1}"
    for index, width in enumerate(widths, start=1):
        streaming.column_dimensions[get_column_letter(index)].width = width
    bold = Font(bold=True)
    header = []
    for name in names:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        header.append(cell)
    sheet.append(header)


def _cell(sheet: WriteOnlyWorksheet, value: Value) -> object:
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"  # text, not a formula
        return cell
    return value


def write_xlsx(data: ExportData, path: Path) -> None:
    workbook = Workbook(write_only=True)
    reports = workbook.create_sheet(REPORTS_SHEET)
    columns = report_columns(data.witness_contact)
    _prepare(reports, [c.name for c in columns], [c.width for c in columns], len(data.reports))
    for report in data.reports:
        reports.append([_cell(reports, column.value(report)) for column in columns])
    events = workbook.create_sheet(EVENTS_SHEET)
    all_events = data.events
    _prepare(
        events,
        [c.name for c in EVENT_COLUMNS],
        [c.width for c in EVENT_COLUMNS],
        len(all_events),
    )
    for event in all_events:
        events.append([_cell(events, column.value(event)) for column in EVENT_COLUMNS])
    subjects = workbook.create_sheet(SUBJECTS_SHEET)
    _prepare(
        subjects,
        [c.name for c in SUBJECT_COLUMNS],
        [c.width for c in SUBJECT_COLUMNS],
        len(data.subjects),
    )
    for subject in data.subjects:
        subjects.append([_cell(subjects, column.value(subject)) for column in SUBJECT_COLUMNS])
    notices = workbook.create_sheet(NOTICES_SHEET)
    _prepare(
        notices,
        [c.name for c in NOTICE_COLUMNS],
        [c.width for c in NOTICE_COLUMNS],
        len(data.notices),
    )
    for notice in data.notices:
        notices.append([_cell(notices, column.value(notice)) for column in NOTICE_COLUMNS])
    with open_private(path) as out:
        workbook.save(out)
