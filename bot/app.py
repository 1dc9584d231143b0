"""The composition root: the one place that builds the Application and wires features.

Every feature module in `handlers/` exposes a function returning its handlers;
this module registers them in order (the access check first, in group -1) so a
reader sees the whole bot in one screen.
"""

from __future__ import annotations

from typing import Any

from telegram import BotCommand, Update
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder, ContextTypes

from bot.chat_senders import ChatSenders
from bot.jobs import schedule_jobs
from bot.persistence import DatabasePersistence
from bot.update_order import UPDATES_QUEUED, ChatOrderedUpdates, InHandQueue
from bot.updates import SkippingUpdatesRequest
from broadcast.alerts import AlertService
from broadcast.callbacks import CallbackSigner
from broadcast.federation import federation_link
from broadcast.metrics import Metrics
from broadcast.outbox import OutboxWorker
from broadcast.radio.bridge import radio_bridge
from broadcast.subjects.service import SubjectService
from broadcast.texts import commands as command_texts
from config.schemes import SchemesFile
from config.settings import Settings
from handlers.access import ACCESS_GROUP, access_handlers
from handlers.alerts import alert_handlers
from handlers.chat_guard import chat_guard_handlers
from handlers.context import BotData, Services, ShopWatchContext
from handlers.errors import on_error
from handlers.export import export_handlers
from handlers.grade import grade_handlers
from handlers.intake import intake_handlers, schedule_intake, voice_note_handlers
from handlers.membership import membership_handlers
from handlers.miniapp import MINIAPP_GROUP, miniapp_handlers
from handlers.radio import radio_handlers
from handlers.report import report_handlers
from handlers.search import search_handlers
from handlers.start import start_handlers
from handlers.subjects import subject_handlers
from handlers.voice import voice_handlers
from storage.photos import PhotoStore
from storage.store import Store

ShopWatchApplication = Application[Any, ShopWatchContext, Any, Any, BotData, Any]

UPDATES_TAKEN_AHEAD = UPDATES_QUEUED
"""Updates taken from Telegram and queued before they are in hand, at most.

Polling confirms a batch to Telegram as soon as it asks for the next one, and a
queue without bound asks at once: a crash then loses the whole batch (up to 100
members' messages, none of them answered). With this bound the next batch is
asked for only when the last of this one is in hand, so a crash loses at most the
updates in hand (`concurrent_updates`, bot/update_order.py) and the one queued.

Polling only: a webhook that waited for room would keep Telegram waiting behind a
slow handler (an export) until it timed out and sent the update again. A webhook
answers once its update is queued, so a crash loses what was queued.
"""
TELEGRAM_MESSAGES_PER_SECOND = 30.0


async def _announce_commands(application: ShopWatchApplication) -> None:
    await application.bot.set_my_commands(
        [BotCommand(c, d) for c, d in command_texts.BOT_COMMANDS]
    )


def _rate_limiter(settings: Settings) -> AIORateLimiter:
    """Telegram's limits (30 msg/s, 20 msg/min per group); 0 turns a limit off for benches.

    The 30 a second is the bot token's, so the processes sending the outbox share it
    evenly; the per-group limit stays whole, as each chat has one sending process
    at a time (`storage.outbox.ChatShards`).
    """
    if settings.telegram_rate_limit:
        return AIORateLimiter(
            overall_max_rate=TELEGRAM_MESSAGES_PER_SECOND / settings.outbox_workers, max_retries=3
        )
    return AIORateLimiter(overall_max_rate=0, group_max_rate=0, max_retries=3)


def build_application(
    settings: Settings,
    schemes: SchemesFile,
    store: Store,
    *,
    webhook: bool = False,
    jobs: bool = True,
) -> ShopWatchApplication:
    """Build the bot on an open log; `webhook` drops the polling Updater, and without
    `jobs` (a `shopwatch worker`) the scheduled jobs are left to the receiving process."""
    token = settings.require_token()
    context_types = ContextTypes(context=ShopWatchContext, bot_data=BotData)
    builder = (
        ApplicationBuilder()
        .token(token)
        .base_url(settings.telegram_api_url)
        .base_file_url(settings.file_url)
        .context_types(context_types)
        .rate_limiter(_rate_limiter(settings))
        .post_init(_announce_commands)
        .persistence(DatabasePersistence(store.conversations))
    )
    processor = ChatOrderedUpdates(settings.concurrent_updates)
    builder = builder.concurrent_updates(processor)
    if webhook:
        builder = builder.updater(None).update_queue(InHandQueue(processor))
    else:
        builder = builder.get_updates_request(SkippingUpdatesRequest(connection_pool_size=1))
        builder = builder.update_queue(InHandQueue(processor, maxsize=UPDATES_TAKEN_AHEAD))
    application: ShopWatchApplication = builder.build()
    photos = PhotoStore(settings.photos_dir)
    metrics = Metrics()
    outbox = OutboxWorker(
        application.bot,
        store,
        photos,
        settings.data_dir,
        lease_seconds=settings.outbox_lease_seconds,
        processes=settings.outbox_workers,
        metrics=metrics,
    )
    ChatSenders(application.bot, store, schemes).register(outbox)
    signer = CallbackSigner.from_token(token)
    federation = federation_link(
        schemes,
        store,
        settings.federation_private_key,
        old_signatures_until=settings.federation_old_signatures_until,
    )
    alerts = AlertService(
        schemes,
        store,
        photos,
        signer,
        wake=outbox.wake,
        metrics=metrics,
        federation=federation,
    )
    application.bot_data.services = Services(
        settings=settings,
        schemes=schemes,
        store=store,
        photos=photos,
        outbox=outbox,
        signer=signer,
        metrics=metrics,
        alerts=alerts,
        subjects=SubjectService(schemes, store, photos, on_linked=alerts.refresh),
        radio=radio_bridge(
            schemes,
            store,
            settings.data_dir,
            CallbackSigner.from_token(token),
            opus_library=settings.opus_library,
        ),
        federation=federation,
    )

    for handler in access_handlers():
        application.add_handler(handler, group=ACCESS_GROUP)
    application.add_handlers(membership_handlers())
    application.add_handlers(chat_guard_handlers())
    application.add_handlers(subject_handlers())
    application.add_handlers(start_handlers())
    application.add_handlers(radio_handlers() + voice_note_handlers() + voice_handlers())
    application.add_handlers(search_handlers())
    application.add_handlers(report_handlers())
    application.add_handlers(intake_handlers())  # after /report: its questions come first
    application.add_handlers(alert_handlers())
    application.add_handlers(export_handlers())
    application.add_handlers(grade_handlers())
    application.add_handlers(miniapp_handlers(), group=MINIAPP_GROUP)
    application.add_error_handler(on_error)
    if jobs:
        schedule_jobs(application)
        schedule_intake(application)
    return application


ALLOWED_UPDATES = Update.ALL_TYPES
