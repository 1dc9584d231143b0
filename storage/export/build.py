"""One export, start to finish: read the log, write the four files and the manifest, audit it.

Every way of exporting (the /export command, the weekly job, `shopwatch export`)
comes through `build_export`, so each is audited the same way. The files are
written in a worker thread: rendering a PDF of a busy week takes a while, and
the bot must keep relaying alerts meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from config.vocabulary import AuditOutcome
from storage.export.csv_file import write_csv
from storage.export.files import fresh_dir
from storage.export.json_file import write_json
from storage.export.manifest import ExportFile, describe_file, write_manifest
from storage.export.pdf_file import prepare_thumbnails, write_pdf
from storage.export.period import ExportPeriod
from storage.export.records import ExportData, ExportedBy, load_export_data
from storage.export.xlsx_file import write_xlsx
from storage.ids import stored_id
from storage.models import Scheme, utcnow
from storage.photos import PhotoStore
from storage.store import Store

logger = logging.getLogger(__name__)

MEDIA_TYPES = {
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
    "json": "application/json",
    "manifest": "application/json",
}


@dataclass(frozen=True, slots=True)
class ExportResult:
    scheme_id: int
    scheme_slug: str
    scheme_name: str
    period: ExportPeriod
    witness_contact: bool
    directory: Path
    files: tuple[ExportFile, ...]  # csv, xlsx, pdf, json, then the manifest
    reports: int
    photos: int
    pages: int

    def file(self, kind: str) -> ExportFile:
        return next(f for f in self.files if f.kind == kind)


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


async def build_export(
    store: Store,
    photos: PhotoStore,
    scheme: Scheme,
    period: ExportPeriod,
    directory: Path,
    *,
    exported_by: ExportedBy,
    via: str,
    witness_contact: bool = False,
    now: datetime | None = None,
) -> ExportResult:
    """Export `scheme`'s reports logged in `period` into `directory`, and audit it.

    `via` says how it was asked for ("telegram", "weekly job", "command line").
    """
    scheme_id = stored_id(scheme)
    data = await load_export_data(
        store,
        scheme,
        period,
        exported_by=exported_by,
        witness_contact=witness_contact,
        now=now or utcnow(),
    )
    files, pages = await asyncio.to_thread(render_export, data, photos, directory)
    manifest = files[-1]
    await store.audit.record(
        actor_telegram_id=exported_by.telegram_user_id,
        actor_member_id=exported_by.member_id,
        action="export",
        outcome=AuditOutcome.ALLOWED,
        scheme_id=scheme_id,
        detail={
            "via": via,
            "from": period.first.isoformat(),
            "to": period.last.isoformat(),
            "reports": len(data.reports),
            "photos": len(data.photos),
            "witness_contact": witness_contact,
            "subject_ids": [s.id for s in data.subjects],
            "notice_ids": [n.id for n in data.notices],
            "files": [f.name for f in files],
            "manifest_sha256": manifest.sha256,
        },
    )
    logger.info(
        "export of %s for %s: %d reports, %d photos, %d pages (%s%s)",
        scheme.slug,
        period.key,
        len(data.reports),
        len(data.photos),
        pages,
        via,
        ", witness contact" if witness_contact else "",
    )
    return ExportResult(
        scheme_id=scheme_id,
        scheme_slug=scheme.slug,
        scheme_name=scheme.name,
        period=period,
        witness_contact=witness_contact,
        directory=directory,
        files=tuple(files),
        reports=len(data.reports),
        photos=len(data.photos),
        pages=pages,
    )
