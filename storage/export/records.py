"""What an export contains, read from the log in a few queries and shaped for the police.

The reporting shop is named by its scheme reference (`NOR-M0012`: the scheme's
first three letters and the member's number), never by the person's name, shop
or Telegram account, unless the coordinator asks for a witness-contact export.
Times are in the scheme's timezone with their UTC offset.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlmodel import col, or_, select

from config.vocabulary import (
    Category,
    EventKind,
    ReportSource,
    ReportStatus,
    Role,
    SubjectStatus,
    Urgency,
)
from storage.export.period import ExportPeriod, utc
from storage.grading import Grading, effective_grading, is_cctv_confirmed
from storage.ids import stored_id
from storage.models import (
    DESCRIPTOR_COLUMNS,
    PERSON_COLUMNS,
    Member,
    Photo,
    Report,
    ReportEvent,
    Scheme,
)
from storage.places import (
    is_shop_note,
    member_reference,
    note_for_police,
    police_place,
    reporter_premises,
    scheme_prefix,
    shop_names_pattern,
    strike,
)
from storage.store import Store
from storage.subject_models import Notice, Subject, SubjectPhoto, SubjectReport
from storage.subjects import in_force
from storage.transaction import transaction

__all__ = ["member_reference", "scheme_prefix"]

WITHDRAWN_DESCRIPTION = "(withdrawn by the reporting member: the description is not exported)"


@dataclass(frozen=True, slots=True)
class Witness:
    """The reporting member's contact details: only in witness-contact exports."""

    reference: str
    name: str
    username: str | None
    telegram_user_id: int
    shop_name: str | None
    street: str | None


@dataclass(frozen=True, slots=True)
class ExportPhoto:
    sha256: str
    phash: str | None
    width: int
    height: int
    size: int
    relative_path: str


@dataclass(frozen=True, slots=True)
class ExportEvent:
    report_id: int
    at: datetime
    kind: EventKind
    status: str | None
    text: str | None
    by: str | None


@dataclass(frozen=True, slots=True)
class ExportReport:
    id: int
    logged_at: datetime
    occurred_at: datetime
    category: Category
    urgency: Urgency
    status: ReportStatus
    source: ReportSource
    origin_scheme: str | None
    reported_by: str
    # `storage.places.police_place`: the street and "at the reporting shop", never its name.
    location_text: str | None
    at_reporter_premises: bool
    latitude: float | None
    longitude: float | None
    direction: str | None
    description: str
    subject_description: str | None
    value_pence: int | None
    police_reference: str | None
    descriptors: dict[str, str | int | bool | None]
    """The guided report's structured answers (`storage.models.DESCRIPTOR_COLUMNS`)."""
    grading: Grading
    photos: tuple[ExportPhoto, ...]
    events: tuple[ExportEvent, ...]
    witness: Witness | None

    @property
    def last_status(self) -> str | None:
        statuses = [e.status for e in self.events if e.kind == EventKind.STATUS and e.status]
        return statuses[-1] if statuses else None


@dataclass(frozen=True, slots=True)
class ExportSubject:
    """A person in the scheme's galleries, or linked to a report exported.

    The free text (description, how they were identified) has every member shop's
    name struck out; what members told the coordinators is never exported.
    """

    id: int
    reference: str
    kind: str
    status: str
    name: str | None
    aliases: tuple[str, ...]
    description: str
    appearance: str | None
    identification_basis: str | None
    identified_at: datetime | None
    created_at: datetime
    last_seen_at: datetime
    left_galleries_at: datetime | None
    merged_into: int | None
    report_ids: tuple[int, ...]
    photos: tuple[ExportPhoto, ...]
    excluded_until: date | None


@dataclass(frozen=True, slots=True)
class ExportNotice:
    """A warning or exclusion on an exported subject; its premises are counted, not named
    (the letter served names them), and the appeal's own words stay with the board."""

    id: int
    reference: str
    subject_id: int
    subject_reference: str
    stage: str
    in_force: bool
    decided_by: str
    board_decision_ref: str | None
    premises_count: int
    starts_on: date
    ends_on: date
    review_on: date
    conditions: str
    issued_at: datetime
    served_on: date | None
    served_how: str | None
    appeal_received_on: date | None
    appeal_outcome: str | None
    appeal_decided_on: date | None
    appeal_decision_ref: str | None


