"""The galleries and a subject's page as one member may see them, each look audited.

Shared by every way of showing them (the Mini App, a chat gallery): who may look is
decided here, at the moment of looking, from the member's row as it is now, so a
suspended member, a member of another scheme or the police (who see subjects in the
export) are refused, and the refusal is audited like the look itself. A subject's
linked reports are shown to the control room and the coordinators only, and only of
their own scheme's subjects; never who reported them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from broadcast.subjects.service import MAKERS, VIEWERS, Actor, SubjectService, local_today
from config.errors import AccessDeniedError, NotFoundError, Refusal
from config.vocabulary import AuditOutcome, MemberStatus, NoticeStage, SubjectKind, SubjectStatus
from storage.ids import stored_id
from storage.models import Scheme
from storage.store import Store
from storage.subject_models import Notice, Subject, SubjectPhoto
from storage.subjects import in_force

SUMMARY_CHARS = 140


@dataclass(frozen=True, slots=True)
class GalleryEntry:
    subject_id: int
    kind: SubjectKind
    title: str
    summary: str
    scheme_name: str
    neighbour: bool
    photo_id: int | None
    excluded_until: date | None
    warned_until: date | None


@dataclass(frozen=True, slots=True)
class Galleries:
    """A scheme's three galleries: each subject in one, an excluded Known one in Excluded."""

    scheme: Scheme
    id_sought: tuple[GalleryEntry, ...]
    known: tuple[GalleryEntry, ...]
    excluded: tuple[GalleryEntry, ...]


@dataclass(frozen=True, slots=True)
class NoticeLine:
    stage: NoticeStage
    starts_on: date
    ends_on: date
    review_on: date
    conditions: str
    served_on: date | None
    appealed: bool
    running: bool


@dataclass(frozen=True, slots=True)
class ReportLine:
    report_id: int
    occurred_at: datetime
    category: str
    location: str
    description: str


@dataclass(frozen=True, slots=True)
class SubjectPage:
    subject_id: int
    kind: SubjectKind
    title: str
    scheme_name: str
    aliases: tuple[str, ...]
    description: str
    ethnicity_descriptor: str | None
    last_seen_at: datetime
    photo_ids: tuple[int, ...]
    notices: tuple[NoticeLine, ...]
    reports: tuple[ReportLine, ...] | None
    """None where the viewer may not see the reports (a member shop)."""


def title_of(subject: Subject) -> str:
    if subject.kind is SubjectKind.KNOWN and subject.name:
        return subject.name
    return f"Subject #{stored_id(subject)}"


