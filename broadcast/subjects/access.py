"""Subject access in one step: everything the scheme holds about one person, and who saw it.

A person may ask a scheme for everything it holds about them; the scheme has one
calendar month from the day the request arrived to answer, extendable by two more
for a complex request (UK GDPR article 12(3)). The bundle holds the subject's
record, its notices, the reports linked to it, its photos, what members told the
coordinators, and every entry of the audit trail that names the subject (each
view, letter, export and digest that disclosed it, and each change), with a cover
letter to complete and the deadlines worked out.

Sources are protected as in everything the police see: a report gives its street
and "at the reporting shop", never the shop or who reported; a member business's
name is struck out of the free text; who told the coordinators what, and who in
the scheme viewed the subject, is named only by role and scheme reference
(`NOR-M0012`), never by name. The coordinator reads the bundle before sending it.
"""

from __future__ import annotations

import json
import re
import secrets
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from broadcast.subjects.notices import add_months
from broadcast.subjects.shapes import Disclosure, SubjectAccess, photo_name
from broadcast.texts import subjects as texts
from config.vocabulary import ReportStatus
from storage.export.files import fresh_dir
from storage.files import write_private
from storage.ids import stored_id
from storage.models import AuditEntry, Member, Report, Scheme, utcnow
from storage.photos import PhotoStore
from storage.places import (
    member_reference,
    police_place,
    scheme_prefix,
    shop_names_pattern,
    strike,
)
from storage.subject_models import Notice, Subject, SubjectIntel, SubjectPhoto

DISCLOSURES = frozenset(
    {
        "subject.view",
        "subject.gallery",
        "subject.card",
        "subject.digest",
        "subject.access",
        "notice.letter",
        "export",
    }
)
"""Audit actions that showed the subject to someone; the rest are changes to its record."""
AUDIT_PREFIXES = ("subject", "notice", "export")
WITHDRAWN = "(withdrawn by the reporting member as the wrong person: its text is not held here)"


def subject_reference(slug: str, subject_id: int) -> str:
    return f"{scheme_prefix(slug)}-S{subject_id:04d}"


def deadlines(received: date) -> tuple[date, date]:
    """One calendar month from receipt, and the two-month extension for a complex request."""
    return add_months(received, 1), add_months(received, 3)


def _striker(members: list[Member], reports: list[Report]) -> re.Pattern[str] | None:
    return shop_names_pattern(
        [*(m.shop_name for m in members), *(r.premises_shop for r in reports)]
    )


def _record(subject: Subject, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "number": stored_id(subject),
        "kind": subject.kind.value,
        "status": subject.status.value,
        "name": subject.name,
        "aliases": list(subject.aliases),
        "description": subject.description,
        "appearance_descriptor": subject.ethnicity_descriptor,
        "identification_basis": subject.identification_basis,
        "identified_at": _local(subject.identified_at, zone),
        "created_at": _local(subject.created_at, zone),
        "last_seen_at": _local(subject.last_seen_at, zone),
        "left_the_galleries_at": _local(subject.expired_at, zone),
    }


def _local(moment: datetime | None, zone: ZoneInfo) -> str | None:
    return moment.astimezone(zone).isoformat() if moment is not None else None


def _notice(notice: Notice, slug: str, zone: ZoneInfo) -> dict[str, Any]:
    return {
        "reference": texts.notice_reference(scheme_prefix(slug), stored_id(notice)),
        "stage": notice.stage.value,
        "decided_by": notice.decided_by,
        "board_decision_ref": notice.board_decision_ref,
        "premises": list(notice.premises),
        "starts_on": notice.starts_on.isoformat(),
        "ends_on": notice.ends_on.isoformat(),
        "review_on": notice.review_on.isoformat(),
        "conditions": notice.conditions,
        "issued_at": _local(notice.issued_at, zone),
        "served_on": notice.served_on.isoformat() if notice.served_on else None,
        "served_how": notice.served_how,
        "appeal_received_on": (
            notice.appeal_received_on.isoformat() if notice.appeal_received_on else None
        ),
        "appeal_text": notice.appeal_text,
        "appeal_outcome": notice.appeal_outcome.value if notice.appeal_outcome else None,
        "appeal_decided_on": (
            notice.appeal_decided_on.isoformat() if notice.appeal_decided_on else None
        ),
        "appeal_decision_ref": notice.appeal_decision_ref,
        "withdrawn_at": _local(notice.withdrawn_at, zone),
    }


def _report(report: Report, zone: ZoneInfo, pattern: re.Pattern[str] | None) -> dict[str, Any]:
    withdrawn = report.status is ReportStatus.WITHDRAWN
    return {
        "number": stored_id(report),
        "happened_at": _local(report.occurred_at, zone),
        "logged_at": _local(report.created_at, zone),
        "category": report.category.value,
        "status": report.status.value,
        "where": strike(police_place(report), pattern),
        "heading": None if withdrawn else strike(report.direction, pattern),
        "description": WITHDRAWN if withdrawn else strike(report.description, pattern),
        "person_described": None if withdrawn else strike(report.subject_description, pattern),
        "value_pence": report.value_pence,
        "police_reference": report.police_reference,
    }


