"""A subject access bundle as one file for a chat, and what an erasure will take.

The command line writes the bundle as a folder for the administrator to send on;
a coordinator in Telegram gets the same folder packed as one zip, sent once and
not kept: the zip is made owner-only in a fresh folder under the exports
directory and deleted as soon as Telegram has it (`DocumentPayload.delete_after_send`).
A zip that never leaves (the coordinator blocked the bot) is removed by the nightly
retention with the export folders (`storage.retention.purge_old_exports`).
"""

from __future__ import annotations

import secrets
import shutil
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

from broadcast.subjects.access import trail_of, write_bundle
from broadcast.subjects.shapes import SubjectAccess
from config.vocabulary import AuditOutcome
from storage.export.files import fresh_dir
from storage.files import create_private
from storage.ids import stored_id
from storage.models import Member, Scheme, utcnow
from storage.photos import PhotoStore
from storage.store import Store

ACCESS_ACTION = "subject.access"


async def with_this_request(
    store: Store, bundle: SubjectAccess, member: Member, scheme: Scheme
) -> SubjectAccess:
    """The bundle with the disclosure it is itself: the audit entry of this request.

    The service reads the trail before it audits the request, so its bundle lists
    earlier requests only; the coordinator who now reads the subject's record is a
    disclosure the person is owed too, read back from the audit trail as written.
    """
    entries = await store.audit.recent(20, scheme_id=scheme.id, actor=member.telegram_user_id)
    own = next(
        (
            e
            for e in entries
            if e.action == ACCESS_ACTION
            and e.outcome == AuditOutcome.ALLOWED
            and e.actor_member_id == member.id
            and e.detail.get("answered_as") == bundle.subject_id
        ),
        None,
    )
    if own is None:
        return bundle
    ids = {bundle.subject_id, *bundle.merged_ids}
    found = trail_of([own], ids, set(), {stored_id(member): (member, scheme.slug)}, scheme)
    return replace(bundle, trail=bundle.trail + found)


def bundle_name(bundle: SubjectAccess) -> str:
    return f"subject-access-{bundle.reference}"


def pack_bundle(bundle: SubjectAccess, photos: PhotoStore, exports_dir: Path) -> Path:
    """The bundle the command line writes, as one owner-only zip in a fresh folder.

    The folder is written first exactly as `shopwatch sar` writes it, packed, and
    removed, so the two ways of answering a request cannot drift apart.
    """
    name = bundle_name(bundle)
    folder = fresh_dir(
        exports_dir
        / bundle.scheme_slug
        / f"{name}-{utcnow():%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
    )
    written = write_bundle(bundle, photos, folder / name)
    archive = folder / f"{name}.zip"
    try:
        with (
            create_private(archive) as handle,
            zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as packed,
        ):
            for path in sorted(written.rglob("*")):
                if path.is_file():
                    packed.write(path, f"{name}/{path.relative_to(written).as_posix()}")
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    shutil.rmtree(written)
    return archive


@dataclass(frozen=True, slots=True)
class Holdings:
    """What the scheme holds under a subject: what an erasure takes away."""

    subject_id: int
    photos: int
    reports: int
    notices: int
    intel: int


async def holdings(store: Store, subject_id: int, scheme_id: int) -> Holdings:
    """Counts of the subject's photos, linked reports, notices and members' answers;
    `NotFoundError` for a subject not of this scheme."""
    subjects = store.subjects
    await subjects.get(subject_id, [scheme_id])
    return Holdings(
        subject_id=subject_id,
        photos=len(await subjects.photos(subject_id)),
        reports=len(await subjects.reports(subject_id)),
        notices=len(await subjects.notices(subject_id)),
        intel=len(await subjects.intel(subject_id)),
    )
