"""An export's files written from what the log holds: the part a child process can do alone.

`read_and_write` is the whole of it, from the log to the files on disk; the bot runs
it in a process of its own (`storage.export.child`), the command line in its own
process. What it returns is all the caller needs to audit the export and send it.
"""

from __future__ import annotations

import asyncio
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import TypeAdapter

from storage.export.csv_file import write_csv
from storage.export.files import fresh_dir
from storage.export.json_file import write_json
from storage.export.manifest import ExportFile, describe_file, write_manifest
from storage.export.pdf_file import prepare_thumbnails, write_pdf
from storage.export.period import ExportPeriod
from storage.export.records import ExportData, ExportedBy, load_export_data
from storage.export.xlsx_file import write_xlsx
from storage.models import Scheme
from storage.photos import PhotoStore
from storage.store import Store

MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "json": "application/json",
    "manifest": "application/json",
}


@dataclass(frozen=True, slots=True)
class Rendered:
    """What an export wrote and what it held: for the audit entry and the result."""

    files: tuple[ExportFile, ...]  # csv, xlsx, pdf, json, then the manifest
    pages: int
    reports: int
    photos: int
    subject_ids: tuple[int, ...]
    notice_ids: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class ExportRequest:
    database_url: str
    photos_root: Path
    scheme_id: int
    period: ExportPeriod
    directory: Path
    exported_by: ExportedBy
    witness_contact: bool
    now: datetime


# What crosses to the export's process and back, as JSON, checked on arrival.
REQUEST = TypeAdapter(ExportRequest)
RENDERED = TypeAdapter(Rendered)


def base_name(slug: str, period: ExportPeriod, *, witness_contact: bool) -> str:
    name = f"shopwatch-{slug}-{period.slug}"
    return f"{name}-witness-contact" if witness_contact else name


def render_export(
    data: ExportData, photos: PhotoStore, directory: Path
) -> tuple[list[ExportFile], int]:
    """Write the files into `directory`, a new folder made 0700 (it must not exist yet);
    returns them, manifest last, and pages."""
    fresh_dir(directory)
    base = base_name(data.scheme_slug, data.period, witness_contact=data.witness_contact)
    paths = {kind: directory / f"{base}.{kind}" for kind in ("csv", "xlsx", "pdf", "json")}
    with (
        tempfile.TemporaryDirectory(dir=directory, prefix=".thumbnails-") as scratch,
        ThreadPoolExecutor(max_workers=1) as background,
    ):
        # Photos shrink in C code that frees the GIL, so they overlap the Python below.
        shown = [photo for photo, _ in data.photos.values()]
        shown += list(data.subject_photos.values())
        thumbnails = background.submit(prepare_thumbnails, shown, photos, Path(scratch))
        write_csv(data, paths["csv"])
        write_xlsx(data, paths["xlsx"])
        write_json(data, paths["json"])
        pages = write_pdf(data, paths["pdf"], thumbnails.result())
    files = [describe_file(kind, path, MEDIA_TYPES[kind]) for kind, path in paths.items()]
    manifest_path = directory / f"{base}-manifest.json"
    write_manifest(data, files, photos, manifest_path)
    files.append(describe_file("manifest", manifest_path, MEDIA_TYPES["manifest"]))
    return files, pages


async def read_and_write(
    store: Store, photos: PhotoStore, scheme: Scheme, request: ExportRequest
) -> Rendered:
    """Read the export's reports from the log, then write its files in a thread."""
    data = await load_export_data(
        store,
        scheme,
        request.period,
        exported_by=request.exported_by,
        witness_contact=request.witness_contact,
        now=request.now,
    )
    files, pages = await asyncio.to_thread(render_export, data, photos, request.directory)
    return Rendered(
        files=tuple(files),
        pages=pages,
        reports=len(data.reports),
        photos=len(data.photos),
        subject_ids=tuple(s.id for s in data.subjects),
        notice_ids=tuple(n.id for n in data.notices),
    )