def _intel(intel: SubjectIntel, zone: ZoneInfo, pattern: re.Pattern[str] | None) -> dict[str, Any]:
    return {"at": _local(intel.created_at, zone), "text": strike(intel.text, pattern)}


def _who(entry: AuditEntry, people: dict[int, tuple[Member, str]]) -> str:
    if entry.actor_member_id is not None and entry.actor_member_id in people:
        member, slug = people[entry.actor_member_id]
        return f"{member.role.value} {member_reference(slug, entry.actor_member_id)}"
    if entry.action == "export":
        return f"police export ({entry.detail.get('via', 'unknown')})"
    if "by" in entry.detail:
        return "the scheme's administrator (command line)"
    if entry.actor_telegram_id is not None:
        return "a person no longer a member"
    return "ShopWatch (scheduled)"


def _names(entry: AuditEntry, subject_ids: set[int], notice_ids: set[int]) -> bool:
    detail = entry.detail
    if detail.get("subject_id") in subject_ids or detail.get("merged_subject_id") in subject_ids:
        return True
    if detail.get("notice_id") in notice_ids:
        return True
    listed = detail.get("subject_ids")
    return isinstance(listed, list) and any(i in subject_ids for i in listed)


def trail_of(
    entries: list[AuditEntry],
    subject_ids: set[int],
    notice_ids: set[int],
    people: dict[int, tuple[Member, str]],
    scheme: Scheme,
) -> tuple[Disclosure, ...]:
    """The entries naming the subject, whichever scheme's member made them (a neighbour
    that sees our galleries audits its views under its own scheme)."""
    zone = ZoneInfo(scheme.timezone)
    return tuple(
        Disclosure(
            at=entry.at.astimezone(zone),
            action=entry.action,
            outcome=entry.outcome.value,
            by=_who(entry, people),
            how=str(entry.detail["how"]) if "how" in entry.detail else None,
            disclosure=entry.action in DISCLOSURES and entry.outcome.value == "allowed",
        )
        for entry in entries
        if _names(entry, subject_ids, notice_ids)
    )


def shape(
    *,
    scheme: Scheme,
    address: str,
    subject: Subject,
    merged_ids: tuple[int, ...],
    notices: list[Notice],
    reports: list[Report],
    intel: list[SubjectIntel],
    photos: list[SubjectPhoto],
    members: list[Member],
    people: dict[int, tuple[Member, str]],
    entries: list[AuditEntry],
    received: date,
    now: datetime | None = None,
) -> SubjectAccess:
    subject_id = stored_id(subject)
    zone = ZoneInfo(scheme.timezone)
    pattern = _striker(members, reports)
    deadline, extended = deadlines(received)
    ids = {subject_id, *merged_ids}
    notice_ids = {stored_id(n) for n in notices}
    return SubjectAccess(
        scheme_slug=scheme.slug,
        scheme_name=scheme.name,
        address=address,
        subject_id=subject_id,
        reference=subject_reference(scheme.slug, subject_id),
        merged_ids=merged_ids,
        received=received,
        deadline=deadline,
        extended_deadline=extended,
        generated_at=(now or utcnow()).astimezone(zone),
        record=_record(subject, zone),
        notices=tuple(_notice(n, scheme.slug, zone) for n in notices),
        reports=tuple(_report(r, zone, pattern) for r in reports),
        intel=tuple(_intel(i, zone, pattern) for i in intel),
        photos=tuple(photos),
        trail=trail_of(entries, ids, notice_ids, people, scheme),
    )


def _fresh(out: Path, name: str) -> Path:
    """`out` if nothing is there yet, else a new folder inside it (never someone else's)."""
    if not (out.exists() or out.is_symlink()):
        return out
    return out / f"{name}-{utcnow():%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"


def write_bundle(bundle: SubjectAccess, photos: PhotoStore, out: Path) -> Path:
    """Write the bundle into a new owner-only folder; returns the folder."""
    folder = fresh_dir(_fresh(out, f"subject-access-{bundle.reference}"))
    write_private(
        folder / f"subject-access-{bundle.reference}.json",
        json.dumps(bundle.as_json(), indent=2, ensure_ascii=False).encode(),
    )
    write_private(folder / "what-we-hold.txt", texts.sar_record(bundle).encode())
    write_private(folder / "cover-letter.txt", texts.sar_cover_letter(bundle).encode())
    if bundle.photos:
        photo_dir = fresh_dir(folder / "photos")
        for photo in bundle.photos:
            try:
                data = photos.read(photo.relative_path)
            except OSError:
                continue
            write_private(photo_dir / photo_name(photo), data)
    return folder