@dataclass(frozen=True, slots=True)
class ExportedBy:
    """Who asked for the export, for the manifest and the cover page."""

    kind: str  # "person", "weekly job" or "command line"
    description: str
    telegram_user_id: int | None = None
    member_id: int | None = None
    reference: str | None = None
    role: str | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "description": self.description,
            "telegram_user_id": self.telegram_user_id,
            "member_id": self.member_id,
            "reference": self.reference,
            "role": self.role,
        }


@dataclass(frozen=True, slots=True)
class ExportData:
    scheme_slug: str
    scheme_name: str
    period: ExportPeriod
    generated_at: datetime
    exported_by: ExportedBy
    witness_contact: bool
    reports: tuple[ExportReport, ...]
    counts_by_category: dict[str, int] = field(default_factory=dict)
    subjects: tuple[ExportSubject, ...] = ()
    notices: tuple[ExportNotice, ...] = ()

    @property
    def photos(self) -> dict[str, tuple[ExportPhoto, list[int]]]:
        """Each distinct photo (by SHA-256) once, with the reports that show it."""
        found: dict[str, tuple[ExportPhoto, list[int]]] = {}
        for report in self.reports:
            for photo in report.photos:
                found.setdefault(photo.sha256, (photo, []))[1].append(report.id)
        return found

    @property
    def subject_photos(self) -> dict[str, ExportPhoto]:
        """Each distinct subject photo (by SHA-256) once."""
        return {p.sha256: p for subject in self.subjects for p in subject.photos}

    @property
    def events(self) -> list[ExportEvent]:
        return [event for report in self.reports for event in report.events]


def _event_text(
    event: ReportEvent,
    report: Report,
    members: Mapping[int, tuple[Member, str]],
    *,
    witness_contact: bool,
) -> str | None:
    """An event's words as the export's reader sees them: a shop's note with the shops
    struck out (`storage.places.note_for_police`), unless the export names witnesses."""
    writer, _ = members.get(event.member_id or 0, (None, None))
    if witness_contact or writer is None or not is_shop_note(event, writer):
        return event.text
    reporter, _ = members.get(report.member_id or 0, (None, None))
    shops = (writer.shop_name, report.premises_shop, reporter.shop_name if reporter else None)
    return note_for_police(event.text, shops)


def _reporter(report: Report, member: tuple[Member, str] | None) -> str:
    if member is not None and report.member_id is not None:
        return member_reference(member[1], report.member_id)
    if report.source == ReportSource.FEDERATION:
        return f"{report.origin_scheme or 'neighbouring'} scheme"
    if report.source == ReportSource.RADIO:
        return "control room (radio)"
    return "unknown"


def _witness(report: Report, member: tuple[Member, str] | None) -> Witness | None:
    if member is None or report.member_id is None:
        return None
    row, slug = member
    # The shop as it was when the report was made: a member who moved, or left and
    # rejoined, does not rewrite where their old reports came from.
    shop, street = reporter_premises(report, row)
    return Witness(
        reference=member_reference(slug, report.member_id),
        name=row.display_name,
        username=row.username,
        telegram_user_id=row.telegram_user_id,
        shop_name=shop,
        street=street,
    )


