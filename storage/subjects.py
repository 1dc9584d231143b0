"""Subjects, their photos, reports, intelligence, suggestions and notices, each change whole.

What the log itself must guarantee lives here, checked inside the transaction that
makes the change: a subject and the reports linked to it are of one scheme, a
withdrawn report makes no subject, two notices on one person never overlap, and a
merge or an erasure leaves nothing half-moved. The scheme's policy (periods, who may
do what, what a member may write) is `broadcast.subjects`'s.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, func, update
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from config.errors import InvalidInputError, NotFoundError, ReportClosedError
from config.vocabulary import (
    AppealOutcome,
    ReportStatus,
    SubjectKind,
    SubjectLinkVia,
    SubjectStatus,
    SuggestionReason,
    SuggestionState,
)
from storage.ids import stored_id
from storage.models import Photo, Report, utcnow
from storage.subject_models import (
    Notice,
    Subject,
    SubjectErasure,
    SubjectIntel,
    SubjectPhoto,
    SubjectReport,
    SubjectScan,
    SubjectSuggestion,
)
from storage.transaction import transaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Identification:
    """Who a subject is, as a coordinator records it: never without its basis."""

    name: str
    aliases: tuple[str, ...]
    basis: str


@dataclass(frozen=True, slots=True)
class Removed:
    """What leaving the galleries took with it: photo rows, and the files no one else holds."""

    subjects: int
    photos: int
    unheld_files: tuple[str, ...]


async def still_held(session: AsyncSession, relative_path: str) -> bool:
    """Whether any report's photo or any subject's photo still shows this file."""
    by_report = (
        await session.exec(select(func.count()).where(Photo.relative_path == relative_path))
    ).one()
    if by_report:
        return True
    by_subject = (
        await session.exec(select(func.count()).where(SubjectPhoto.relative_path == relative_path))
    ).one()
    return bool(by_subject)


Candidates = list[tuple[Subject, list[SubjectPhoto]]]
"""A scheme's active subjects with their photos: read once for all its reports a run
matches, since every report is matched against all of them."""


@dataclass(frozen=True, slots=True)
class ReportToMatch:
    """One report's share of a `MatchBatch`: read with the rest of the batch, so matching
    it costs the log no transaction of its own."""

    scheme_id: int
    photos: tuple[tuple[int, str | None], ...]
    """(id, pHash) of each photo, oldest first: the ids say which photos were matched."""
    linked: frozenset[int]
    """Active subjects it is linked to already: a link is decided, never suggested."""
    unput: tuple[SubjectSuggestion, ...]
    """Undecided suggestions a run made but stopped before putting to the coordinators."""

    @property
    def phashes(self) -> list[str]:
        return [phash for _, phash in self.photos if phash]

    @property
    def newest_photo_id(self) -> int:
        """For `SubjectScan.seen_photo_id`: a photo added later gets the report matched again."""
        return max((photo_id for photo_id, _ in self.photos), default=0)


@dataclass(frozen=True, slots=True)
class MatchBatch:
    """What the subjects' watch needs to match a batch of reports, from one transaction
    (`SubjectRepository.to_match`)."""

    reports: dict[int, ReportToMatch]
    """By report id; one deleted since it was listed is missing, so it is not matched."""
    candidates: dict[int, Candidates]
    """By scheme id, every scheme of `reports` a key: an empty one needs no matching."""


@dataclass(frozen=True, slots=True)
class Scanned:
    """How a report stood when it was matched, so a change since gets it matched again
    (`SubjectRepository.mark_all_scanned`)."""

    report_id: int
    seen_updated_at: datetime
    seen_photo_id: int


def _photo_of(subject_id: int, photo: Photo) -> SubjectPhoto:
    return SubjectPhoto(
        subject_id=subject_id,
        report_id=photo.report_id,
        sha256=photo.sha256,
        phash=photo.phash,
        width=photo.width,
        height=photo.height,
        size=photo.size,
        relative_path=photo.relative_path,
    )


def _overlaps(a_start: date, a_end: date, b_start: date, b_end: date) -> bool:
    return a_start <= b_end and b_start <= a_end


def in_force(notice: Notice) -> bool:
    """Not withdrawn and not overturned on appeal."""
    return notice.withdrawn_at is None and notice.appeal_outcome is not AppealOutcome.OVERTURNED


class SubjectRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    # --- subjects -------------------------------------------------------------------------

    async def create_from_report(
        self,
        report_id: int,
        *,
        scheme_id: int,
        by_member_id: int | None,
        description: str,
        ethnicity_descriptor: str | None = None,
    ) -> Subject:
        """A new ID-sought subject with the report's photos, linked to the report.

        `NotFoundError` for a report that is not the scheme's; `ReportClosedError` for a
        withdrawn one (its sender took it back: it is nobody's evidence).
        """
        async with transaction(self._sessions, "store the subject") as session:
            report = await self._report_of(session, report_id, scheme_id)
            subject = Subject(
                scheme_id=scheme_id,
                kind=SubjectKind.ID_SOUGHT,
                # Whom the report describes; a quick alert says so only in its text.
                description=description
                or report.subject_description
                or (report.description or "")[:2000],
                ethnicity_descriptor=ethnicity_descriptor,
                created_by_member_id=by_member_id,
                last_seen_at=report.occurred_at,
            )
            session.add(subject)
            await session.flush()
            await self._attach(session, subject, report, SubjectLinkVia.CREATED, by_member_id)
        logger.info("subject %s made from report %s", subject.id, report_id)
        return subject

    async def _report_of(self, session: AsyncSession, report_id: int, scheme_id: int) -> Report:
        report = await session.get(Report, report_id)
        if report is None or report.scheme_id != scheme_id:
            raise NotFoundError(f"no report {report_id} in this scheme")
        if report.status is ReportStatus.WITHDRAWN:
            raise ReportClosedError(f"report {report_id} was withdrawn")
        return report

    async def _attach(
        self,
        session: AsyncSession,
        subject: Subject,
        report: Report,
        via: SubjectLinkVia,
        by_member_id: int | None,
    ) -> bool:
        """Link the report and take its photos the subject lacks; False if linked already."""
        subject_id = stored_id(subject)
        report_id = stored_id(report)
        linked = (
            await session.exec(
                select(SubjectReport).where(
                    SubjectReport.subject_id == subject_id, SubjectReport.report_id == report_id
                )
            )
        ).first()
        if linked is not None:
            return False
        session.add(
            SubjectReport(
                subject_id=subject_id,
                report_id=report_id,
                via=via,
                linked_by_member_id=by_member_id,
            )
        )
        have = set(
            (
                await session.exec(
                    select(SubjectPhoto.sha256).where(SubjectPhoto.subject_id == subject_id)
                )
            ).all()
        )
        for photo in (
            await session.exec(
                select(Photo).where(Photo.report_id == report_id).order_by(col(Photo.id))
            )
        ).all():
            if photo.sha256 not in have:
                have.add(photo.sha256)
                session.add(_photo_of(subject_id, photo))
        subject.last_seen_at = max(subject.last_seen_at, report.occurred_at)
        await session.exec(
            update(SubjectSuggestion)
            .where(
                col(SubjectSuggestion.subject_id) == subject_id,
                col(SubjectSuggestion.report_id) == report_id,
                col(SubjectSuggestion.state) == SuggestionState.PENDING,
            )
            .values(
                state=SuggestionState.LINKED,
                decided_by_member_id=by_member_id,
                decided_at=utcnow(),
            )
        )
        return True

    async def get(self, subject_id: int, scheme_ids: Collection[int] | None = None) -> Subject:
        """The subject; `NotFoundError` if it does not exist or is in none of `scheme_ids`."""
        async with transaction(self._sessions, "read the subject") as session:
            subject = await session.get(Subject, subject_id)
        if subject is None or (scheme_ids is not None and subject.scheme_id not in scheme_ids):
            raise NotFoundError(f"no subject {subject_id}")
        return subject

    async def _active(self, session: AsyncSession, subject_id: int, scheme_id: int) -> Subject:
        subject = await session.get(Subject, subject_id, with_for_update=True)
        if subject is None or subject.scheme_id != scheme_id:
            raise NotFoundError(f"no subject {subject_id} in this scheme")
        if subject.status is not SubjectStatus.ACTIVE:
            raise InvalidInputError("subject_not_active", subject.status.value)
        return subject

    async def link(
        self,
        subject_id: int,
        report_id: int,
        *,
        scheme_id: int,
        by_member_id: int | None,
        via: SubjectLinkVia = SubjectLinkVia.LINKED,
    ) -> bool:
        """Link a report of the same scheme; False (and nothing changed) if it was already."""
        async with transaction(self._sessions, "link the report") as session:
            subject = await self._active(session, subject_id, scheme_id)
            report = await self._report_of(session, report_id, scheme_id)
            return await self._attach(session, subject, report, via, by_member_id)

    async def merge(
        self, keep_id: int, gone_id: int, *, scheme_id: int, by_member_id: int | None
    ) -> Subject:
        """Fold `gone` into `keep`: its reports, photos, intelligence and notices move over.

        `gone` stays as a record that points at `keep` (status merged). A name of
        `gone` that `keep` lacks becomes one of `keep`'s aliases.
        """
        if keep_id == gone_id:
            raise InvalidInputError("merge_same_subject", str(keep_id))
        async with transaction(self._sessions, "merge the subjects") as session:
            keep = await self._active(session, keep_id, scheme_id)
            gone = await self._active(session, gone_id, scheme_id)
            reports = (
                await session.exec(
                    select(Report)
                    .join(SubjectReport, col(SubjectReport.report_id) == col(Report.id))
                    .where(SubjectReport.subject_id == gone_id)
                )
            ).all()
            for report in reports:
                await self._attach(session, keep, report, SubjectLinkVia.MERGED, by_member_id)
            have = set(
                (
                    await session.exec(
                        select(SubjectPhoto.sha256).where(SubjectPhoto.subject_id == keep_id)
                    )
                ).all()
            )
            for photo in (
                await session.exec(select(SubjectPhoto).where(SubjectPhoto.subject_id == gone_id))
            ).all():
                if photo.sha256 in have:
                    await session.delete(photo)
                else:
                    have.add(photo.sha256)
                    photo.subject_id = keep_id
            await session.exec(
                update(SubjectIntel)
                .where(col(SubjectIntel.subject_id) == gone_id)
                .values(subject_id=keep_id)
            )
            await session.exec(
                update(Notice).where(col(Notice.subject_id) == gone_id).values(subject_id=keep_id)
            )
            await session.exec(
                delete(SubjectSuggestion).where(col(SubjectSuggestion.subject_id) == gone_id)
            )
            if gone.kind is SubjectKind.KNOWN and keep.kind is SubjectKind.ID_SOUGHT:
                keep.kind = SubjectKind.KNOWN
                keep.name = gone.name
                keep.identification_basis = gone.identification_basis
                keep.identified_by_member_id = gone.identified_by_member_id
                keep.identified_at = gone.identified_at
                keep.aliases = list(gone.aliases)
            else:
                names = [n for n in (gone.name, *gone.aliases) if n]
                keep.aliases = list(
                    dict.fromkeys([*keep.aliases, *(n for n in names if n != keep.name)])
                )
            if gone.description and gone.description not in keep.description:
                keep.description = "; ".join(d for d in (keep.description, gone.description) if d)
            keep.last_seen_at = max(keep.last_seen_at, gone.last_seen_at)
            gone.status = SubjectStatus.MERGED
            gone.merged_into_id = keep_id
        return keep

    async def identify(
        self,
        subject_id: int,
        identification: Identification,
        *,
        scheme_id: int,
        by_member_id: int | None,
        now: datetime | None = None,
    ) -> Subject:
        """Make the subject Known, recording who named them and on what basis."""
        async with transaction(self._sessions, "record the identification") as session:
            subject = await self._active(session, subject_id, scheme_id)
            subject.kind = SubjectKind.KNOWN
            subject.name = identification.name
            subject.aliases = list(identification.aliases)
            subject.identification_basis = identification.basis
            subject.identified_by_member_id = by_member_id
            subject.identified_at = now or utcnow()
        return subject

    async def gallery(
        self,
        scheme_ids: Collection[int],
        *,
        kind: SubjectKind | None = None,
        ids: Collection[int] | None = None,
    ) -> list[Subject]:
        """The active subjects of these schemes, newest seen first."""
        query = select(Subject).where(
            col(Subject.scheme_id).in_(list(scheme_ids)), Subject.status == SubjectStatus.ACTIVE
        )
        if kind is not None:
            query = query.where(Subject.kind == kind)
        if ids is not None:
            query = query.where(col(Subject.id).in_(list(ids)))
        query = query.order_by(col(Subject.last_seen_at).desc(), col(Subject.id).desc())
        async with transaction(self._sessions, "read the gallery") as session:
            return list((await session.exec(query)).all())

    async def photos(self, subject_id: int) -> list[SubjectPhoto]:
        query = (
            select(SubjectPhoto)
            .where(SubjectPhoto.subject_id == subject_id)
            .order_by(col(SubjectPhoto.id))
        )
        async with transaction(self._sessions, "read the subject's photos") as session:
            return list((await session.exec(query)).all())

    async def photo(self, photo_id: int) -> SubjectPhoto:
        async with transaction(self._sessions, "read the subject's photo") as session:
            photo = await session.get(SubjectPhoto, photo_id)
        if photo is None:
            raise NotFoundError(f"no subject photo {photo_id}")
        return photo

    async def reports(self, subject_id: int) -> list[Report]:
        """The reports linked to the subject, oldest first."""
        query = (
            select(Report)
            .join(SubjectReport, col(SubjectReport.report_id) == col(Report.id))
            .where(SubjectReport.subject_id == subject_id)
            .order_by(col(Report.occurred_at), col(Report.id))
        )
        async with transaction(self._sessions, "read the subject's reports") as session:
            return list((await session.exec(query)).all())

    async def of_report(self, report_id: int) -> list[Subject]:
        """The active subjects a report is linked to."""
        query = (
            select(Subject)
            .join(SubjectReport, col(SubjectReport.subject_id) == col(Subject.id))
            .where(SubjectReport.report_id == report_id, Subject.status == SubjectStatus.ACTIVE)
            .order_by(col(Subject.id))
        )
        async with transaction(self._sessions, "read the report's subjects") as session:
            return list((await session.exec(query)).all())

    # --- intelligence ---------------------------------------------------------------------

    async def add_intel(self, subject_id: int, member_id: int | None, text: str) -> SubjectIntel:
        async with transaction(self._sessions, "store what the member said") as session:
            subject = await session.get(Subject, subject_id)
            if subject is None or subject.status is not SubjectStatus.ACTIVE:
                raise NotFoundError(f"no subject {subject_id}")
            intel = SubjectIntel(subject_id=subject_id, member_id=member_id, text=text)
            session.add(intel)
        return intel

    async def intel(self, subject_id: int) -> list[SubjectIntel]:
        query = (
            select(SubjectIntel)
            .where(SubjectIntel.subject_id == subject_id)
            .order_by(col(SubjectIntel.created_at), col(SubjectIntel.id))
        )
        async with transaction(self._sessions, "read the intelligence") as session:
            return list((await session.exec(query)).all())

    # --- suggestions ----------------------------------------------------------------------

    async def suggest(
        self,
        subject_id: int,
        report_id: int,
        reason: SuggestionReason,
        *,
        distance: int | None = None,
        words: Sequence[str] = (),
    ) -> SubjectSuggestion | None:
        """Record a suggestion once: None if this pair was suggested, linked or dismissed."""
        async with transaction(self._sessions, "store the suggestion") as session:
            exists = (
                await session.exec(
                    select(func.count()).where(
                        SubjectSuggestion.subject_id == subject_id,
                        SubjectSuggestion.report_id == report_id,
                    )
                )
            ).one()
            linked = (
                await session.exec(
                    select(func.count()).where(
                        SubjectReport.subject_id == subject_id,
                        SubjectReport.report_id == report_id,
                    )
                )
            ).one()
            if exists or linked:
                return None
            suggestion = SubjectSuggestion(
                subject_id=subject_id,
                report_id=report_id,
                reason=reason,
                distance=distance,
                words=list(words),
            )
            session.add(suggestion)
        return suggestion

    async def suggestion(self, suggestion_id: int) -> SubjectSuggestion:
        async with transaction(self._sessions, "read the suggestion") as session:
            found = await session.get(SubjectSuggestion, suggestion_id)
        if found is None:
            raise NotFoundError(f"no suggestion {suggestion_id}")
        return found

    async def take_suggestion(
        self, suggestion_id: int, *, scheme_id: int, by_member_id: int | None
    ) -> tuple[SubjectSuggestion, bool]:
        """Link: the suggestion's report joins its subject, unless the suggestion was decided
        already (a second press, a Not them). True if this call linked it.

        `NotFoundError` for a suggestion of another scheme's report, `ReportClosedError`
        for a withdrawn report; decided and checked in one transaction, so a Link and a
        Not them pressed at once by two coordinators cannot both win.
        """
        async with transaction(self._sessions, "link the suggested report") as session:
            found = await session.get(SubjectSuggestion, suggestion_id, with_for_update=True)
            if found is None:
                raise NotFoundError(f"no suggestion {suggestion_id}")
            report = await self._report_of(session, found.report_id, scheme_id)
            if found.state is not SuggestionState.PENDING:
                return found, False
            subject = await self._active(session, found.subject_id, scheme_id)
            linked = await self._attach(
                session, subject, report, SubjectLinkVia.SUGGESTION, by_member_id
            )
            found.state = SuggestionState.LINKED
            found.decided_by_member_id = by_member_id
            found.decided_at = utcnow()
        return found, linked

    async def dismiss(self, suggestion_id: int, by_member_id: int | None) -> bool:
        """ "Not them": True if this call decided it, False if it was decided already."""
        async with transaction(self._sessions, "dismiss the suggestion") as session:
            result = await session.exec(
                update(SubjectSuggestion)
                .where(
                    col(SubjectSuggestion.id) == suggestion_id,
                    col(SubjectSuggestion.state) == SuggestionState.PENDING,
                )
                .values(
                    state=SuggestionState.DISMISSED,
                    decided_by_member_id=by_member_id,
                    decided_at=utcnow(),
                )
            )
            return bool(result.rowcount)

    async def candidates(self, scheme_id: int) -> Candidates:
        """Every active subject of the scheme with its photos, for matching a new report."""
        async with transaction(self._sessions, "read the subjects to match") as session:
            return (await _candidates_in(session, [scheme_id]))[scheme_id]

    async def to_match(self, report_ids: Collection[int]) -> MatchBatch:
        """What matching these reports needs, read in one transaction: on SQLite every
        transaction of the process waits for one connection, members' alerts among them,
        so a run of the watch reads its whole batch at once rather than report by report."""
        ids = list(report_ids)
        if not ids:
            return MatchBatch(reports={}, candidates={})
        async with transaction(self._sessions, "read the reports to match") as session:
            schemes = dict(
                (
                    await session.exec(
                        select(col(Report.id), col(Report.scheme_id)).where(
                            col(Report.id).in_(ids)
                        )
                    )
                ).all()
            )
            photos = (
                await session.exec(
                    select(col(Photo.report_id), col(Photo.id), col(Photo.phash))
                    .where(col(Photo.report_id).in_(ids))
                    .order_by(col(Photo.id))
                )
            ).all()
            links = (
                await session.exec(
                    select(col(SubjectReport.report_id), col(SubjectReport.subject_id))
                    .join(Subject, col(Subject.id) == col(SubjectReport.subject_id))
                    .where(
                        col(SubjectReport.report_id).in_(ids),
                        Subject.status == SubjectStatus.ACTIVE,
                    )
                )
            ).all()
            unput = (await session.exec(_unput_query(ids))).all()
            candidates = await _candidates_in(session, set(schemes.values()))
        photos_of: dict[int, list[tuple[int, str | None]]] = {}
        for report_id, photo_id, phash in photos:
            if report_id is not None and photo_id is not None:  # ids of stored rows: always
                photos_of.setdefault(report_id, []).append((photo_id, phash))
        linked_to: dict[int, set[int]] = {}
        for report_id, subject_id in links:
            linked_to.setdefault(report_id, set()).add(subject_id)
        unput_of: dict[int, list[SubjectSuggestion]] = {}
        for suggestion in unput:
            unput_of.setdefault(suggestion.report_id, []).append(suggestion)
        reports = {
            report_id: ReportToMatch(
                scheme_id=scheme_id,
                photos=tuple(photos_of.get(report_id, ())),
                linked=frozenset(linked_to.get(report_id, ())),
                unput=tuple(unput_of.get(report_id, ())),
            )
            for report_id, scheme_id in schemes.items()
            if report_id is not None
        }
        return MatchBatch(reports=reports, candidates=candidates)

    async def unscanned(self, limit: int) -> list[Report]:
        """Reports not yet matched against their scheme's subjects, or changed since, oldest
        first: what the watch (`broadcast.subjects.watch`) takes next."""
        query = (
            select(Report)
            .outerjoin(SubjectScan, col(SubjectScan.report_id) == col(Report.id))
            .where(
                (col(SubjectScan.report_id).is_(None))
                | (col(SubjectScan.seen_updated_at) != col(Report.updated_at))
                | select(Photo.id)
                .where(
                    col(Photo.report_id) == col(Report.id),
                    col(Photo.id) > col(SubjectScan.seen_photo_id),
                )
                .exists()
            )
            .order_by(col(Report.id))
            .limit(limit)
        )
        async with transaction(self._sessions, "read the reports to match") as session:
            return list((await session.exec(query)).all())

    async def mark_scanned(
        self, report_id: int, seen_updated_at: datetime, seen_photo_id: int
    ) -> None:
        """The report was matched as it stood at `seen_updated_at` with its photos up to
        `seen_photo_id` (a report gone meanwhile: nothing)."""
        await self.mark_all_scanned([Scanned(report_id, seen_updated_at, seen_photo_id)])

    async def mark_all_scanned(self, scans: Sequence[Scanned]) -> None:
        """`mark_scanned` for a batch in one transaction, for the watch's run (on SQLite
        one transaction a report would queue fifty in front of members' alerts)."""
        if not scans:
            return
        ids = [scan.report_id for scan in scans]
        async with transaction(self._sessions, "record the reports matched") as session:
            present = set(
                (await session.exec(select(col(Report.id)).where(col(Report.id).in_(ids)))).all()
            )
            rows = {
                row.report_id: row
                for row in (
                    await session.exec(
                        select(SubjectScan).where(col(SubjectScan.report_id).in_(ids))
                    )
                ).all()
            }
            for scan in scans:
                if scan.report_id not in present:
                    continue
                row = rows.get(scan.report_id)
                if row is None:
                    rows[scan.report_id] = row = SubjectScan(
                        report_id=scan.report_id,
                        seen_updated_at=scan.seen_updated_at,
                        seen_photo_id=scan.seen_photo_id,
                    )
                    session.add(row)
                else:
                    row.seen_updated_at = scan.seen_updated_at
                    row.seen_photo_id = scan.seen_photo_id
                    row.scanned_at = utcnow()

    async def unput(self, report_id: int) -> list[SubjectSuggestion]:
        """The report's undecided suggestions not yet queued to the coordinators."""
        async with transaction(self._sessions, "read the suggestions to put") as session:
            return list((await session.exec(_unput_query([report_id]))).all())

    async def mark_put(self, suggestion_id: int, now: datetime) -> None:
        async with transaction(self._sessions, "record the suggestion put") as session:
            await session.exec(
                update(SubjectSuggestion)
                .where(col(SubjectSuggestion.id) == suggestion_id)
                .values(put_at=now)
            )

    async def unasked(self, limit: int) -> list[Subject]:
        """Active ID-sought subjects with a photo whose members' group is not yet asked."""
        with_photo = select(SubjectPhoto.subject_id).where(
            col(SubjectPhoto.subject_id) == col(Subject.id)
        )
        query = (
            select(Subject)
            .where(
                Subject.status == SubjectStatus.ACTIVE,
                Subject.kind == SubjectKind.ID_SOUGHT,
                col(Subject.asked_at).is_(None),
                with_photo.exists(),
            )
            .order_by(col(Subject.id))
            .limit(limit)
        )
        async with transaction(self._sessions, "read the faces to ask about") as session:
            return list((await session.exec(query)).all())

    async def mark_asked(self, subject_id: int, now: datetime) -> None:
        async with transaction(self._sessions, "record the group asked") as session:
            await session.exec(
                update(Subject).where(col(Subject.id) == subject_id).values(asked_at=now)
            )

    async def set_crop_hashes(self, photo_id: int, hashes: Sequence[str]) -> None:
        async with transaction(self._sessions, "store the photo's crop hashes") as session:
            photo = await session.get(SubjectPhoto, photo_id)
            if photo is not None:
                photo.crop_phashes = list(hashes)

    # --- notices --------------------------------------------------------------------------

    async def issue_notice(self, notice: Notice) -> Notice:
        """Store a notice on a Known, active subject of its scheme that overlaps none in force."""
        async with transaction(self._sessions, "store the notice") as session:
            subject = await self._active(session, notice.subject_id, notice.scheme_id)
            if subject.kind is not SubjectKind.KNOWN:
                raise InvalidInputError("notice_needs_known_subject", str(subject.id))
            for other in (
                await session.exec(select(Notice).where(Notice.subject_id == subject.id))
            ).all():
                if in_force(other) and _overlaps(
                    other.starts_on, other.ends_on, notice.starts_on, notice.ends_on
                ):
                    raise InvalidInputError("notice_overlaps", str(other.id))
            session.add(notice)
        return notice

    async def notice(self, notice_id: int, scheme_id: int | None = None) -> Notice:
        async with transaction(self._sessions, "read the notice") as session:
            found = await session.get(Notice, notice_id)
        if found is None or (scheme_id is not None and found.scheme_id != scheme_id):
            raise NotFoundError(f"no notice {notice_id}")
        return found

    async def notices(self, subject_id: int) -> list[Notice]:
        query = (
            select(Notice)
            .where(Notice.subject_id == subject_id)
            .order_by(col(Notice.starts_on), col(Notice.id))
        )
        async with transaction(self._sessions, "read the notices") as session:
            return list((await session.exec(query)).all())

    async def notices_of_schemes(self, scheme_ids: Collection[int]) -> list[Notice]:
        query = (
            select(Notice)
            .where(col(Notice.scheme_id).in_(list(scheme_ids)))
            .order_by(col(Notice.starts_on), col(Notice.id))
        )
        async with transaction(self._sessions, "read the notices") as session:
            return list((await session.exec(query)).all())

    async def running_notice(self, subject_id: int, today: date) -> Notice | None:
        """The notice in force on `today`, if any (an exclusion before a warning)."""
        running = [
            n
            for n in await self.notices(subject_id)
            if in_force(n) and n.starts_on <= today <= n.ends_on
        ]
        running.sort(key=lambda n: (n.stage.value != "exclusion", n.ends_on))
        return running[0] if running else None

    async def record_appeal(
        self, notice_id: int, scheme_id: int, received_on: date, text: str
    ) -> Notice:
        """The appeal, only if none is recorded yet: one conditional UPDATE, so of two
        recorded at the same moment the second finds the first and is refused rather than
        replacing its grounds (a read and a write apart would let both through)."""
        async with transaction(self._sessions, "record the appeal") as session:
            result = await session.exec(
                update(Notice)
                .where(
                    col(Notice.id) == notice_id,
                    col(Notice.scheme_id) == scheme_id,
                    col(Notice.appeal_received_on).is_(None),
                )
                .values(appeal_received_on=received_on, appeal_text=text)
            )
            if not result.rowcount:
                notice = await session.get(Notice, notice_id)
                if notice is None or notice.scheme_id != scheme_id:
                    raise NotFoundError(f"no notice {notice_id}")
                raise InvalidInputError("appeal_already_recorded")
        return await self.notice(notice_id, scheme_id)

    async def update_notice(self, notice_id: int, scheme_id: int, **fields: object) -> Notice:
        """Record service, an appeal, its decision or a reminder sent (named fields only)."""
        allowed = {
            "served_on",
            "served_how",
            "appeal_received_on",
            "appeal_text",
            "appeal_outcome",
            "appeal_decided_on",
            "appeal_decision_ref",
            "ends_on",
            "review_on",
            "withdrawn_at",
            "review_reminded_at",
            "expiry_reminded_at",
        }
        async with transaction(self._sessions, "update the notice") as session:
            notice = await session.get(Notice, notice_id, with_for_update=True)
            if notice is None or notice.scheme_id != scheme_id:
                raise NotFoundError(f"no notice {notice_id}")
            for name, value in fields.items():
                if name not in allowed:
                    raise ValueError(f"a notice's {name!r} cannot be changed")
                setattr(notice, name, value)
        return notice

    # --- leaving the galleries ------------------------------------------------------------

    async def expire(self, subject_ids: Collection[int], now: datetime) -> Removed:
        """Take these subjects out of the galleries: their photos go, the record stays."""
        return await self._remove(subject_ids, now, erase=False)

    async def delete(self, subject_ids: Collection[int]) -> Removed:
        """Delete expired or merged subjects' records for good (past the retention period)."""
        return await self._remove(subject_ids, utcnow(), erase=True)

    async def _remove(
        self, subject_ids: Collection[int], now: datetime, *, erase: bool
    ) -> Removed:
        async with transaction(self._sessions, "remove subjects from the galleries") as session:
            return await _remove_in(session, list(subject_ids), now, erase=erase)

    async def erase(
        self, subject_id: int, *, scheme_id: int, by_member_id: int | None, reason: str
    ) -> tuple[SubjectErasure, Removed]:
        """Erase a subject (a wrong identification) and record only that it was erased."""
        async with transaction(self._sessions, "erase the subject") as session:
            subject = await session.get(Subject, subject_id, with_for_update=True)
            if subject is None or subject.scheme_id != scheme_id:
                raise NotFoundError(f"no subject {subject_id} in this scheme")
            removed = await _remove_in(session, [subject_id], utcnow(), erase=True)
            erasure = SubjectErasure(
                scheme_id=scheme_id,
                subject_id=subject_id,
                erased_by_member_id=by_member_id,
                reason=reason,
            )
            session.add(erasure)
        return erasure, removed

    async def erasure(self, subject_id: int) -> SubjectErasure | None:
        async with transaction(self._sessions, "read the erasure record") as session:
            return (
                await session.exec(
                    select(SubjectErasure).where(SubjectErasure.subject_id == subject_id)
                )
            ).first()

    async def of_scheme(
        self, scheme_id: int, statuses: Collection[SubjectStatus]
    ) -> list[Subject]:
        query = (
            select(Subject)
            .where(Subject.scheme_id == scheme_id, col(Subject.status).in_(list(statuses)))
            .order_by(col(Subject.id))
        )
        async with transaction(self._sessions, "read the subjects") as session:
            return list((await session.exec(query)).all())


def _unput_query(report_ids: list[int]) -> SelectOfScalar[SubjectSuggestion]:
    return (
        select(SubjectSuggestion)
        .join(Subject, col(Subject.id) == col(SubjectSuggestion.subject_id))
        .where(
            col(SubjectSuggestion.report_id).in_(report_ids),
            SubjectSuggestion.state == SuggestionState.PENDING,
            col(SubjectSuggestion.put_at).is_(None),
            Subject.status == SubjectStatus.ACTIVE,
        )
        .order_by(col(SubjectSuggestion.id))
    )


async def _candidates_in(
    session: AsyncSession, scheme_ids: Collection[int]
) -> dict[int, Candidates]:
    """Each scheme's `Candidates`, every scheme asked for a key: one with none has nothing
    to match against, which its caller needs to tell from one not asked for."""
    ids = list(scheme_ids)
    if not ids:
        return {}
    active = (col(Subject.scheme_id).in_(ids), Subject.status == SubjectStatus.ACTIVE)
    subjects = (await session.exec(select(Subject).where(*active).order_by(col(Subject.id)))).all()
    photos = (
        await session.exec(
            select(SubjectPhoto)
            .join(Subject, col(Subject.id) == col(SubjectPhoto.subject_id))
            .where(*active)
            .order_by(col(SubjectPhoto.id))
        )
    ).all()
    by_subject: dict[int, list[SubjectPhoto]] = {}
    for photo in photos:
        by_subject.setdefault(photo.subject_id, []).append(photo)
    found: dict[int, Candidates] = {scheme_id: [] for scheme_id in ids}
    for subject in subjects:
        found[subject.scheme_id].append((subject, by_subject.get(stored_id(subject), [])))
    return found


async def _remove_in(
    session: AsyncSession, ids: list[int], now: datetime, *, erase: bool
) -> Removed:
    if not ids:
        return Removed(0, 0, ())
    paths = list(
        (
            await session.exec(
                select(SubjectPhoto.relative_path).where(col(SubjectPhoto.subject_id).in_(ids))
            )
        ).all()
    )
    await session.exec(delete(SubjectPhoto).where(col(SubjectPhoto.subject_id).in_(ids)))
    await session.exec(delete(SubjectSuggestion).where(col(SubjectSuggestion.subject_id).in_(ids)))
    if erase:
        await session.exec(
            update(Subject).where(col(Subject.merged_into_id).in_(ids)).values(merged_into_id=None)
        )
        result = await session.exec(delete(Subject).where(col(Subject.id).in_(ids)))
    else:
        result = await session.exec(
            update(Subject)
            .where(col(Subject.id).in_(ids), col(Subject.status) == SubjectStatus.ACTIVE)
            .values(status=SubjectStatus.EXPIRED, expired_at=now)
        )
    unheld = []
    for path in sorted(set(paths)):
        if not await still_held(session, path):
            unheld.append(path)
    count = int(result.rowcount)
    return Removed(count, len(paths), tuple(unheld))
