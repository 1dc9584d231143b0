"""Retention: what is past a scheme's retention period leaves the log for good.

Every night, per scheme, reports logged before `now - retention_days` are
deleted with their photo records, events and queued messages (the database
cascades those). A photo file goes too once no remaining report shows it and no
subject in the galleries keeps it: the photo store keeps each picture once, and
another report or subject, in any scheme, may share it. Audit entries that name
a deleted report keep who did what and when, but lose the pointer (the report's
id in their detail), so the trail no longer leads to what was deleted. Old export
files are removed as well.

Radio recordings hold voices, so they follow the same period: the recording of
every radio call in a deleted report is unlinked with it, and any other file in
the scheme's recordings folder (a relayed voice note, a call left half-written by
a crash) goes once it is older than the period, unless a call still in the log
is its recording.

Audit details that refer to reports must use the keys `report_id` or `report`
(one) or `report_ids` or `shown` (a list) for this to find them.

What someone searched for is personal data too (a suspect's name, typed into
`/search`): an audit entry loses its `query` with the reports it found, and
every search of the scheme older than the period loses it anyway. Deleted rows
must not survive in the database file either: SQLite runs with `secure_delete`
(freed space is overwritten with zeros), the word index is merged so no segment
keeps a deleted word, and after a purge the WAL is checkpointed and truncated;
`compact_log` vacuums the file on a schedule.
"""

from __future__ import annotations

import logging
import re
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Text, cast, delete, func, text
from sqlmodel import col, or_, select

from config.vocabulary import AuditOutcome, EventKind
from storage.ids import stored_id
from storage.models import AuditEntry, Photo, Report, ReportEvent, Scheme
from storage.photos import PhotoStore
from storage.radio import RECORDINGS, recording_path
from storage.store import Store
from storage.subjects import still_held
from storage.transaction import transaction

logger = logging.getLogger(__name__)

BATCH = 500
# Export files (they hold personal data) are kept this long for delivery, then removed.
EXPORT_KEEP_DAYS = 14
ANONYMISED = "deleted under the retention period"
# Keys of an audit entry's detail that hold what a person typed to search.
QUERY_KEYS = ("query",)
# FTS5 forgets a deleted row's words only when its segments are merged.
_MERGE_WORD_INDEX = "INSERT INTO search_fts(search_fts) VALUES ('optimize')"
# Keys of an audit entry's detail that name one report, or a list of reports
# (`shown`: the reports a page of search results showed).
REPORT_KEYS = ("report_id", "report")
REPORT_LIST_KEYS = ("report_ids", "shown")
_CALL_RECORDING = re.compile(r"event-(\d+)\.ogg")


@dataclass(frozen=True, slots=True)
class PurgeCounts:
    reports: int = 0
    photos: int = 0
    photo_files: int = 0
    events: int = 0
    audit_anonymised: int = 0
    recordings: int = 0

    def __add__(self, other: PurgeCounts) -> PurgeCounts:
        return PurgeCounts(
            self.reports + other.reports,
            self.photos + other.photos,
            self.photo_files + other.photo_files,
            self.events + other.events,
            self.audit_anonymised + other.audit_anonymised,
            self.recordings + other.recordings,
        )


def _without(detail: dict[str, Any], purged: set[int]) -> dict[str, Any] | None:
    """The detail with pointers to purged reports removed; None when it names none."""
    changed = dict(detail)
    hit = False
    for key in REPORT_KEYS:
        if isinstance(detail.get(key), int) and detail[key] in purged:
            del changed[key]
            hit = True
    for key in REPORT_LIST_KEYS:
        ids = detail.get(key)
        if isinstance(ids, list) and any(isinstance(i, int) and i in purged for i in ids):
            changed[key] = [i for i in ids if not (isinstance(i, int) and i in purged)]
            hit = True
    if not hit:
        return None
    for key in QUERY_KEYS:
        changed.pop(key, None)
    changed["anonymised"] = ANONYMISED
    return changed


