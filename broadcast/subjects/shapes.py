"""What the subjects' texts are rendered from: a subject access bundle and a weekly digest.

Plain data, built by `access` and `digest` and read by `broadcast.texts.subjects`; this
module imports no texts, so the words and the code that decides need not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from storage.export.period import ExportPeriod
from storage.subject_models import SubjectPhoto

# --- subject access -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Disclosure:
    at: datetime
    action: str
    outcome: str
    by: str
    how: str | None
    disclosure: bool


@dataclass(frozen=True, slots=True)
class SubjectAccess:
    """What a subject access request is answered with, before it is written out."""

    scheme_slug: str
    scheme_name: str
    address: str
    subject_id: int
    reference: str
    merged_ids: tuple[int, ...]
    received: date
    deadline: date
    extended_deadline: date
    generated_at: datetime
    record: dict[str, Any]
    notices: tuple[dict[str, Any], ...]
    reports: tuple[dict[str, Any], ...]
    intel: tuple[dict[str, Any], ...]
    photos: tuple[SubjectPhoto, ...]
    trail: tuple[Disclosure, ...]

    @property
    def disclosures(self) -> tuple[Disclosure, ...]:
        return tuple(entry for entry in self.trail if entry.disclosure)

    def as_json(self) -> dict[str, Any]:
        return {
            "scheme": {"slug": self.scheme_slug, "name": self.scheme_name},
            "subject": self.record,
            "merged_subjects": list(self.merged_ids),
            "request": {
                "received": self.received.isoformat(),
                "deadline": self.deadline.isoformat(),
                "extended_deadline": self.extended_deadline.isoformat(),
            },
            "generated_at": self.generated_at.isoformat(),
            "notices": list(self.notices),
            "reports": list(self.reports),
            "information_from_members": list(self.intel),
            "photos": [
                {"file": photo_name(p), "sha256": p.sha256, "width": p.width, "height": p.height}
                for p in self.photos
            ],
            "disclosures": [_trail_json(e) for e in self.disclosures],
            "other_processing": [_trail_json(e) for e in self.trail if not e.disclosure],
        }


def _trail_json(entry: Disclosure) -> dict[str, Any]:
    return {
        "at": entry.at.isoformat(),
        "action": entry.action,
        "outcome": entry.outcome,
        "by": entry.by,
        "how": entry.how,
    }


def photo_name(photo: SubjectPhoto) -> str:
    suffix = Path(photo.relative_path).suffix or ".jpg"
    return f"photo-{photo.id}-{photo.sha256[:12]}{suffix}"


# --- the weekly digest -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DigestSubject:
    id: int
    description: str
    last_seen: datetime
    photo: str | None


@dataclass(frozen=True, slots=True)
class Exclusion:
    subject_id: int
    name: str
    reference: str
    until: str


@dataclass(frozen=True, slots=True)
class Digest:
    scheme_name: str
    period: ExportPeriod
    sought: tuple[DigestSubject, ...]
    began: tuple[Exclusion, ...]
    ended: tuple[Exclusion, ...]
    incidents: dict[str, int]
    shops: int

    @property
    def subject_ids(self) -> list[int]:
        return sorted(
            {s.id for s in self.sought} | {e.subject_id for e in (*self.began, *self.ended)}
        )
