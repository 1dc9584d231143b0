"""One export, start to finish: read the log, write the four files and the manifest, audit it.

Every way of exporting (the /export command, the weekly job, `shopwatch export`)
comes through `build_export`, so each is audited the same way. The bot's exports
are read and written by a child process (`storage.export.child`): rendering a PDF
of a busy week takes seconds of Python, and the bot must keep relaying alerts
meanwhile.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from config.vocabulary import AuditOutcome
from storage.export.child import render_in_child
from storage.export.manifest import ExportFile
from storage.export.period import ExportPeriod
from storage.export.records import ExportedBy
from storage.export.render import ExportRequest, read_and_write
from storage.ids import stored_id
from storage.models import Scheme, utcnow
from storage.photos import PhotoStore
from storage.store import Store

logger = logging.getLogger(__name__)


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
    apart: bool = True,
) -> ExportResult:
    """Export `scheme`'s reports logged in `period` into `directory`, and audit it.

    `via` says how it was asked for ("telegram", "weekly job", "command line").
    `apart`: read and written by a child process (`storage.export.child`), so that a
    bot relaying alerts never waits for it; the command line, a process of its own
    already, writes it itself.
    """
    scheme_id = stored_id(scheme)
    request = ExportRequest(
        database_url=store.url,
        photos_root=photos.root,
        scheme_id=scheme_id,
        period=period,
        directory=directory,
        exported_by=exported_by,
        witness_contact=witness_contact,
        now=now or utcnow(),
    )
    if apart and store.shared:
        rendered = await render_in_child(request)
    else:
        rendered = await read_and_write(store, photos, scheme, request)
    files = rendered.files
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
            "reports": rendered.reports,
            "photos": rendered.photos,
            "witness_contact": witness_contact,
            "subject_ids": list(rendered.subject_ids),
            "notice_ids": list(rendered.notice_ids),
            "files": [f.name for f in files],
            "manifest_sha256": manifest.sha256,
        },
    )
    logger.info(
        "export of %s for %s: %d reports, %d photos, %d pages (%s%s)",
        scheme.slug,
        period.key,
        rendered.reports,
        rendered.photos,
        rendered.pages,
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
        files=files,
        reports=rendered.reports,
        photos=rendered.photos,
        pages=rendered.pages,
    )