class GalleryViewer:
    def __init__(self, service: SubjectService, store: Store) -> None:
        self._service = service
        self._store = store

    async def _refuse(self, actor: Actor, action: str, detail: dict[str, Any]) -> None:
        await self._store.audit.record(
            actor_telegram_id=actor.telegram_id,
            actor_member_id=stored_id(actor.member),
            action=action,
            outcome=AuditOutcome.REFUSED,
            scheme_id=actor.member.scheme_id,
            detail=detail,
        )

    async def _may_look(self, actor: Actor, action: str, detail: dict[str, Any]) -> None:
        member = actor.member
        if member.status is not MemberStatus.ACTIVE or member.role not in VIEWERS:
            await self._refuse(actor, action, {**detail, "reason": "role"})
            raise AccessDeniedError(Refusal.WRONG_ROLE, f"{action} is not open to this member")

    async def galleries(self, actor: Actor, scheme: Scheme, *, how: str) -> Galleries:
        """The galleries of the actor's scheme (with neighbours sharing theirs): audited."""
        detail: dict[str, Any] = {"how": how}
        await self._may_look(actor, "subject.gallery", detail)
        visible = await self._service.visible_schemes(actor.member.scheme_id)
        names = {stored_id(s): s.name for s in await self._store.schemes.list_all()}
        subjects = await self._store.subjects.gallery(visible)
        running = _running_by_subject(
            await self._store.subjects.notices_of_schemes(visible), local_today(scheme)
        )
        id_sought, known, excluded = [], [], []
        for subject in subjects:
            subject_id = stored_id(subject)
            photos = await self._store.subjects.photos(subject_id)
            notices = running.get(subject_id, [])
            exclusion = max(
                (n.ends_on for n in notices if n.stage is NoticeStage.EXCLUSION), default=None
            )
            warning = max(
                (n.ends_on for n in notices if n.stage is NoticeStage.WARNING), default=None
            )
            entry = GalleryEntry(
                subject_id=subject_id,
                kind=subject.kind,
                title=title_of(subject),
                summary=_summary(subject.description),
                scheme_name=names.get(subject.scheme_id, ""),
                neighbour=subject.scheme_id != actor.member.scheme_id,
                photo_id=stored_id(photos[0]) if photos else None,
                excluded_until=exclusion,
                warned_until=warning,
            )
            if subject.kind is SubjectKind.ID_SOUGHT:
                id_sought.append(entry)
            elif exclusion is not None:
                excluded.append(entry)
            else:
                known.append(entry)
        detail["subject_ids"] = [stored_id(s) for s in subjects]
        await self._store.audit.record(
            actor_telegram_id=actor.telegram_id,
            actor_member_id=stored_id(actor.member),
            action="subject.gallery",
            outcome=AuditOutcome.ALLOWED,
            scheme_id=actor.member.scheme_id,
            detail=detail,
        )
        return Galleries(scheme, tuple(id_sought), tuple(known), tuple(excluded))

    async def page(self, actor: Actor, subject_id: int, *, how: str) -> SubjectPage:
        """One subject's page; `SubjectService.view` checks and audits the look."""
        subject = await self._service.view(actor, subject_id, how=how)
        scheme = await self._scheme(subject.scheme_id)
        photos = await self._store.subjects.photos(stored_id(subject))
        today = local_today(scheme)
        notices = tuple(
            _notice_line(n, today) for n in await self._store.subjects.notices(stored_id(subject))
        )
        reports: tuple[ReportLine, ...] | None = None
        if actor.member.role in MAKERS and subject.scheme_id == actor.member.scheme_id:
            zone = ZoneInfo(scheme.timezone)
            reports = tuple(
                ReportLine(
                    report_id=stored_id(r),
                    occurred_at=r.occurred_at.astimezone(zone),
                    category=r.category.value,
                    location=r.location_text or "",
                    description=r.description,
                )
                for r in await self._store.subjects.reports(stored_id(subject))
            )
        return SubjectPage(
            subject_id=stored_id(subject),
            kind=subject.kind,
            title=title_of(subject),
            scheme_name=scheme.name,
            aliases=tuple(subject.aliases) if subject.kind is SubjectKind.KNOWN else (),
            description=subject.description,
            ethnicity_descriptor=subject.ethnicity_descriptor,
            last_seen_at=subject.last_seen_at,
            photo_ids=tuple(stored_id(p) for p in photos),
            notices=notices,
            reports=reports,
        )

    async def photo(self, actor: Actor, photo_id: int) -> SubjectPhoto:
        """A photo of a subject in a gallery the actor may see now, or `NotFoundError`.

        Not audited on its own: the page or gallery that handed out its address was.
        """
        member = actor.member
        if member.status is not MemberStatus.ACTIVE or member.role not in VIEWERS:
            raise AccessDeniedError(
                Refusal.WRONG_ROLE, "the galleries are not open to this member"
            )
        photo = await self._store.subjects.photo(photo_id)
        subject = await self._store.subjects.get(photo.subject_id)
        visible = await self._service.visible_schemes(member.scheme_id)
        if subject.status is not SubjectStatus.ACTIVE or subject.scheme_id not in visible:
            raise NotFoundError(f"no subject photo {photo_id}")
        return photo

    async def _scheme(self, scheme_id: int) -> Scheme:
        for scheme in await self._store.schemes.list_all():
            if scheme.id == scheme_id:
                return scheme
        raise NotFoundError(f"no scheme {scheme_id}")


def _running_by_subject(notices: Sequence[Notice], today: date) -> dict[int, list[Notice]]:
    running: dict[int, list[Notice]] = {}
    for notice in notices:
        if in_force(notice) and notice.starts_on <= today <= notice.ends_on:
            running.setdefault(notice.subject_id, []).append(notice)
    return running


def _notice_line(notice: Notice, today: date) -> NoticeLine:
    return NoticeLine(
        stage=notice.stage,
        starts_on=notice.starts_on,
        ends_on=notice.ends_on,
        review_on=notice.review_on,
        conditions=notice.conditions,
        served_on=notice.served_on,
        appealed=notice.appeal_received_on is not None,
        running=in_force(notice) and notice.starts_on <= today <= notice.ends_on,
    )


def _summary(text: str, limit: int = SUMMARY_CHARS) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
