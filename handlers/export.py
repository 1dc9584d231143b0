"""`/export`: a coordinator or police contact gets the log as files, in a private chat.

`/export` is last week (Monday to Sunday where the scheme is); two dates name
the days; a scheme's slug picks one scheme for someone in several; `witness`
adds the reporting members' contact details (coordinators only, and audited
like every export). The files are made in the background and arrive through
the outbox, protected from forwarding.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from telegram import Update
from telegram.ext import BaseHandler, CommandHandler, filters

from broadcast import commands
from broadcast.exports import export_directory, queue_export
from broadcast.texts import export as export_texts
from broadcast.texts import formats
from config.errors import InvalidInputError, Refusal, ShopWatchError
from config.vocabulary import MANAGERS
from handlers.context import Membership, ShopWatchContext
from handlers.roles import refuse, requires
from storage.export.build import build_export
from storage.export.period import ExportPeriod, last_full_week, parse_period
from storage.export.records import ExportedBy, member_reference
from storage.ids import stored_id
from storage.models import utcnow

logger = logging.getLogger(__name__)

EXPORTERS = commands.roles_of("export")
WITNESS_ROLES = MANAGERS
"""Who may have the witness-contact export, which names the shops that reported."""
_SLUG = re.compile(r"[a-z][a-z0-9-]*")


@dataclass(frozen=True, slots=True)
class ExportRequest:
    witness_contact: bool
    scheme_slug: str | None
    dates: tuple[str, str] | None


def parse_request(args: list[str]) -> ExportRequest:
    """`[witness] [scheme] [FROM TO]`; `InvalidInputError("usage")` for anything else."""
    words = list(args)
    witness = bool(words) and words[0].lower() == "witness"
    if witness:
        words.pop(0)
    slug = None
    if words and _SLUG.fullmatch(words[0].lower()):
        slug = words.pop(0).lower()
    if not words:
        return ExportRequest(witness, slug, None)
    if len(words) != 2:
        raise InvalidInputError("usage", " ".join(words))
    return ExportRequest(witness, slug, (words[0], words[1]))


def _exporter(membership: Membership) -> ExportedBy:
    member = membership.member
    member_id = stored_id(member)
    reference = member_reference(membership.scheme.slug, member_id)
    return ExportedBy(
        kind="person",
        description=f"{member.display_name} ({reference}, {member.role})",
        telegram_user_id=member.telegram_user_id,
        member_id=member_id,
        reference=reference,
        role=str(member.role),
    )


async def _make_and_queue(
    context: ShopWatchContext,
    chat_id: int,
    membership: Membership,
    period: ExportPeriod,
    *,
    witness_contact: bool,
) -> None:
    services = context.services
    now = utcnow()
    try:
        result = await build_export(
            services.store,
            services.photos,
            membership.scheme,
            period,
            export_directory(services.settings, membership.scheme.slug, period, now),
            exported_by=_exporter(membership),
            via="telegram",
            witness_contact=witness_contact,
            now=now,
        )
        await queue_export(services.store, services.settings.data_dir, result, [chat_id])
    except (ShopWatchError, OSError):
        logger.exception("export of %s for %s failed", membership.scheme.slug, period.key)
        await context.bot.send_message(chat_id, export_texts.EXPORT_FAILED)
        return
    services.outbox.wake()


@requires(*EXPORTERS, action="export")
async def export_command(
    update: Update, context: ShopWatchContext, membership: Membership
) -> None:
    message = update.effective_message
    viewer = context.viewer
    if message is None or viewer is None:
        return
    try:
        request = parse_request(context.args or [])
    except InvalidInputError as exc:
        await message.reply_text(export_texts.export_bad_period(exc.reason, exc.value))
        return
    allowed = [m for m in viewer.active if m.member.role in EXPORTERS]
    if request.scheme_slug is not None:
        allowed = [m for m in allowed if m.scheme.slug == request.scheme_slug]
        if not allowed:
            await refuse(update, context, "export", Refusal.NOT_YOUR_SCHEME)
            return
    elif len({m.scheme.id for m in allowed}) > 1:
        await message.reply_text(export_texts.export_choose_scheme(m.scheme.slug for m in allowed))
        return
    chosen = allowed[0] if allowed else membership
    if request.witness_contact and chosen.member.role not in WITNESS_ROLES:
        await refuse(update, context, "export_witness_contact", Refusal.WITNESS_CONTACT)
        return
    timezone = chosen.scheme.timezone
    try:
        period = (
            parse_period(*request.dates, timezone)
            if request.dates
            else last_full_week(utcnow(), timezone)
        )
    except InvalidInputError as exc:
        await message.reply_text(export_texts.export_bad_period(exc.reason, exc.value))
        return
    await message.reply_text(
        export_texts.export_preparing(
            chosen.scheme.name,
            formats.day(period.first),
            formats.day(period.last),
            witness_contact=request.witness_contact,
        )
    )
    context.application.create_task(
        _make_and_queue(
            context, message.chat_id, chosen, period, witness_contact=request.witness_contact
        ),
        update=update,
        name=f"export-{chosen.scheme.slug}-{period.key}",
    )


async def export_in_group(update: Update, context: ShopWatchContext) -> None:
    message = update.effective_message
    if message is not None:
        await message.reply_text(export_texts.EXPORT_IN_PRIVATE)


def export_handlers() -> list[BaseHandler[Update, ShopWatchContext, object]]:
    return [
        CommandHandler("export", export_command, filters=filters.ChatType.PRIVATE),
        CommandHandler("export", export_in_group, filters=filters.ChatType.GROUPS),
    ]
