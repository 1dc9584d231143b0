"""The weekly digest: on Monday each member hears what last week held, in their private chat.

Per scheme, for the week whose export is due (Monday to Sunday, local time): the
new ID-sought subjects (each as a card with its photo, "do you know this person?"),
the exclusions that began and those that ended, the week's incidents by category
and how many member shops reported (a number, never who). It goes to every active
member who has not turned it off, through the outbox, protected from forwarding
and deleted with the scheme's chat TTL like every card. A week's digest is sent
once: the outbox keys are the week's and the member's, and the run is audited
(`subject.digest`, with the subjects it showed, so a subject access request finds it).
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import col, select

from broadcast.subjects.service import VIEWERS
from broadcast.subjects.shapes import Digest, DigestSubject, Exclusion
from broadcast.texts import subjects as texts
from config.schemes import SchemeConfig, SchemesFile
from config.vocabulary import (
    AuditOutcome,
    Category,
    MemberStatus,
    NoticeStage,
    ReportSource,
    ReportStatus,
    SubjectKind,
    SubjectStatus,
)
from storage.export.period import ExportPeriod, due_week, utc, weekly_run_time
from storage.ids import stored_id
from storage.models import AuditEntry, Report, Scheme
from storage.outbox import Delivery
from storage.outbox_payloads import MessagePayload
from storage.places import scheme_prefix
from storage.store import Store
from storage.subject_models import Subject
from storage.subjects import in_force
from storage.transaction import transaction

logger = logging.getLogger(__name__)

DIGEST_ACTION = "subject.digest"
MAX_CARDS = 10
"""Photo cards in one digest at most; the rest are counted and are in the gallery."""


@dataclass(frozen=True, slots=True)
class DigestRun:
    scheme_slug: str
    period: ExportPeriod
    outcome: str  # "sent", "already_done" or "not_due"
    recipients: int = 0
    digest: Digest | None = None


async def gather(store: Store, scheme: Scheme, period: ExportPeriod) -> Digest:
    """What the digest says for `period`, read from the log."""
    scheme_id = stored_id(scheme)
    start, end = utc(period.start), utc(period.end)
    async with transaction(store.sessions, "read the week for the digest") as session:
        new = list(
            (
                await session.exec(
                    select(Subject)
                    .where(
                        Subject.scheme_id == scheme_id,
                        Subject.kind == SubjectKind.ID_SOUGHT,
                        Subject.status == SubjectStatus.ACTIVE,
                        col(Subject.created_at) >= start,
                        col(Subject.created_at) < end,
                    )
                    .order_by(col(Subject.created_at), col(Subject.id))
                )
            ).all()
        )
        reports = (
            await session.exec(
                select(Report.category, Report.member_id, Report.source).where(
                    Report.scheme_id == scheme_id,
                    col(Report.created_at) >= start,
                    col(Report.created_at) < end,
                    col(Report.status) != ReportStatus.WITHDRAWN,
                    col(Report.source) != ReportSource.FEDERATION,
                )
            )
        ).all()
    sought = []
    for subject in new:
        subject_id = stored_id(subject)
        photos = await store.subjects.photos(subject_id)
        sought.append(
            DigestSubject(
                id=subject_id,
                description=subject.description,
                last_seen=subject.last_seen_at.astimezone(period.tz),
                photo=photos[0].relative_path if photos else None,
            )
        )
    began: list[Exclusion] = []
    ended: list[Exclusion] = []
    prefix = scheme_prefix(scheme.slug)
    for notice in await store.subjects.notices_of_schemes([scheme_id]):
        if notice.stage is not NoticeStage.EXCLUSION or not in_force(notice):
            continue
        starts = period.first <= notice.starts_on <= period.last
        ends = period.first <= notice.ends_on <= period.last
        if not (starts or ends):
            continue
        subject = await store.subjects.get(notice.subject_id)
        if subject.status is SubjectStatus.MERGED:
            continue
        shown = Exclusion(
            subject_id=notice.subject_id,
            name=subject.name or f"Subject #{stored_id(subject)}",
            reference=texts.notice_reference(prefix, stored_id(notice)),
            until=texts.day(notice.ends_on),
        )
        if starts:
            began.append(shown)
        if ends:
            ended.append(shown)
    counts = Counter(category for category, _, _ in reports)
    incidents = {c.value: counts[c] for c in Category if counts[c]}
    shops = len({m for _, m, source in reports if m is not None and source is ReportSource.CHAT})
    return Digest(
        scheme_name=scheme.name,
        period=period,
        sought=tuple(sought),
        began=tuple(began),
        ended=tuple(ended),
        incidents=incidents,
        shops=shops,
    )


def deliveries(digest: Digest, chat_id: int, config: SchemeConfig, key: str) -> list[Delivery]:
    """One member's digest: the summary, then a card for each new ID-sought subject."""
    hours = config.chat_ttl_hours
    shown = [s for s in digest.sought if s.photo][:MAX_CARDS]
    summary = MessagePayload(
        text=texts.digest_summary(digest, len(shown)),
        protect_content=True,
        delete_after_hours=hours,
    )
    out = [Delivery(chat_id, summary, dedupe_key=f"{key}:{chat_id}:summary")]
    for subject in shown:
        assert subject.photo is not None
        card = MessagePayload(
            text=texts.digest_card(subject.id, subject.description, subject.last_seen),
            photos=(subject.photo,),
            protect_content=True,
            delete_after_hours=hours,
        )
        out.append(Delivery(chat_id, card, dedupe_key=f"{key}:{chat_id}:subject-{subject.id}"))
    return out