async def load_export_data(
    store: Store,
    scheme: Scheme,
    period: ExportPeriod,
    *,
    exported_by: ExportedBy,
    witness_contact: bool,
    now: datetime,
) -> ExportData:
    """Every report of `scheme` logged in `period`, with photos, events and grading."""
    tz = period.tz
    in_period = (
        col(Report.scheme_id) == stored_id(scheme),
        col(Report.created_at) >= utc(period.start),
        col(Report.created_at) < utc(period.end),
    )
    report_ids = select(Report.id).where(*in_period)
    async with transaction(store.long_reads, "read the log for the export") as session:
        reports = list(
            (
                await session.exec(
                    select(Report)
                    .where(*in_period)
                    .order_by(col(Report.created_at), col(Report.id))
                )
            ).all()
        )
        photos = (
            await session.exec(
                select(Photo)
                .where(col(Photo.report_id).in_(report_ids))
                .order_by(col(Photo.report_id), col(Photo.id))
            )
        ).all()
        events = (
            await session.exec(
                select(ReportEvent)
                .where(col(ReportEvent.report_id).in_(report_ids))
                .order_by(
                    col(ReportEvent.report_id), col(ReportEvent.created_at), col(ReportEvent.id)
                )
            )
        ).all()
        member_rows = (
            await session.exec(
                select(Member, Scheme.slug)
                .join(Scheme, col(Scheme.id) == col(Member.scheme_id))
                .where(
                    or_(
                        col(Member.id).in_(select(Report.member_id).where(*in_period)),
                        col(Member.id).in_(
                            select(ReportEvent.member_id).where(
                                col(ReportEvent.report_id).in_(report_ids)
                            )
                        ),
                    )
                )
            )
        ).all()
    members: dict[int, tuple[Member, str]] = {
        stored_id(member): (member, slug) for member, slug in member_rows
    }
    roles: dict[int, Role] = {member_id: row.role for member_id, (row, _) in members.items()}
    photos_of: dict[int, list[ExportPhoto]] = defaultdict(list)
    for photo in photos:
        assert photo.report_id is not None
        photos_of[photo.report_id].append(
            ExportPhoto(
                sha256=photo.sha256,
                phash=photo.phash,
                width=photo.width,
                height=photo.height,
                size=photo.size,
                relative_path=photo.relative_path,
            )
        )
    events_of: dict[int, list[ReportEvent]] = defaultdict(list)
    for event in events:
        events_of[event.report_id].append(event)

    def actor(member_id: int | None) -> str | None:
        if member_id is None or member_id not in members:
            return None
        return member_reference(members[member_id][1], member_id)

    shaped: list[ExportReport] = []
    counts: dict[str, int] = {category.value: 0 for category in Category}
    for report in reports:
        report_id = stored_id(report)
        member = members.get(report.member_id) if report.member_id is not None else None
        own_events = events_of.get(report_id, [])
        counts[report.category.value] += 1
        # Withdrawn ("Wrong person"): kept for the record, marked and graded E, without
        # anything that describes the person wrongly pointed out (text, photos, updates).
        withdrawn = report.status == ReportStatus.WITHDRAWN
        shaped.append(
            ExportReport(
                id=report_id,
                logged_at=report.created_at.astimezone(tz),
                occurred_at=report.occurred_at.astimezone(tz),
                category=report.category,
                urgency=report.urgency,
                status=report.status,
                source=report.source,
                origin_scheme=report.origin_scheme,
                reported_by=_reporter(report, member),
                location_text=police_place(report),
                at_reporter_premises=report.at_premises,
                latitude=report.latitude,
                longitude=report.longitude,
                direction=None if withdrawn else report.direction,
                description=WITHDRAWN_DESCRIPTION if withdrawn else report.description,
                subject_description=None if withdrawn else report.subject_description,
                value_pence=report.value_pence,
                police_reference=report.police_reference,
                descriptors={
                    name: None if withdrawn and name in PERSON_COLUMNS else getattr(report, name)
                    for name in DESCRIPTOR_COLUMNS
                },
                grading=effective_grading(
                    report, cctv_confirmed=is_cctv_confirmed(own_events, roles)
                ),
                photos=() if withdrawn else tuple(photos_of.get(report_id, ())),
                events=tuple(
                    ExportEvent(
                        report_id=report_id,
                        at=event.created_at.astimezone(tz),
                        kind=event.kind,
                        status=event.status,
                        text=None
                        if withdrawn and event.kind != EventKind.STATUS
                        else _event_text(event, report, members, witness_contact=witness_contact),
                        by=actor(event.member_id),
                    )
                    for event in own_events
                ),
                witness=_witness(report, member) if witness_contact else None,
            )
        )
    subjects, notices = await _load_subjects(store, scheme, [r.id for r in shaped], now, tz)
    return ExportData(
        scheme_slug=scheme.slug,
        scheme_name=scheme.name,
        period=period,
        generated_at=now.astimezone(tz),
        exported_by=exported_by,
        witness_contact=witness_contact,
        reports=tuple(shaped),
        counts_by_category=counts,
        subjects=subjects,
        notices=notices,
    )


