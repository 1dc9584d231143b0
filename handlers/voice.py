"""A member's voice note goes out on the scheme's radio and into the log as words.

Many shopkeepers would rather talk than type with a suspect in the shop. A voice
note in the scheme's group (or to the bot) is relayed to the radio channel
through the outbox, like every other delivery, and transcribed: a voice note
that replies to an alert is added to that report; any other is logged as a
radio call, since that is what it has become, and the control room files it.
"""

from __future__ import annotations

import asyncio
import logging
import uuid

from telegram import Update
from telegram.ext import BaseHandler, MessageHandler, filters

from broadcast.radio import audio
from broadcast.radio.bridge import RadioBridge
from broadcast.radio.channel import Transmission
from broadcast.radio.script import RADIO_CHAT
from broadcast.texts import radio as radio_texts
from config.vocabulary import EventKind, Role
from handlers.context import ShopWatchContext
from storage.ids import stored_id
from storage.models import ReportEvent, utcnow
from storage.outbox import Delivery
from storage.outbox_payloads import RadioPayload
from storage.radio import NO_WORDS

logger = logging.getLogger(__name__)

_SENDERS = (Role.MEMBER, Role.OPERATOR, Role.COORDINATOR, Role.POLICE)
MAX_VOICE_BYTES = 2_000_000  # about four minutes of Telegram's Opus; longer is not a call


async def relay_voice(
    update: Update, context: ShopWatchContext, radio: RadioBridge | None
) -> None:
    message = update.effective_message
    viewer = context.viewer
    if message is None or message.voice is None or viewer is None or radio is None:
        return
    acting = viewer.acting_as(_SENDERS)
    if acting is None:
        return
    scheme = acting.scheme
    scheme_id = stored_id(scheme)
    link = radio.link_for(scheme_id)
    if link is None or (message.voice.file_size and message.voice.file_size > MAX_VOICE_BYTES):
        return
    data = bytes(await (await message.voice.get_file()).download_as_bytearray())
    try:
        pcm = await asyncio.to_thread(audio.read_audio, data)
    except ValueError:
        logger.info("voice note %s is not audio we can read", message.message_id)
        return
    relative = f"radio/{scheme.slug}/voice-{uuid.uuid4().hex}.ogg"
    await asyncio.to_thread(audio.write_ogg_opus, pcm, radio.data_dir / relative)
    name = acting.member.shop_name or acting.member.display_name
    store = context.store
    report = None
    if message.reply_to_message is not None:
        report = await radio.calls.report_for_copy(
            message.chat_id, message.reply_to_message.message_id
        )
    on_air = Delivery(
        RADIO_CHAT,
        RadioPayload(text=f"Voice note from {name}", audio=relative),
        dedupe_key=f"voice:{message.chat_id}:{message.message_id}",
    )
    transcript = await radio.transcribe(scheme_id, pcm)
    if report is not None:
        report_id = stored_id(report)
        await store.reports.add_event(
            ReportEvent(
                report_id=report_id,
                member_id=stored_id(acting.member),
                kind=EventKind.NOTE,
                text=f"Voice note: {transcript or NO_WORDS}",
            ),
            [on_air],
        )
    else:
        now = utcnow()
        call = Transmission(name, pcm, now, now)
        logged = await radio.log_transmission(link, call, transcript=transcript)
        report_id = stored_id(logged.report)
        await store.outbox.enqueue(scheme_id, on_air, report_id=report_id)
    context.services.outbox.wake()
    await message.reply_text(radio_texts.voice_note_transcribed(report_id, transcript))


def voice_handlers(radio: RadioBridge | None) -> list[BaseHandler[Update, ShopWatchContext, None]]:
    """Voice notes to the radio; without one (`radio` None) they are left alone."""

    async def relay(update: Update, context: ShopWatchContext) -> None:
        await relay_voice(update, context, radio)

    return [MessageHandler(filters.VOICE, relay)]
