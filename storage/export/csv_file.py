"""The CSV: one row per report, the columns of `columns.REPORT_COLUMNS` in that order.

UTF-8 with a byte-order mark, so Excel shows "£" and accented names correctly;
free text that a spreadsheet would run as a formula is prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from storage.export.columns import neutralise, report_columns
from storage.export.files import open_private
from storage.export.records import ExportData


def write_csv(data: ExportData, path: Path) -> None:
    columns = report_columns(data.witness_contact)
    with open_private(path) as raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow([column.name for column in columns])
        for report in data.reports:
            row = []
            for column in columns:
                value = column.value(report)
                if column.text:
                    value = neutralise(value)
                row.append("" if value is None else value)
            writer.writerow(row)
