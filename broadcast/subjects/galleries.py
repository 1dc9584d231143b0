"""Galleries expire: a subject leaves them when the scheme's period for its kind has run.

Every night, per scheme (the schemes file's `[subjects]` periods):
- an ID-sought subject leaves `id_sought_days` after it was last seen (a newly
  linked report counts as seen again);
- a Known subject leaves `known_days` after the later of its last sighting and the
  end of its last notice in force, so never while a notice runs.
A subject that leaves loses its photos at once (the files go when no report still
in retention and no other subject holds them); its record stays, out of every
gallery, until the scheme's retention period has passed since, then goes too.
Every run is audited with its counts.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from config.schemes import SubjectsConfig
from config.vocabulary import AuditOutcome, SubjectKind, SubjectStatus
from storage.ids import stored_id
from storage.models import Scheme
from storage.photos import PhotoStore
from storage.store import Store
from storage.subject_models import Subject
from storage.subjects import in_force

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ExpiryCounts:
    expired: int
    photos: int
    photo_files: int
    deleted: int


async def leaves_at(
    store: Store, subject: Subject, policy: SubjectsConfig, zone: ZoneInfo
) -> datetime:
    """When the subject leaves the galleries, as things stand."""
    if subject.kind is SubjectKind.ID_SOUGHT:
        return subject.last_seen_at + timedelta(days=policy.id_sought_days)
    latest = subject.last_seen_at
    for notice in await store.subjects.notices(stored_id(subject)):
        if in_force(notice):
            ends = datetime.combine(notice.ends_on + timedelta(days=1), time(0), zone)
            latest = max(latest, ends)
    return latest + timedelta(days=policy.known_days)


async def expire_galleries(
    store: Store, photos: PhotoStore, scheme: Scheme, policy: SubjectsConfig, now: datetime
) -> ExpiryCounts:
    scheme_id = stored_id(scheme)
    zone = ZoneInfo(scheme.timezone)
    due = [
        stored_id(subject)
        for subject in await store.subjects.of_scheme(scheme_id, [SubjectStatus.ACTIVE])
        if await leaves_at(store, subject, policy, zone) <= now
    ]
    removed = await store.subjects.expire(due, now)
    cutoff = now - timedelta(days=scheme.retention_days)
    old = [
        stored_id(subject)
        for subject in await store.subjects.of_scheme(
            scheme_id, [SubjectStatus.EXPIRED, SubjectStatus.MERGED]
        )
        if (subject.expired_at or subject.updated_at) < cutoff
    ]
    deleted = await store.subjects.delete(old)
    files = (*removed.unheld_files, *deleted.unheld_files)
    for path in files:
        photos.delete(path)
    counts = ExpiryCounts(
        expired=removed.subjects,
        photos=removed.photos + deleted.photos,
        photo_files=len(files),
        deleted=deleted.subjects,
    )
    logger.info(
        "galleries of %s: %d subjects left, %d photos (%d files) removed, %d records deleted",
        scheme.slug,
        counts.expired,
        counts.photos,
        counts.photo_files,
        counts.deleted,
    )
    await store.audit.record(
        actor_telegram_id=None,
        action="subjects.expiry",
        outcome=AuditOutcome.ALLOWED,
        scheme_id=scheme_id,
        detail={
            "subject_ids": due,
            "expired": counts.expired,
            "photos": counts.photos,
            "photo_files": counts.photo_files,
            "deleted": counts.deleted,
        },
    )
    return counts