def _without_query(detail: dict[str, Any]) -> dict[str, Any] | None:
    if not any(key in detail for key in QUERY_KEYS):
        return None
    changed = {k: v for k, v in detail.items() if k not in QUERY_KEYS}
    changed["anonymised"] = ANONYMISED
    return changed


async def _forget_old_queries(store: Store, scheme: Scheme, cutoff: datetime) -> int:
    """Searches of the scheme made before the cutoff lose what was searched for."""
    forgotten = 0
    async with transaction(store.sessions, "forget old search terms") as session:
        entries = await session.exec(
            select(AuditEntry).where(
                AuditEntry.scheme_id == scheme.id,
                col(AuditEntry.at) < cutoff,
                cast(col(AuditEntry.detail), Text).like('%"query"%'),
            )
        )
        for entry in entries.all():
            changed = _without_query(entry.detail)
            if changed is not None:
                entry.detail = changed
                forgotten += 1
    return forgotten


async def compact_log(store: Store, *, vacuum: bool = False) -> None:
    """Leave no copy of deleted rows in the database's files (SQLite; PostgreSQL vacuums).

    The word index is merged into one segment (FTS5 keeps a deleted word in its old
    segments until a merge), the WAL is checkpointed into the database and truncated,
    and with `vacuum` the file is rebuilt without its free pages. PostgreSQL's
    `VACUUM` marks the dead rows' space for reuse; it does not overwrite it.
    """
    if store.backend == "sqlite":
        async with store.engine.begin() as connection:
            await connection.execute(text(_MERGE_WORD_INDEX))
        async with store.engine.connect() as connection:
            raw = await connection.execution_options(isolation_level="AUTOCOMMIT")
            if vacuum:
                await raw.exec_driver_sql("VACUUM")
            await raw.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    if vacuum:
        async with store.engine.connect() as connection:
            raw = await connection.execution_options(isolation_level="AUTOCOMMIT")
            await raw.exec_driver_sql("VACUUM")


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True


async def _purge_batch(
    store: Store, photos: PhotoStore, ids: list[int], slug: str, data_dir: Path | None
) -> PurgeCounts:
    async with transaction(store.sessions, "delete reports past retention") as session:
        photo_rows = (
            await session.exec(select(Photo.relative_path).where(col(Photo.report_id).in_(ids)))
        ).all()
        calls = (
            await session.exec(
                select(ReportEvent.id).where(
                    col(ReportEvent.report_id).in_(ids), ReportEvent.kind == EventKind.RADIO_CALL
                )
            )
        ).all()
        events = (
            await session.exec(select(func.count()).where(col(ReportEvent.report_id).in_(ids)))
        ).one()
        await session.exec(delete(Report).where(col(Report.id).in_(ids)))
        purged = set(ids)
        anonymised = 0
        as_text = cast(col(AuditEntry.detail), Text)
        pointing = await session.exec(
            select(AuditEntry).where(or_(as_text.like('%"report%'), as_text.like('%"shown"%')))
        )
        for entry in pointing.all():
            changed = _without(entry.detail, purged)
            if changed is not None:
                entry.detail = changed
                anonymised += 1
    files = 0
    for relative_path in sorted(set(photo_rows)):
        async with transaction(store.sessions, "check who else shows the photo") as session:
            still_used = await still_held(session, relative_path)
        if not still_used:
            photos.delete(relative_path)
            files += 1
    recordings = 0
    if data_dir is not None:
        for event_id in calls:
            if event_id is not None and _unlink(data_dir / recording_path(slug, event_id)):
                recordings += 1
    return PurgeCounts(len(ids), len(photo_rows), files, events, anonymised, recordings)