async def _already_done(store: Store, scheme_id: int, period: ExportPeriod) -> bool:
    query = (
        select(AuditEntry)
        .where(AuditEntry.scheme_id == scheme_id, AuditEntry.action == DIGEST_ACTION)
        .order_by(col(AuditEntry.at).desc())
        .limit(60)
    )
    async with transaction(store.sessions, "read the digests sent") as session:
        entries = (await session.exec(query)).all()
    return any(entry.detail.get("period") == period.key for entry in entries)


async def _digest_for(
    store: Store, scheme: Scheme, config: SchemeConfig, now: datetime
) -> DigestRun:
    scheme_id = stored_id(scheme)
    period = due_week(now, scheme.timezone)
    if scheme.created_at > weekly_run_time(period):
        return DigestRun(scheme.slug, period, "not_due")
    if await _already_done(store, scheme_id, period):
        return DigestRun(scheme.slug, period, "already_done")
    digest = await gather(store, scheme, period)
    active = await store.members.list_by_status(scheme_id, MemberStatus.ACTIVE)
    readers = [m for m in active if m.role in VIEWERS and m.weekly_digest]
    key = f"digest:{scheme.slug}:{period.key}"
    for reader in readers:
        for delivery in deliveries(digest, reader.telegram_user_id, config, key):
            await store.outbox.enqueue(scheme_id, delivery)
    await store.audit.record(
        actor_telegram_id=None,
        action=DIGEST_ACTION,
        outcome=AuditOutcome.ALLOWED,
        scheme_id=scheme_id,
        detail={
            "period": period.key,
            "subject_ids": digest.subject_ids,
            "recipients": len(readers),
            "incidents": sum(digest.incidents.values()),
        },
    )
    return DigestRun(scheme.slug, period, "sent", len(readers), digest)


async def run_weekly_digests(
    store: Store,
    schemes: SchemesFile,
    now: datetime,
    *,
    only: str | None = None,
    wake: Callable[[], None] | None = None,
) -> list[DigestRun]:
    """Send the digest of the week due at `now` for each scheme (or `only` that one), once."""
    configs = {s.slug: s for s in schemes.schemes if only is None or s.slug == only}
    runs: list[DigestRun] = []
    for scheme in await store.schemes.list_all():
        config = configs.get(scheme.slug)
        if config is None:
            continue
        try:
            runs.append(await _digest_for(store, scheme, config, now))
        except Exception:
            logger.exception("weekly digest of %s failed; again within the hour", scheme.slug)
    if wake is not None and any(run.recipients for run in runs):
        wake()
    return runs
