"""The control room files a radio call: attach it to the report it is about, or keep it.

The buttons come with the call's voice note (see `broadcast.radio.bridge`); their
data is signed, so only buttons the bot made are obeyed, and only operators and
coordinators of the call's scheme may press them.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import BaseHandler, CallbackQueryHandler

from broadcast.radio.bridge import CALLBACK_PREFIX
from broadcast.texts import radio as radio_texts
from broadcast.texts import refusals as refusal_texts
from config.errors import NotFoundError, Refusal
from config.vocabulary import OutboxKind, Role
from handlers.context import ShopWatchContext
from storage.ids import stored_id
from storage.outbox import Delivery
from storage.outbox_payloads import EditPayload, MessagePayload, VoicePayload, payload_of
from storage.radio import RadioCallRepository

_FILERS = (Role.OPERATOR, Role.COORDINATOR)


async def file_call(update: Update, context: ShopWatchContext) -> None:
    query = update.callback_query
    assert query is not None
    parts = context.services.signer.verify(query.data)
    if parts is None or len(parts) != 3 or not parts[1].isdigit():
        await query.answer(refusal_texts.refusal(Refusal.FORGED))
        return
    viewer = context.viewer
    acting = viewer.acting_as(_FILERS) if viewer is not None else None
    if acting is None:
        await query.answer(refusal_texts.refusal(Refusal.WRONG_ROLE))
        return
    event_id, choice = int(parts[1]), parts[2]
    calls = RadioCallRepository(context.store.sessions)
    try:
        if choice == "new":
            report = await calls.keep(event_id, member_id=stored_id(acting.member))
            stand_in, changed = stored_id(report), True
        else:
            stand_in, changed = await calls.attach(
                event_id, int(choice), member_id=stored_id(acting.member)
            )
    except (NotFoundError, ValueError):
        await query.answer(radio_texts.RADIO_CALL_GONE)
        return
    if not changed:
        await query.answer(radio_texts.RADIO_CALL_GONE)
        return
    await _update_cards(context, stand_in, choice)
    await query.answer(radio_texts.RADIO_CALL_DONE)


async def _update_cards(context: ShopWatchContext, stand_in: int, choice: str) -> None:
    """Every copy of the call's card says how it was filed, and loses its buttons."""
    store = context.store
    for row in await store.outbox.for_report(stand_in):
        if row.kind not in (OutboxKind.VOICE, OutboxKind.MESSAGE):
            continue
        payload = payload_of(row)
        said = payload.caption if isinstance(payload, VoicePayload) else None
        if isinstance(payload, MessagePayload):
            said = payload.text
        caption = said or ""
        text = (
            radio_texts.radio_call_kept(caption)
            if choice == "new"
            else radio_texts.radio_call_attached(caption, int(choice))
        )
        await store.outbox.enqueue(
            row.scheme_id,
            Delivery(row.chat_id, EditPayload(target=stored_id(row), text=text)),
            report_id=stand_in,
        )
    context.services.outbox.wake()


def radio_handlers() -> list[BaseHandler[Update, ShopWatchContext, None]]:
    return [CallbackQueryHandler(file_call, pattern=rf"^{CALLBACK_PREFIX}:")]
