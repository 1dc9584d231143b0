"""Scheduled work on python-telegram-bot's JobQueue: the weekly export, nightly retention and
the galleries.

Per scheme, in the scheme's own timezone:
- every Monday at 07:00 last week's export goes to each coordinator, and at 08:00
  the weekly digest to each member who has not turned it off;
- every night at 03:30 what is past the retention period is deleted;
- every night at 03:45 subjects past their period leave the galleries (their photos
  with them) and coordinators are reminded of notices coming up for review or ending;
every 30 seconds a live alert no operator has answered in time is raised again;
and every Sunday at 04:30 UTC the database is vacuumed, so no deleted row's
bytes stay in its free pages.
At start-up and every hour after, the weekly export and digest are also checked
for: a Monday the bot was down for (or an export that failed) is made then, once.

Each job's callback only reads the clock and calls a domain function that takes
`now`, so tests drive the domain functions with any time they choose.
"""

from __future__ import annotations

import logging
from datetime import UTC, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from telegram.ext import Application, JobQueue

from broadcast.escalation import CHECK_EVERY, raise_unheard
from broadcast.exports import run_weekly_exports
from broadcast.subjects.digest import run_weekly_digests
from broadcast.subjects.reminders import run_nightly
from handlers.context import BotData, ShopWatchContext
from storage.export.period import WEEKLY_RUN_AT
from storage.models import utcnow
from storage.retention import compact_log, purge_expired, purge_old_exports

logger = logging.getLogger(__name__)

# python-telegram-bot numbers the days of the week from Sunday (0) to Saturday (6).
SUNDAY, MONDAY = 0, 1
RETENTION_AT = time(3, 30)
SUBJECTS_AT = time(3, 45)
DIGEST_AT = time(8, 0)
VACUUM_AT = time(4, 30, tzinfo=UTC)
CATCH_UP_EVERY = timedelta(hours=1)
START_UP_JOB = "weekly-export:start-up"
CATCH_UP_JOB = "weekly-export:catch-up"
ESCALATION_JOB = "escalation"


async def weekly_export_job(context: ShopWatchContext) -> None:
    """Monday 07:00 in one scheme's timezone: that scheme's export for last week."""
    slug = context.job.data if context.job else None
    services = context.services
    await run_weekly_exports(
        services.store,
        services.photos,
        services.settings,
        services.schemes,
        utcnow(),
        only=str(slug) if slug else None,
        wake=services.outbox.wake,
    )


async def weekly_catch_up_job(context: ShopWatchContext) -> None:
    """At start-up and hourly: any scheme whose last weekly export or digest is still due."""
    services = context.services
    await run_weekly_exports(
        services.store,
        services.photos,
        services.settings,
        services.schemes,
        utcnow(),
        wake=services.outbox.wake,
    )
    await run_weekly_digests(services.store, services.schemes, utcnow(), wake=services.outbox.wake)


async def digest_job(context: ShopWatchContext) -> None:
    """Monday 08:00 in one scheme's timezone: last week's digest to its members."""
    slug = str(context.job.data) if context.job else ""
    services = context.services
    await run_weekly_digests(
        services.store, services.schemes, utcnow(), only=slug, wake=services.outbox.wake
    )


async def retention_job(context: ShopWatchContext) -> None:
    """03:30 in one scheme's timezone: delete what is past its retention period."""
    slug = str(context.job.data) if context.job else ""
    services = context.services
    now = utcnow()
    scheme = await services.store.schemes.get_by_slug(slug)
    await purge_expired(
        services.store, services.photos, scheme, now, data_dir=services.settings.data_dir
    )
    purge_old_exports(services.settings.exports_dir / slug, now)


async def subjects_job(context: ShopWatchContext) -> None:
    """03:45 in one scheme's timezone: galleries expire, notice reminders are queued."""
    slug = str(context.job.data) if context.job else ""
    services = context.services
    await run_nightly(
        services.store,
        services.photos,
        services.schemes,
        utcnow(),
        only=slug,
        wake=services.outbox.wake,
    )


async def escalation_job(context: ShopWatchContext) -> None:
    """Every 30 seconds: live alerts no operator has answered in time are raised again."""
    await raise_unheard(context.services.alerts, utcnow())


async def vacuum_job(context: ShopWatchContext) -> None:
    """Sunday 04:30 UTC: rebuild the log's file without its free pages."""
    await compact_log(context.services.store, vacuum=True)
    logger.info("the log was vacuumed")


def schedule_jobs(application: Application[Any, ShopWatchContext, Any, Any, BotData, Any]) -> None:
    """Register every scheduled job; they start when the application starts."""
    queue: JobQueue[ShopWatchContext] | None = application.job_queue
    services = application.bot_data.services
    if queue is None or services is None:
        raise RuntimeError("scheduled jobs need the job-queue extra and wired services")
    for scheme in services.schemes.schemes:
        zone = ZoneInfo(scheme.timezone)
        queue.run_daily(
            weekly_export_job,
            time=WEEKLY_RUN_AT.replace(tzinfo=zone),
            days=(MONDAY,),
            data=scheme.slug,
            name=f"weekly-export:{scheme.slug}",
        )
        queue.run_daily(
            digest_job,
            time=DIGEST_AT.replace(tzinfo=zone),
            days=(MONDAY,),
            data=scheme.slug,
            name=f"digest:{scheme.slug}",
        )
        queue.run_daily(
            retention_job,
            time=RETENTION_AT.replace(tzinfo=zone),
            data=scheme.slug,
            name=f"retention:{scheme.slug}",
        )
        queue.run_daily(
            subjects_job,
            time=SUBJECTS_AT.replace(tzinfo=zone),
            data=scheme.slug,
            name=f"subjects:{scheme.slug}",
        )
    queue.run_daily(vacuum_job, time=VACUUM_AT, days=(SUNDAY,), name="vacuum")
    queue.run_repeating(
        escalation_job, interval=CHECK_EVERY, first=CHECK_EVERY, name=ESCALATION_JOB
    )
    # APScheduler cannot start a job "now"; one second on, run however late the start-up is.
    queue.run_once(
        weekly_catch_up_job,
        when=1,
        name=START_UP_JOB,
        job_kwargs={"misfire_grace_time": None},
    )
    queue.run_repeating(
        weekly_catch_up_job, interval=CATCH_UP_EVERY, first=CATCH_UP_EVERY, name=CATCH_UP_JOB
    )
    logger.info(
        "scheduled the weekly export, retention and galleries for %d scheme(s)",
        len(services.schemes.schemes),
    )