async def _load_subjects(
    store: Store, scheme: Scheme, report_ids: list[int], now: datetime, tz: Any
) -> tuple[tuple[ExportSubject, ...], tuple[ExportNotice, ...]]:
    """The scheme's galleries as they stand, and every other subject an exported report
    is linked to, with their notices."""
    scheme_id = stored_id(scheme)
    async with transaction(store.sessions, "read the subjects for the export") as session:
        linked_ids = select(SubjectReport.subject_id).where(
            col(SubjectReport.report_id).in_(report_ids)
        )
        subjects = list(
            (
                await session.exec(
                    select(Subject)
                    .where(
                        Subject.scheme_id == scheme_id,
                        or_(
                            col(Subject.status) == SubjectStatus.ACTIVE,
                            col(Subject.id).in_(linked_ids),
                        ),
                    )
                    .order_by(col(Subject.id))
                )
            ).all()
        )
        ids = [stored_id(s) for s in subjects]
        links = (
            await session.exec(
                select(SubjectReport.subject_id, SubjectReport.report_id)
                .where(col(SubjectReport.subject_id).in_(ids))
                .order_by(col(SubjectReport.report_id))
            )
        ).all()
        photos = (
            await session.exec(
                select(SubjectPhoto)
                .where(col(SubjectPhoto.subject_id).in_(ids))
                .order_by(col(SubjectPhoto.id))
            )
        ).all()
        notices = (
            await session.exec(
                select(Notice)
                .where(col(Notice.subject_id).in_(ids))
                .order_by(col(Notice.subject_id), col(Notice.starts_on), col(Notice.id))
            )
        ).all()
        shops = (
            await session.exec(select(Member.shop_name).where(Member.scheme_id == scheme_id))
        ).all()
        premises = (
            await session.exec(
                select(Report.premises_shop).where(
                    Report.scheme_id == scheme_id, col(Report.premises_shop).is_not(None)
                )
            )
        ).all()
    pattern = shop_names_pattern([*shops, *premises])
    prefix = scheme_prefix(scheme.slug)
    today = now.astimezone(tz).date()
    reports_of: dict[int, list[int]] = defaultdict(list)
    for subject_id, report_id in links:
        reports_of[subject_id].append(report_id)
    photos_of: dict[int, list[ExportPhoto]] = defaultdict(list)
    for photo in photos:
        photos_of[photo.subject_id].append(
            ExportPhoto(
                sha256=photo.sha256,
                phash=photo.phash,
                width=photo.width,
                height=photo.height,
                size=photo.size,
                relative_path=photo.relative_path,
            )
        )
    excluded: dict[int, date] = {}
    for notice in notices:
        if (
            in_force(notice)
            and notice.stage.value == "exclusion"
            and notice.starts_on <= today <= notice.ends_on
        ):
            until = excluded.get(notice.subject_id, notice.ends_on)
            excluded[notice.subject_id] = max(until, notice.ends_on)

    def local(moment: datetime | None) -> datetime | None:
        return moment.astimezone(tz) if moment is not None else None

    def shape_subject(s: Subject) -> ExportSubject:
        subject_id = stored_id(s)
        return ExportSubject(
            id=subject_id,
            reference=f"{prefix}-S{subject_id:04d}",
            kind=s.kind.value,
            status=s.status.value,
            name=s.name,
            aliases=tuple(s.aliases),
            description=strike(s.description, pattern) or "",
            appearance=s.ethnicity_descriptor,
            identification_basis=strike(s.identification_basis, pattern),
            identified_at=local(s.identified_at),
            created_at=s.created_at.astimezone(tz),
            last_seen_at=s.last_seen_at.astimezone(tz),
            left_galleries_at=local(s.expired_at),
            merged_into=s.merged_into_id,
            report_ids=tuple(reports_of.get(subject_id, ())),
            photos=tuple(photos_of.get(subject_id, ())),
            excluded_until=excluded.get(subject_id),
        )

    shaped = tuple(shape_subject(s) for s in subjects)

    def shape_notice(n: Notice) -> ExportNotice:
        notice_id = stored_id(n)
        return ExportNotice(
            id=notice_id,
            reference=f"{prefix}-N{notice_id:04d}",
            subject_id=n.subject_id,
            subject_reference=f"{prefix}-S{n.subject_id:04d}",
            stage=n.stage.value,
            in_force=in_force(n),
            decided_by=n.decided_by,
            board_decision_ref=n.board_decision_ref,
            premises_count=len(n.premises),
            starts_on=n.starts_on,
            ends_on=n.ends_on,
            review_on=n.review_on,
            conditions=strike(n.conditions, pattern) or "",
            issued_at=n.issued_at.astimezone(tz),
            served_on=n.served_on,
            served_how=n.served_how,
            appeal_received_on=n.appeal_received_on,
            appeal_outcome=n.appeal_outcome.value if n.appeal_outcome else None,
            appeal_decided_on=n.appeal_decided_on,
            appeal_decision_ref=n.appeal_decision_ref,
        )

    shaped_notices = tuple(shape_notice(n) for n in notices)
    return shaped, shaped_notices
