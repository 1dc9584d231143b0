"""Exports on their way: each file queued as a protected document, and the weekly run.

Whoever asked for an export (a coordinator's /export, the weekly job) gets its
files through the outbox like every other message: stored first, sent after,
retried on failure. The weekly run is a plain function of `now`, so the job
scheduler, the start-up catch-up and the tests all drive the same code.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlmodel import col, select

from broadcast.texts import export as export_texts
from broadcast.texts import formats
from config.schemes import SchemesFile
from config.settings import Settings
from config.vocabulary import AuditOutcome, MemberStatus, Role
from storage.export.build import ExportResult, build_export
from storage.export.period import ExportPeriod, due_week, weekly_run_time
from storage.export.records import ExportedBy
from storage.export.render import base_name
from storage.ids import stored_id
from storage.models import AuditEntry, Scheme
from storage.outbox import Delivery
from storage.outbox_payloads import DocumentPayload, MessagePayload
from storage.photos import PhotoStore
from storage.store import Store
from storage.transaction import transaction

logger = logging.getLogger(__name__)

# What Telegram lets a bot send as one document.
TELEGRAM_DOCUMENT_LIMIT = 50 * 1024 * 1024
WEEKLY_ACTION = "weekly_export"


def export_directory(settings: Settings, slug: str, period: ExportPeriod, now: datetime) -> Path:
    """A fresh folder under the exports directory for one export."""
    stamp = f"{now:%Y%m%dT%H%M%S}-{secrets.token_hex(3)}"
    return settings.exports_dir / slug / f"{period.slug}-{stamp}"


def _first_last(period: ExportPeriod) -> tuple[str, str]:
    return formats.day(period.first), formats.day(period.last)


async def queue_export(
    store: Store,
    data_dir: Path,
    result: ExportResult,
    chat_ids: Sequence[int],
    *,
    weekly: bool = False,
    dedupe: str | None = None,
) -> int:
    """Queue every file of `result` to each chat, protected; returns the rows queued.

    A file too large for Telegram becomes a message saying so. With `dedupe`, a
    second call for the same export queues nothing new.
    """
    first, last = _first_last(result.period)
    queued = 0
    for chat_id in chat_ids:
        for file in result.files:
            key = f"{dedupe}:{chat_id}:{file.kind}" if dedupe else None
            if file.size > TELEGRAM_DOCUMENT_LIMIT:
                delivery = Delivery(
                    chat_id=chat_id,
                    payload=MessagePayload(
                        text=export_texts.export_too_large(file.name, file.size / 2**20)
                    ),
                    dedupe_key=key,
                )
            else:
                delivery = Delivery(
                    chat_id=chat_id,
                    payload=DocumentPayload(
                        path=str(file.path.relative_to(data_dir)),
                        filename=file.name,
                        caption=export_texts.export_caption(
                            file.kind,
                            result.scheme_name,
                            first,
                            last,
                            result.reports,
                            weekly=weekly,
                        ),
                        protect_content=True,
                    ),
                    dedupe_key=key,
                )
            await store.outbox.enqueue(result.scheme_id, delivery)
            queued += 1
    return queued


@dataclass(frozen=True, slots=True)
class WeeklyRun:
    scheme_slug: str
    period: ExportPeriod
    outcome: str  # "exported", "already_done" or "not_due"
    recipients: int = 0
    result: ExportResult | None = None


async def _already_done(store: Store, scheme_id: int, period: ExportPeriod) -> bool:
    query = (
        select(AuditEntry)
        .where(AuditEntry.scheme_id == scheme_id, AuditEntry.action == WEEKLY_ACTION)
        .order_by(col(AuditEntry.at).desc())
        .limit(60)
    )
    async with transaction(store.sessions, "read the weekly exports done") as session:
        entries = (await session.exec(query)).all()
    return any(entry.detail.get("period") == period.key for entry in entries)


async def _weekly_for(
    store: Store,
    photos: PhotoStore,
    settings: Settings,
    scheme: Scheme,
    now: datetime,
) -> WeeklyRun:
    scheme_id = stored_id(scheme)
    period = due_week(now, scheme.timezone)
    if scheme.created_at > weekly_run_time(period):
        # The scheme was not in the log when this week's export was due: nothing was missed.
        return WeeklyRun(scheme.slug, period, "not_due")
    if await _already_done(store, scheme_id, period):
        return WeeklyRun(scheme.slug, period, "already_done")
    active = await store.members.list_by_status(scheme_id, MemberStatus.ACTIVE)
    coordinators = [m.telegram_user_id for m in active if m.role == Role.COORDINATOR]
    result = await build_export(
        store,
        photos,
        scheme,
        period,
        export_directory(settings, scheme.slug, period, now),
        exported_by=ExportedBy("weekly job", "ShopWatch weekly export"),
        via="weekly job",
        now=now,
    )
    await queue_export(
        store,
        settings.data_dir,
        result,
        coordinators,
        weekly=True,
        dedupe=f"weekly:{base_name(scheme.slug, period, witness_contact=False)}",
    )
    await store.audit.record(
        actor_telegram_id=None,
        action=WEEKLY_ACTION,
        outcome=AuditOutcome.ALLOWED,
        scheme_id=scheme_id,
        detail={
            "period": period.key,
            "reports": result.reports,
            "recipients": len(coordinators),
            "manifest_sha256": result.file("manifest").sha256,
        },
    )
    if not coordinators:
        logger.warning("weekly export of %s made, but the scheme has no coordinator", scheme.slug)
    return WeeklyRun(scheme.slug, period, "exported", len(coordinators), result)


async def run_weekly_exports(
    store: Store,
    photos: PhotoStore,
    settings: Settings,
    schemes: SchemesFile,
    now: datetime,
    *,
    only: str | None = None,
    wake: Callable[[], None] | None = None,
) -> list[WeeklyRun]:
    """Export the week due at `now` for each scheme of the file (or `only` that one).

    A week already exported is skipped, so this runs at 07:00 every Monday and
    again at every start-up (catching up a Monday the bot was down) and sends
    each week once.
    """
    wanted = {s.slug for s in schemes.schemes if only is None or s.slug == only}
    runs: list[WeeklyRun] = []
    for scheme in await store.schemes.list_all():
        if scheme.slug not in wanted:
            continue
        try:
            run = await _weekly_for(store, photos, settings, scheme, now)
        except Exception:
            logger.exception(
                "weekly export of %s failed; tried again within the hour", scheme.slug
            )
            continue
        runs.append(run)
        if run.outcome == "exported":
            logger.info(
                "weekly export of %s for %s queued to %d coordinator(s)",
                scheme.slug,
                run.period.key,
                run.recipients,
            )
    if wake is not None and any(run.outcome == "exported" for run in runs):
        wake()
    return runs
