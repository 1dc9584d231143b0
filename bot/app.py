"""The receiving process's python-telegram-bot Application: its handlers, in order.

Every feature module in `handlers/` exposes a function returning its handlers;
this module registers them in order (the access check first, in group -1) so a
reader sees the whole bot in one screen. The services the handlers use are built
in `bot.services`, the composition root; features bring their own handlers
(`bot.plugins`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from telegram import BotCommand, Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes

from bot.jobs import schedule_jobs
from bot.persistence import DatabasePersistence
from bot.plugins import Plugin
from bot.services import ShopWatchBot
from bot.update_order import UPDATES_QUEUED, ChatOrderedUpdates, InHandQueue
from broadcast.texts import commands as command_texts
from config.settings import Settings
from handlers.access import ACCESS_GROUP, access_handlers
from handlers.alerts import alert_handlers
from handlers.chat_guard import chat_guard_handlers
from handlers.context import BotData, Services, ShopWatchContext
from handlers.errors import on_error
from handlers.export import export_handlers
from handlers.grade import grade_handlers
from handlers.intake import intake_handlers, schedule_intake
from handlers.membership import membership_handlers
from handlers.miniapp import MINIAPP_GROUP, miniapp_handlers
from handlers.report import report_handlers
from handlers.search import search_handlers
from handlers.start import start_handlers
from handlers.subject_records import subject_record_handlers
from handlers.subjects import subject_handlers
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


async def _announce_commands(application: ShopWatchApplication) -> None:
    await application.bot.set_my_commands(
        [BotCommand(c, d) for c, d in command_texts.BOT_COMMANDS]
    )


def build_application(
    settings: Settings,
    store: Store,
    bot: ShopWatchBot,
    services: Services,
    features: Sequence[Plugin],
    *,
    webhook: bool = False,
) -> ShopWatchApplication:
    """The receiving process's Application around its bot (`bot.services`): its handlers
    in order, each feature's after /start, and the scheduled jobs; `webhook` drops the
    polling Updater."""
    context_types = ContextTypes(context=ShopWatchContext, bot_data=BotData)
    builder = (
        ApplicationBuilder()
        .bot(bot)
        .context_types(context_types)
        .post_init(_announce_commands)
        .persistence(DatabasePersistence(store.conversations))
    )
    processor = ChatOrderedUpdates(settings.concurrent_updates)
    builder = builder.concurrent_updates(processor)
    if webhook:
        builder = builder.updater(None).update_queue(InHandQueue(processor))
    else:
        builder = builder.update_queue(InHandQueue(processor, maxsize=UPDATES_TAKEN_AHEAD))
    application: ShopWatchApplication = builder.build()
    application.bot_data.services = services

    for handler in access_handlers():
        application.add_handler(handler, group=ACCESS_GROUP)
    application.add_handlers(membership_handlers())
    application.add_handlers(chat_guard_handlers())
    application.add_handlers(subject_handlers())
    application.add_handlers(subject_record_handlers())
    application.add_handlers(start_handlers())
    for feature in features:
        application.add_handlers(list(feature.handlers()))
    application.add_handlers(search_handlers())
    application.add_handlers(report_handlers())
    application.add_handlers(intake_handlers())  # after /report: its questions come first
    application.add_handlers(alert_handlers())
    application.add_handlers(export_handlers())
    application.add_handlers(grade_handlers())
    application.add_handlers(miniapp_handlers(), group=MINIAPP_GROUP)
    application.add_error_handler(on_error)
    schedule_jobs(application)
    schedule_intake(application)
    assert application.job_queue is not None  # schedule_jobs has refused to go on without
    for feature in features:
        feature.schedule(application.job_queue)
    return application


ALLOWED_UPDATES = Update.ALL_TYPES