async def _purge_old_recordings(
    store: Store, scheme: Scheme, data_dir: Path, cutoff: datetime
) -> int:
    """Files in the scheme's recordings folder older than the cutoff that no call in the log
    still has as its recording (a call's file goes with its report, whatever its age)."""
    folder = data_dir / RECORDINGS / scheme.slug
    if not folder.is_dir():
        return 0
    limit = cutoff.timestamp()
    old = [f for f in folder.iterdir() if f.is_file() and f.stat().st_mtime < limit]
    named = {int(match.group(1)): f for f in old if (match := _CALL_RECORDING.fullmatch(f.name))}
    kept: set[int] = set()
    ids = sorted(named)
    for start in range(0, len(ids), BATCH):  # a query's parameters are bounded
        async with transaction(store.sessions, "find radio calls still logged") as session:
            kept |= {
                event_id
                for event_id in (
                    await session.exec(
                        select(ReportEvent.id).where(
                            col(ReportEvent.id).in_(ids[start : start + BATCH]),
                            ReportEvent.kind == EventKind.RADIO_CALL,
                        )
                    )
                ).all()
                if event_id is not None
            }
    removed = 0
    for path in old:
        match = _CALL_RECORDING.fullmatch(path.name)
        if match is not None and int(match.group(1)) in kept:
            continue
        removed += _unlink(path)
    return removed


async def purge_expired(
    store: Store,
    photos: PhotoStore,
    scheme: Scheme,
    now: datetime,
    *,
    data_dir: Path | None = None,
) -> PurgeCounts:
    """Delete `scheme`'s reports logged more than its retention period before `now`.

    With `data_dir`, the radio recordings kept under it go by the same rule.
    """
    scheme_id = stored_id(scheme)
    cutoff = now - timedelta(days=scheme.retention_days)
    total = PurgeCounts()
    while True:
        async with transaction(store.sessions, "find reports past retention") as session:
            ids = [
                report_id
                for report_id in (
                    await session.exec(
                        select(Report.id)
                        .where(Report.scheme_id == scheme_id, col(Report.created_at) < cutoff)
                        .order_by(col(Report.id))
                        .limit(BATCH)
                    )
                ).all()
                if report_id is not None
            ]
        if not ids:
            break
        total = total + await _purge_batch(store, photos, ids, scheme.slug, data_dir)
    if data_dir is not None:
        swept = await _purge_old_recordings(store, scheme, data_dir, cutoff)
        total = total + PurgeCounts(recordings=swept)
    total = total + PurgeCounts(audit_anonymised=await _forget_old_queries(store, scheme, cutoff))
    if total.reports or total.audit_anonymised:
        await compact_log(store)
    logger.info(
        "retention for %s (%d days): deleted %d reports, %d photos (%d files), %d events, "
        "%d radio recordings; anonymised %d audit entries",
        scheme.slug,
        scheme.retention_days,
        total.reports,
        total.photos,
        total.photo_files,
        total.events,
        total.recordings,
        total.audit_anonymised,
    )
    await store.audit.record(
        actor_telegram_id=None,
        action="retention",
        outcome=AuditOutcome.ALLOWED,
        scheme_id=scheme_id,
        detail={
            "cutoff": cutoff.isoformat(),
            "reports": total.reports,
            "photos": total.photos,
            "photo_files": total.photo_files,
            "events": total.events,
            "audit_anonymised": total.audit_anonymised,
            "recordings": total.recordings,
        },
    )
    return total


def purge_old_exports(
    scheme_exports: Path, now: datetime, keep_days: int = EXPORT_KEEP_DAYS
) -> int:
    """Remove a scheme's export folders older than `keep_days`; returns how many went."""
    if not scheme_exports.is_dir():
        return 0
    limit = (now - timedelta(days=keep_days)).timestamp()
    removed = 0
    for folder in scheme_exports.iterdir():
        if folder.is_dir() and folder.stat().st_mtime < limit:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    if removed:
        logger.info("retention: removed %d export folders from %s", removed, scheme_exports)
    return removed
