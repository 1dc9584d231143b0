"""The subjects' watch: new reports are matched against the galleries after they are stored,
and what it finds is put to the coordinators; a new ID-sought face is put to the
members' group ("Do you know this person?").

Why a scheduled job and not the report's own fan-out: `FanOut.new_report` runs inside
the transaction that stores a report, on the member's path to their confirmation, and
matching reads every subject photo of the scheme (and on a first look computes their
crop hashes from the files). So the watch runs on its own, every `WATCH_EVERY`
seconds (the subjects plugin schedules it), and takes what is committed: every report
of every source (a chat alert, a guided report, a neighbour's alert) is in the log the
same way, so none needs a hook of its own.

Why a run takes its batch whole: on SQLite every transaction of the bot's process waits
its turn for one connection (`storage.engine`), members' alerts among them. Report by
report, matching took five small transactions a report, some 250 for a batch of 50,
all queued in front of them. So a run reads what its batch needs in one transaction
(each report's photos' hashes, the subjects linked to it, its suggestions not yet put,
and the subjects of the batch's schemes: `SubjectRepository.to_match`) and marks the
batch matched in one more: five transactions a run, for 2 reports or 50, and beyond
those only what each suggestion put and each subject photo's first crop hashes cost. A
scheme with no active subject has nothing to match its reports against: they are only
marked.

What it has done is in the log, so a restart neither loses nor repeats anything:
- a report matched is marked with the `updated_at` and the newest photo it was
  matched with (`subject_scan`), once every report of the batch has had its suggestions
  made and put; a report changed since (a guided report's later descriptors or photo)
  is matched again, and so is the batch of a run that stopped before marking it, which
  repeats nothing, since each pair (subject, report) is suggested once and a suggestion
  put is marked put;
- a suggestion put to the coordinators is marked (`put_at`) after its copies are
  queued under keys of the suggestion and the coordinator, and a subject put to the
  members' group (`asked_at`) after its card is queued under a key of the subject and
  the group, so a run that stops between the two queues nothing twice.

A report that fails to match (the log busy, say) is left unmarked, logged,
and taken again next run; the rest of its batch is matched and marked all the same.

Every step of a run is idempotent, and one lock keeps two runs of one process (the
schedule's and a test's) from interleaving.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from broadcast.callbacks import CallbackSigner
from broadcast.subjects.matching import suggest_for_report
from broadcast.subjects.service import SUGGESTED, SUGGESTION_KEY
from broadcast.texts import alerts as alert_texts
from broadcast.texts import subjects as texts
from config.vocabulary import AuditOutcome, MemberStatus, Role
from storage.ids import stored_id
from storage.models import Report, Scheme
from storage.outbox import Delivery
from storage.outbox_payloads import MessagePayload
from storage.photos import PhotoStore
from storage.store import Store
from storage.subject_models import Subject, SubjectSuggestion
from storage.subjects import Candidates, ReportToMatch, Scanned

logger = logging.getLogger(__name__)

WATCH_EVERY = 20.0
"""Seconds between runs: a suggestion reaches the coordinators within about this long."""
BATCH = 50
"""Reports matched in one run at most, so a backlog (after downtime) is taken in steps."""
LINK, NOT_THEM = "link", "no"
KNOW = "subjk"
"""Callback prefix of the members' card's I know who this is: `subjk:<subject id>`."""


@dataclass(frozen=True, slots=True)
class WatchRun:
    """What one run did: reports matched, suggestions put to the coordinators."""

    matched: int
    put: int
    asked: int


class SubjectWatch:
    def __init__(
        self,
        store: Store,
        photos: PhotoStore,
        signer: CallbackSigner,
        *,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self._store = store
        self._photos = photos
        self._signer = signer
        self._wake = wake
        self._lock = asyncio.Lock()

    async def run(self, now: datetime) -> WatchRun:
        """Match the reports waiting, put their new suggestions to the coordinators."""
        async with self._lock:
            schemes = {stored_id(s): s for s in await self._store.schemes.list_all()}
            matched, put = await self._match_batch(schemes, now)
            asked = 0
            for subject in await self._store.subjects.unasked(BATCH):
                scheme = schemes.get(subject.scheme_id)
                if scheme is None:
                    continue
                try:
                    await self._ask(scheme, subject, now)
                except Exception:
                    logger.exception("subject %s not put to members; again next run", subject.id)
                    continue
                asked += 1
            if (put or asked) and self._wake is not None:
                self._wake()
            return WatchRun(matched, put, asked)

    async def _ask(self, scheme: Scheme, subject: Subject, now: datetime) -> None:
        """ "Do you know this person?": a protected card with the subject's first photo in
        the members' group, taken down after the scheme's chat TTL like an alert's copy;
        audited as a disclosure (`subject.card`)."""
        scheme_id = stored_id(scheme)
        subject_id = stored_id(subject)
        photos = await self._store.subjects.photos(subject_id)
        if not photos:
            return
        button = self._signer.sign(KNOW, subject_id)
        await self._store.outbox.enqueue(
            scheme_id,
            Delivery(
                chat_id=scheme.group_chat_id,
                payload=MessagePayload(
                    text=texts.do_you_know(
                        subject_id,
                        subject.description,
                        subject.last_seen_at.astimezone(ZoneInfo(scheme.timezone)),
                    ),
                    photos=(photos[0].relative_path,),
                    buttons=(((texts.BUTTON_I_KNOW, button),),),
                    protect_content=True,
                    delete_after_hours=scheme.chat_ttl_hours,
                ),
                dedupe_key=f"subject-card:{subject_id}:{scheme.group_chat_id}",
            ),
        )
        await self._store.audit.record(
            actor_telegram_id=None,
            action="subject.card",
            outcome=AuditOutcome.ALLOWED,
            scheme_id=scheme_id,
            detail={"subject_id": subject_id, "how": "members' group"},
        )
        await self._store.subjects.mark_asked(subject_id, now)

    async def _match_batch(self, schemes: dict[int, Scheme], now: datetime) -> tuple[int, int]:
        """Reports matched and copies put, the reports read and marked a batch at a time
        (the module's docstring says why)."""
        reports = [
            r for r in await self._store.subjects.unscanned(BATCH) if r.scheme_id in schemes
        ]
        if not reports:
            return 0, 0
        try:
            batch = await self._store.subjects.to_match([stored_id(r) for r in reports])
        except Exception:
            logger.exception("%d reports not matched; again next run", len(reports))
            return 0, 0
        put = 0
        scanned: list[Scanned] = []
        for report in reports:
            report_id = stored_id(report)
            found = batch.reports.get(report_id)
            if found is None:  # deleted since it was listed: nothing left to match or mark
                continue
            candidates = batch.candidates.get(report.scheme_id, [])
            try:
                put += await self._match(schemes[report.scheme_id], report, found, candidates, now)
            except Exception:
                logger.exception("report %s not matched; again next run", report_id)
                continue
            scanned.append(Scanned(report_id, report.updated_at, found.newest_photo_id))
        try:
            await self._store.subjects.mark_all_scanned(scanned)
        except Exception:
            # Their suggestions are made and put: matching them again repeats nothing.
            logger.exception("%d reports matched but not marked; again next run", len(scanned))
            return 0, put
        return len(scanned), put

    async def _match(
        self,
        scheme: Scheme,
        report: Report,
        found: ReportToMatch,
        candidates: Candidates,
        now: datetime,
    ) -> int:
        """Make the report's new suggestions and put them, with any a stopped run left
        unput; no subject to match against (`candidates` empty) makes none."""
        unput = list(found.unput)
        if candidates:
            unput += await suggest_for_report(
                self._store,
                self._photos,
                report,
                candidates,
                probes=found.phashes,
                linked=found.linked,
            )
        put = 0
        for suggestion in unput:
            put += await self._put(scheme, report, suggestion)
            await self._store.subjects.mark_put(stored_id(suggestion), now)
        return put

    async def _put(self, scheme: Scheme, report: Report, suggestion: SubjectSuggestion) -> int:
        """Queue "Possibly Subject #12" to each active coordinator of the scheme; audited."""
        scheme_id = stored_id(scheme)
        suggestion_id = stored_id(suggestion)
        subject = await self._store.subjects.get(suggestion.subject_id)
        active = await self._store.members.list_by_status(scheme_id, MemberStatus.ACTIVE)
        coordinators = [m.telegram_user_id for m in active if m.role is Role.COORDINATOR]
        text = texts.suggestion(
            subject_id=suggestion.subject_id,
            kind=subject.kind.value,
            name=subject.name,
            subject_description=subject.description,
            report_id=suggestion.report_id,
            category=alert_texts.category_name(report.category.value),
            when=report.occurred_at.astimezone(ZoneInfo(scheme.timezone)),
            report_description=report.subject_description or report.description,
            why=texts.suggestion_why(
                suggestion.reason.value, suggestion.distance, suggestion.words
            ),
        )
        buttons = (
            (
                (texts.BUTTON_LINK, self._signer.sign(SUGGESTED, LINK, suggestion_id)),
                (texts.BUTTON_NOT_THEM, self._signer.sign(SUGGESTED, NOT_THEM, suggestion_id)),
            ),
        )
        for chat_id in coordinators:
            await self._store.outbox.enqueue(
                scheme_id,
                Delivery(
                    chat_id=chat_id,
                    payload=MessagePayload(text=text, buttons=buttons, protect_content=True),
                    dedupe_key=f"{SUGGESTION_KEY}:{suggestion_id}:{chat_id}",
                ),
            )
        if not coordinators:
            logger.warning("a suggestion for %s, but it has no coordinator", scheme.slug)
        await self._store.audit.record(
            actor_telegram_id=None,
            action="subject.suggest",
            outcome=AuditOutcome.ALLOWED,
            scheme_id=scheme_id,
            detail={
                "subject_id": suggestion.subject_id,
                "report_id": suggestion.report_id,
                "suggestion_id": suggestion_id,
                "reason": suggestion.reason.value,
                "coordinators": len(coordinators),
            },
        )
        return len(coordinators)
