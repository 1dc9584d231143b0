"""`/sar 12` and `/erase 12 <reason>`: a person's subject access request and a wrong
identification, answered by a coordinator in their private chat.

`/sar` builds the bundle `shopwatch sar` writes and sends it as one protected zip
through the outbox; the zip is not kept once sent (`broadcast.subjects.records`).
`/erase` asks first, with a signed Erase / Cancel, because nothing brings a subject
back. Both act in the scheme the subject belongs to when the coordinator has a seat
there; the service checks the role again and audits either way, and what is refused
before it is reached (a number that is none, a day after today, a subject erased
already) is audited here.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler, filters

from broadcast import commands
from broadcast.exports import TELEGRAM_DOCUMENT_LIMIT
from broadcast.subjects.records import Holdings, holdings, pack_bundle, with_this_request
from broadcast.subjects.service import BASIS_MAX, DECIDERS, Actor, local_today
from broadcast.subjects.text import clean_text
from broadcast.texts import refusals
from broadcast.texts import subject_records as texts
from broadcast.texts import subjects as subject_texts
from config.errors import AccessDeniedError, InvalidInputError, NotFoundError, Refusal
from config.vocabulary import AuditOutcome, Role
from handlers.context import Membership, ShopWatchContext
from handlers.keyboards import keyboard
from handlers.roles import refuse, requires
from storage.ids import stored_id
from storage.outbox import Delivery
from storage.outbox_payloads import DocumentPayload
from storage.store import Store

logger = logging.getLogger(__name__)

ACCESS = "subject.access"
ERASE_ACTION = "subject.erase"
RECORDS = "subjr"
"""Callback prefix of the erasure's confirmation: `subjr:erase:<subject>:<token>` and
`subjr:keep:<subject>:<token>`."""
ERASE, KEEP = "erase", "keep"
PENDING = "subject-erase"
"""`user_data` key of an erasure awaiting its press: `subject-erase:<subject>`, with its reason
(too long for a button) and the token its buttons carry, so only the newest confirmation acts."""
_DAY = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_NUMBER = re.compile(r"#?(\d{1,12})")


@dataclass(frozen=True, slots=True)
class SarRequest:
    subject_id: int
    received: date | None


def subject_number(word: str) -> int | None:
    found = _NUMBER.fullmatch(word.strip())
    return int(found.group(1)) if found and word.isascii() else None


def parse_sar(args: list[str]) -> SarRequest:
    """`N`, `N received DD/MM/YYYY` or `N DD/MM/YYYY`; `InvalidInputError("usage")` or
    `("bad_date", value)` otherwise."""
    words = list(args)
    number = subject_number(words.pop(0)) if words else None
    if number is None:
        raise InvalidInputError("usage", " ".join(args)[:100])
    if words and words[0].lower() == "received":
        words.pop(0)
        if not words:
            raise InvalidInputError("usage", " ".join(args)[:100])
    if not words:
        return SarRequest(number, None)
    if len(words) != 1:
        raise InvalidInputError("usage", " ".join(args)[:100])
    found = _DAY.fullmatch(words[0])
    try:
        if found is None:
            raise ValueError(words[0])
        received = date(int(found.group(3)), int(found.group(2)), int(found.group(1)))
    except ValueError:
        raise InvalidInputError("bad_date", words[0][:40]) from None
    return SarRequest(number, received)


async def _refused(
    context: ShopWatchContext, membership: Membership, action: str, detail: Mapping[str, Any]
) -> None:
    """A request refused before the service is reached, in the audit trail like its own."""
    member = membership.member
    await context.store.audit.record(
        actor_telegram_id=member.telegram_user_id,
        actor_member_id=stored_id(member),
        action=action,
        outcome=AuditOutcome.REFUSED,
        scheme_id=stored_id(membership.scheme),
        detail=dict(detail),
    )


async def _scheme_of_subject(store: Store, subject_id: int) -> int | None:
    try:
        return (await store.subjects.get(subject_id)).scheme_id
    except NotFoundError:
        erasure = await store.subjects.erasure(subject_id)
        return erasure.scheme_id if erasure is not None else None


async def _acting(context: ShopWatchContext, subject_id: int, fallback: Membership) -> Membership:
    """The coordinator's seat in the subject's scheme; else the one they act under (where
    the subject is not found, and nothing of another scheme is said)."""
    scheme_id = await _scheme_of_subject(context.store, subject_id)
    viewer = context.viewer
    for membership in viewer.active if viewer else ():
        if membership.scheme.id == scheme_id and (
            membership.member.role in DECIDERS or membership.member.role is Role.ADMIN
        ):
            return membership
    return fallback


async def _erased_on(context: ShopWatchContext, subject_id: int, acting: Membership) -> str | None:
    erasure = await context.store.subjects.erasure(subject_id)
    if erasure is None or erasure.scheme_id != acting.scheme.id:
        return None
    return subject_texts.day(local_today(acting.scheme, erasure.erased_at))


# --- /sar ------------------------------------------------------------------------------


@requires(*DECIDERS, action=ACCESS)
async def sar_command(update: Update, context: ShopWatchContext, membership: Membership) -> None:
    """`/sar 12 [received 02/12/2026]`: the subject access bundle as one protected zip."""
    message = update.effective_message
    assert message is not None
    args = context.args or []
    try:
        request = parse_sar(args)
    except InvalidInputError as exc:
        await _refused(context, membership, ACCESS, {"reason": exc.reason, "given": exc.value})
        said = texts.SAR_USAGE if exc.reason == "usage" else texts.sar_bad_date(exc.value or "")
        await message.reply_text(said)
        return
    sid = request.subject_id
    acting = await _acting(context, sid, membership)
    scheme = acting.scheme
    if request.received is not None and request.received > local_today(scheme):
        await _refused(
            context,
            acting,
            ACCESS,
            {
                "subject_id": sid,
                "reason": "received_in_future",
                "given": request.received.isoformat(),
            },
        )
        await message.reply_text(texts.sar_future(request.received))
        return
    services = context.services
    try:
        bundle = await services.subjects.subject_access(
            Actor(acting.member), sid, received=request.received
        )
    except InvalidInputError as exc:
        if exc.reason == "subject_erased":
            _, _, when = (exc.value or "").partition(" on ")
            await message.reply_text(texts.sar_erased(sid, when))
        else:
            await message.reply_text(subject_texts.refused(exc.reason, exc.value))
        return
    except NotFoundError:
        await message.reply_text(texts.not_found(sid, scheme.name))
        return
    except AccessDeniedError:
        await message.reply_text(refusals.refusal(Refusal.WRONG_ROLE))
        return
    bundle = await with_this_request(services.store, bundle, acting.member, scheme)
    try:
        archive = await asyncio.to_thread(
            pack_bundle, bundle, services.photos, services.settings.exports_dir
        )
    except OSError:
        logger.exception("the subject access bundle of subject %s could not be packed", sid)
        await message.reply_text(texts.SAR_FAILED)
        return
    if archive.stat().st_size > TELEGRAM_DOCUMENT_LIMIT:
        archive.unlink()
        archive.parent.rmdir()
        await message.reply_text(texts.sar_too_large(sid, archive.name))
        return
    await services.store.outbox.enqueue(
        stored_id(scheme),
        Delivery(
            message.chat_id,
            DocumentPayload(
                path=str(archive.relative_to(services.settings.data_dir)),
                filename=archive.name,
                caption=texts.sar_caption(subject_texts.sar_summary(bundle)),
                protect_content=True,
                delete_after_send=True,
            ),
        ),
    )
    services.outbox.wake()


# --- /erase ----------------------------------------------------------------------------


def _counts(held: Holdings) -> tuple[int, int, int, int]:
    return held.photos, held.reports, held.notices, held.intel


@requires(*DECIDERS, action=ERASE_ACTION)
async def erase_command(update: Update, context: ShopWatchContext, membership: Membership) -> None:
    """`/erase 12 wrong identification`: what would go, and Erase / Cancel."""
    message = update.effective_message
    assert message is not None
    args = context.args or []
    sid = subject_number(args[0]) if args else None
    reason = clean_text(" ".join(args[1:]), BASIS_MAX)
    if sid is None or not reason:
        await _refused(
            context, membership, ERASE_ACTION, {"reason": "usage", "given": " ".join(args)[:100]}
        )
        await message.reply_text(texts.ERASE_USAGE)
        return
    acting = await _acting(context, sid, membership)
    when = await _erased_on(context, sid, acting)
    if when is not None:
        await _refused(
            context, acting, ERASE_ACTION, {"subject_id": sid, "reason": "subject_erased"}
        )
        await message.reply_text(texts.already_erased(sid, when))
        return
    try:
        held = await holdings(context.store, sid, stored_id(acting.scheme))
    except NotFoundError:
        await _refused(context, acting, ERASE_ACTION, {"subject_id": sid, "reason": "not_found"})
        await message.reply_text(texts.not_found(sid, acting.scheme.name))
        return
    token = f"{message.message_id}"
    if context.user_data is not None:
        context.user_data[f"{PENDING}:{sid}"] = {"token": token, "reason": reason}
    sign = context.services.signer.sign
    await message.reply_text(
        texts.erase_confirm(sid, *_counts(held), reason),
        reply_markup=keyboard(
            [
                [
                    (texts.BUTTON_ERASE, sign(RECORDS, ERASE, sid, token)),
                    (texts.BUTTON_CANCEL, sign(RECORDS, KEEP, sid, token)),
                ]
            ]
        ),
        protect_content=True,
    )


@requires(*DECIDERS, action=ERASE_ACTION)
async def erase_pressed(update: Update, context: ShopWatchContext, membership: Membership) -> None:
    """Erase or Cancel under the confirmation; a second press finds it done and says so."""
    query = update.callback_query
    assert query is not None
    parts = context.services.signer.verify(query.data)
    if (
        not parts
        or len(parts) != 4
        or parts[0] != RECORDS
        or parts[1] not in (ERASE, KEEP)
        or not parts[2].isdigit()
    ):
        await refuse(update, context, ERASE_ACTION, Refusal.FORGED)
        return
    sid, token = int(parts[2]), parts[3]
    acting = await _acting(context, sid, membership)
    when = await _erased_on(context, sid, acting)
    if when is not None:
        said = texts.already_erased(sid, when)
        await query.edit_message_text(said)
        await query.answer(said, show_alert=True)
        return
    pending: dict[str, Any] | None = (context.user_data or {}).get(f"{PENDING}:{sid}")
    if pending is None or pending.get("token") != token:
        await query.answer(texts.ERASE_LOST, show_alert=True)
        return
    if context.user_data is not None:
        context.user_data.pop(f"{PENDING}:{sid}", None)
    if parts[1] == KEEP:
        await query.edit_message_text(texts.erase_kept(sid))
        await query.answer()
        return
    reason = str(pending.get("reason", ""))
    try:
        held = await holdings(context.store, sid, stored_id(acting.scheme))
        await context.services.subjects.erase(Actor(acting.member), sid, reason)
    except NotFoundError:
        await query.answer(texts.not_found(sid, acting.scheme.name), show_alert=True)
        return
    except InvalidInputError as exc:
        await query.answer(subject_texts.refused(exc.reason, exc.value), show_alert=True)
        return
    except AccessDeniedError:
        await query.answer(refusals.refusal(Refusal.WRONG_ROLE), show_alert=True)
        return
    await query.edit_message_text(texts.erased(sid, *_counts(held), reason))
    await query.answer(texts.erased_short(sid))


async def in_group(update: Update, _context: ShopWatchContext) -> None:
    """Subject records are answered in a private chat only: say where."""
    message = update.effective_message
    if message is not None and message.text:
        name = message.text.split(maxsplit=1)[0].removeprefix("/").split("@", 1)[0].lower()
        await message.reply_text(commands.wrong_chat(name), do_quote=True)


def subject_record_handlers() -> list[BaseHandler[Update, ShopWatchContext, object]]:
    return [
        CommandHandler("sar", sar_command, filters=filters.ChatType.PRIVATE),
        CommandHandler("erase", erase_command, filters=filters.ChatType.PRIVATE),
        CommandHandler(["sar", "erase"], in_group, filters=filters.ChatType.GROUPS),
        CallbackQueryHandler(erase_pressed, pattern=f"^{RECORDS}:"),
    ]
