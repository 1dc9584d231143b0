"""The nightly work on people: galleries expire, and coordinators hear of reviews and ends.

A notice in force is put to the scheme's coordinators `reminder_days` before its
review date and again before its end, each once: the message is queued in the
outbox under a key of the notice and the coordinator (so a run that stops half-way
and runs again queues nothing twice), then the notice records that it was
reminded. A notice whose review falls on its last day gets the end reminder only.
A review or an end missed while the bot was down is still reminded, late, as long
as the notice has not ended. Every run is audited with its counts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from broadcast.subjects.galleries import ExpiryCounts, expire_galleries
from broadcast.texts import subjects as texts
from config.schemes import SchemesFile, SubjectsConfig
from config.vocabulary import AuditOutcome, MemberStatus, Role, SubjectStatus
from storage.ids import stored_id
from storage.models import Scheme
from storage.outbox import Delivery
from storage.outbox_payloads import MessagePayload
from storage.photos import PhotoStore
from storage.places import scheme_prefix
from storage.store import Store
from storage.subject_models import Notice
from storage.subjects import in_force

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReminderCounts:
    reviews: int
    ends: int
    messages: int


@dataclass(frozen=True, slots=True)
class NightlyRun:
    scheme_slug: str
    expiry: ExpiryCounts
    reminders: ReminderCounts


def _due(on: date, today: date, ends: date, days: int) -> bool:
    return on - timedelta(days=days) <= today <= ends


async def remind_coordinators(
    store: Store, scheme: Scheme, policy: SubjectsConfig, now: datetime
) -> ReminderCounts:
    """Queue the review and end reminders now due for the scheme's notices."""
    scheme_id = stored_id(scheme)
    today = now.astimezone(ZoneInfo(scheme.timezone)).date()
    active = await store.members.list_by_status(scheme_id, MemberStatus.ACTIVE)
    coordinators = [m.telegram_user_id for m in active if m.role is Role.COORDINATOR]
    reviews: list[int] = []
    ends: list[int] = []
    messages = 0
    for notice in await store.subjects.notices_of_schemes([scheme_id]):
        if not in_force(notice):
            continue
        notice_id = stored_id(notice)
        review_due = (
            notice.review_reminded_at is None
            and notice.review_on < notice.ends_on
            and _due(notice.review_on, today, notice.ends_on, policy.reminder_days)
        )
        end_due = notice.expiry_reminded_at is None and _due(
            notice.ends_on, today, notice.ends_on, policy.reminder_days
        )
        if not (review_due or end_due):
            continue
        subject = await store.subjects.get(notice.subject_id)
        if subject.status is not SubjectStatus.ACTIVE:
            continue
        reference = texts.notice_reference(scheme_prefix(scheme.slug), notice_id)
        name = subject.name or f"Subject #{stored_id(subject)}"
        if review_due:
            since = await _incidents_since(store, notice, ZoneInfo(scheme.timezone))
            text = texts.reminder_review(
                reference, name, notice.subject_id, notice.review_on, since
            )
            messages += await _queue(
                store, scheme_id, coordinators, notice, what="review", text=text
            )
            await store.subjects.update_notice(notice_id, scheme_id, review_reminded_at=now)
            reviews.append(notice_id)
        if end_due:
            text = texts.reminder_expiry(reference, name, notice.subject_id, notice.ends_on)
            messages += await _queue(store, scheme_id, coordinators, notice, what="end", text=text)
            await store.subjects.update_notice(notice_id, scheme_id, expiry_reminded_at=now)
            ends.append(notice_id)
    counts = ReminderCounts(reviews=len(reviews), ends=len(ends), messages=messages)
    if reviews or ends:
        if not coordinators:
            logger.warning("notice reminders for %s, but it has no coordinator", scheme.slug)
        await store.audit.record(
            actor_telegram_id=None,
            action="notices.reminders",
            outcome=AuditOutcome.ALLOWED,
            scheme_id=scheme_id,
            detail={
                "review_notice_ids": reviews,
                "end_notice_ids": ends,
                "messages": messages,
            },
        )
    return counts


async def _incidents_since(store: Store, notice: Notice, zone: ZoneInfo) -> list[int]:
    """The subject's linked reports that happened once the notice ran: what decides whether
    it was free of incidents. The reports it was issued on happened before."""
    began = max(notice.issued_at, datetime.combine(notice.starts_on, time(0), zone))
    return sorted(
        stored_id(report)
        for report in await store.subjects.reports(notice.subject_id)
        if report.occurred_at >= began
    )


async def _queue(
    store: Store, scheme_id: int, coordinators: list[int], notice: Notice, *, what: str, text: str
) -> int:
    notice_id = stored_id(notice)
    for chat_id in coordinators:
        await store.outbox.enqueue(
            scheme_id,
            Delivery(
                chat_id=chat_id,
                payload=MessagePayload(text=text, protect_content=True),
                dedupe_key=f"notice-{what}:{notice_id}:{chat_id}",
            ),
        )
    return len(coordinators)


async def run_nightly(
    store: Store,
    photos: PhotoStore,
    schemes: SchemesFile,
    now: datetime,
    *,
    only: str | None = None,
    wake: Callable[[], None] | None = None,
) -> list[NightlyRun]:
    """Expire each scheme's galleries and queue its notice reminders (or `only` that one's)."""
    wanted = {s.slug: s.subjects for s in schemes.schemes if only is None or s.slug == only}
    runs: list[NightlyRun] = []
    for scheme in await store.schemes.list_all():
        policy = wanted.get(scheme.slug)
        if policy is None:
            continue
        try:
            expiry = await expire_galleries(store, photos, scheme, policy, now)
            reminders = await remind_coordinators(store, scheme, policy, now)
        except Exception:
            logger.exception("nightly subjects run of %s failed; again tomorrow", scheme.slug)
            continue
        runs.append(NightlyRun(scheme.slug, expiry, reminders))
    if wake is not None and any(run.reminders.messages for run in runs):
        wake()
    return runs
