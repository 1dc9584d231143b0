"""The bridge between each scheme's radio channel and its chats and log.

Out (chat to radio): the outbox worker hands rows of kind `radio` to `send`,
which posts the script as channel text and reads it out. While the radio is
down `send` raises `RetryLaterError`, so alerts wait in the outbox like any other
delivery and go out once the link is back, unless they are too old to be worth
hearing by then.

In (radio to chat and log): every transmission heard is recorded as Ogg Opus,
transcribed, logged as a radio call (see `storage.radio`) and queued to the
control room as a voice note with its transcript and the buttons that file it.

A scheme whose radio cannot start (libopus, an engine or a model missing) is
reported at start-up, in one log line and once to its coordinators, and left off;
the chat never waits on the radio.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from broadcast.callbacks import CallbackSigner
from broadcast.delivery import Delivered, RetryLaterError, Sender
from broadcast.radio import audio
from broadcast.radio.channel import RadioChannel, TextArrival, Transmission
from broadcast.radio.codec import mumble_client
from broadcast.radio.speech import (
    EngineMissingError,
    Synthesizer,
    Transcriber,
    build_synthesizer,
    build_transcriber,
)
from broadcast.texts import radio as radio_texts
from config.errors import NotFoundError
from config.schemes import RadioConfig, SchemeConfig, SchemesFile
from storage.ids import stored_id
from storage.models import OutboxRow, Report, utcnow
from storage.outbox import Delivery
from storage.outbox_payloads import (
    Button,
    Buttons,
    MessagePayload,
    RadioPayload,
    VoicePayload,
    read,
)
from storage.radio import RadioCall, RadioCallRepository
from storage.store import Store

logger = logging.getLogger(__name__)

STALE_AFTER = timedelta(minutes=10)
"""A radio alert not out within this long is dropped: stale news on air misleads."""

LEAD_IN_SECONDS = 0.3
"""Silence before speech, so a gateway's VOX has keyed the transmitter before the first word."""

CALLBACK_PREFIX = "rc"

ChannelFactory = Callable[[SchemeConfig, Callable[[bool, str], None]], RadioChannel]


def mumble_channels(opus_library: str | None = None) -> ChannelFactory:
    """The production channels: each scheme's Mumble server as the schemes file names it.

    Building one loads libopus (`opus_library`, else the system's) and the Mumble
    client first; either missing raises `EngineMissingError` and the radio stays off.
    """

    def mumble_channel(config: SchemeConfig, on_link: Callable[[bool, str], None]) -> RadioChannel:
        mumble = mumble_client(opus_library)
        radio = config.radio
        assert radio is not None
        password = os.environ.get(radio.password_env, "") if radio.password_env else ""
        channel: RadioChannel = mumble.MumbleChannel(
            radio.server,
            radio.port,
            radio.username,
            channel=radio.channel,
            password=password,
            certfile=radio.certfile,
            keyfile=radio.keyfile,
            max_transmission_seconds=radio.max_transmission_seconds,
            on_link=on_link,
        )
        return channel

    return mumble_channel


@dataclass
class _Outage:
    told: bool = False


@dataclass
class RadioLink:
    config: SchemeConfig
    scheme_id: int
    channel: RadioChannel
    synthesizer: Synthesizer
    transcriber: Transcriber
    outage: _Outage = field(default_factory=_Outage)
    listener: asyncio.Task[None] | None = field(default=None, repr=False)

    @property
    def radio(self) -> RadioConfig:
        assert self.config.radio is not None
        return self.config.radio


class RadioBridge:
    def __init__(
        self,
        store: Store,
        schemes: SchemesFile,
        data_dir: Path,
        signer: CallbackSigner,
        *,
        wake: Callable[[], None],
        channel_factory: ChannelFactory,
    ) -> None:
        """`wake` tells the outbox worker of the rows the bridge queues (calls heard, the
        coordinators' notices); `channel_factory` connects a scheme's radio."""
        self.store = store
        self.calls = RadioCallRepository(store.sessions)
        self.schemes = schemes
        self.data_dir = data_dir
        self.signer = signer
        self.wake = wake
        self.channel_factory = channel_factory
        self.links: dict[int, RadioLink] = {}
        self.problems: dict[str, str] = {}
        self._engines: dict[tuple[str, str], Synthesizer | Transcriber] = {}
        self._chores: set[asyncio.Task[None]] = set()

    # --- start and stop ----------------------------------------------------------------

    async def start(self) -> None:
        """Join every scheme's radio; returns at once, links come up in the background."""
        for config in self.schemes.schemes:
            if config.radio_on:
                await self._start_link(config)

    async def _start_link(self, config: SchemeConfig) -> None:
        radio = config.radio
        assert radio is not None
        scheme = await self.store.schemes.get_by_slug(config.slug)
        scheme_id = stored_id(scheme)
        try:
            synthesizer = self._synthesizer(radio)
            transcriber = self._transcriber(radio)
            outage = _Outage()
            channel = self.channel_factory(config, self._link_listener(config, scheme_id, outage))
            link = RadioLink(config, scheme_id, channel, synthesizer, transcriber, outage)
        except EngineMissingError as exc:
            self.problems[config.slug] = str(exc)
            logger.error("radio for %s is off: %s", config.slug, exc)
            await self._tell_coordinators(
                config,
                scheme_id,
                radio_texts.radio_engine_missing(config.name, str(exc)),
                # Once per problem, however often the bot restarts with it.
                f"engine:{hashlib.sha256(str(exc).encode()).hexdigest()[:12]}",
            )
            return
        self.links[scheme_id] = link
        await link.channel.start()
        link.listener = asyncio.create_task(self._listen(link), name=f"radio-in-{config.slug}")
        logger.info("radio for %s: %s:%s", config.slug, radio.server, radio.port)

    def _synthesizer(self, radio: RadioConfig) -> Synthesizer:
        key = ("tts", f"{radio.tts}:{radio.voice}")
        if key not in self._engines:
            self._engines[key] = build_synthesizer(radio.tts, radio.voice)
        return self._engines[key]  # type: ignore[return-value]

    def _transcriber(self, radio: RadioConfig) -> Transcriber:
        key = ("stt", f"{radio.stt}:{radio.whisper_model}")
        if key not in self._engines:
            self._engines[key] = build_transcriber(radio.stt, radio.whisper_model)
        return self._engines[key]  # type: ignore[return-value]

    async def stop(self) -> None:
        links, self.links = list(self.links.values()), {}
        for link in links:
            await link.channel.stop()
            if link.listener is not None:
                with contextlib.suppress(asyncio.CancelledError):
                    await asyncio.wait_for(link.listener, 30)
        for chore in list(self._chores):
            chore.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await chore

    def link_for(self, scheme_id: int) -> RadioLink | None:
        return self.links.get(scheme_id)

    # --- link up and down: the coordinators hear of it once per outage -----------------

    def _link_listener(
        self, config: SchemeConfig, scheme_id: int, outage: _Outage
    ) -> Callable[[bool, str], None]:
        server = config.radio.server if config.radio else "?"

        def changed(up: bool, reason: str) -> None:
            if up and outage.told:
                outage.told = False
                message = radio_texts.radio_link_up(config.name, server)
            elif not up and not outage.told:
                outage.told = True
                message = radio_texts.radio_link_down(config.name, server, reason)
            else:
                return
            tag = f"{'up' if up else 'down'}:{utcnow().isoformat()}"
            self._chore(self._tell_coordinators(config, scheme_id, message, tag))

        return changed

    def _chore(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(work)
        self._chores.add(task)
        task.add_done_callback(self._chores.discard)

    async def _tell_coordinators(
        self, config: SchemeConfig, scheme_id: int, text: str, tag: str
    ) -> None:
        for coordinator in config.coordinators:
            await self.store.outbox.enqueue(
                scheme_id,
                Delivery(
                    chat_id=coordinator,
                    payload=MessagePayload(text=text),
                    dedupe_key=f"radio-link:{config.slug}:{tag}:{coordinator}",
                ),
            )
        self.wake()

    # --- out: the outbox's sender for kind `radio` ---------------------------------------

    @property
    def sender(self) -> Sender:
        return Sender(self.send)

    async def send(self, row: OutboxRow) -> Delivered:
        link = self.links.get(row.scheme_id)
        if link is None:
            raise NotFoundError("this scheme's radio is off")
        if utcnow() - row.created_at > STALE_AFTER:
            raise NotFoundError("too old to be worth saying on air")
        if not link.channel.connected:
            raise RetryLaterError(f"radio {link.radio.server} not connected")
        payload = read(row, RadioPayload)
        if payload.text:
            await link.channel.send_text(payload.text)
        pcm = b""
        if payload.speak:
            pcm = await link.synthesizer.synthesize(payload.speak)
        elif payload.audio:
            path = (self.data_dir / payload.audio).resolve()
            if not path.is_relative_to(self.data_dir.resolve()):
                raise NotFoundError("audio outside the data directory")
            pcm = await asyncio.to_thread(audio.read_audio, path.read_bytes())
        if pcm:
            await link.channel.send_speech(audio.silence(LEAD_IN_SECONDS) + pcm)
        return Delivered()

    # --- in: what is heard on the radio ------------------------------------------------

    async def _listen(self, link: RadioLink) -> None:
        async for arrival in link.channel.arrivals():
            try:
                if isinstance(arrival, Transmission):
                    await self.log_transmission(link, arrival)
                else:
                    await self.log_text(link, arrival)
            except Exception:
                logger.exception("radio call on %s could not be logged", link.config.slug)

    async def log_transmission(
        self, link: RadioLink, call: Transmission, *, transcript: str | None = None
    ) -> RadioCall:
        folder = self.data_dir / "radio" / link.config.slug
        incoming = folder / f"incoming-{uuid.uuid4().hex}.ogg"
        await asyncio.to_thread(audio.write_ogg_opus, call.pcm, incoming)
        if transcript is None:
            try:
                transcript = await link.transcriber.transcribe(call.pcm)
            except Exception:
                logger.exception("radio call on %s could not be transcribed", link.config.slug)
                transcript = ""
        heard = transcript
        candidates = await self.calls.open_reports(link.scheme_id)

        def deliveries(logged: RadioCall) -> list[Delivery]:
            assert logged.recording is not None
            caption = radio_texts.radio_call_caption(
                call.speaker, call.seconds, heard, stored_id(logged.report)
            )
            return [
                Delivery(
                    chat_id=link.config.control_room_chat_id,
                    payload=VoicePayload(
                        path=logged.recording,
                        caption=caption,
                        buttons=self._buttons(logged, candidates),
                        protect_content=link.config.protect_content,
                        delete_after_hours=link.config.chat_ttl_hours,
                    ),
                    dedupe_key=f"radio-call:{stored_id(logged.event)}",
                )
            ]

        try:
            logged = await self.calls.record(
                link.scheme_id,
                link.config.slug,
                call.speaker,
                heard,
                call.started_at,
                data_dir=self.data_dir,
                audio=incoming,
                deliveries=deliveries,
            )
        finally:
            incoming.unlink(missing_ok=True)
        logger.info(
            "radio call from %s on %s logged as report %s (%.1f s)",
            call.speaker,
            link.config.slug,
            logged.report.id,
            call.seconds,
        )
        self.wake()
        return logged

    async def log_text(self, link: RadioLink, message: TextArrival) -> RadioCall:
        candidates = await self.calls.open_reports(link.scheme_id)

        def deliveries(logged: RadioCall) -> list[Delivery]:
            return [
                Delivery(
                    chat_id=link.config.control_room_chat_id,
                    payload=MessagePayload(
                        text=radio_texts.radio_text_caption(
                            message.speaker, message.text, stored_id(logged.report)
                        ),
                        buttons=self._buttons(logged, candidates),
                        protect_content=link.config.protect_content,
                        delete_after_hours=link.config.chat_ttl_hours,
                    ),
                    dedupe_key=f"radio-call:{stored_id(logged.event)}",
                )
            ]

        logged = await self.calls.record(
            link.scheme_id,
            link.config.slug,
            message.speaker,
            message.text,
            message.at,
            data_dir=self.data_dir,
            audio=None,
            deliveries=deliveries,
        )
        self.wake()
        return logged

    def _buttons(self, logged: RadioCall, candidates: list[Report]) -> Buttons:
        event_id = stored_id(logged.event)
        rows: list[tuple[Button, ...]] = [
            (
                (
                    radio_texts.button_attach(stored_id(report)),
                    self.signer.sign(CALLBACK_PREFIX, event_id, stored_id(report)),
                ),
            )
            for report in candidates
        ]
        rows.append(
            ((radio_texts.BUTTON_NEW_REPORT, self.signer.sign(CALLBACK_PREFIX, event_id, "new")),)
        )
        return tuple(rows)

    # --- members' voice notes ----------------------------------------------------------

    async def transcribe(self, scheme_id: int, pcm: bytes) -> str:
        link = self.links.get(scheme_id)
        if link is None:
            return ""
        return await link.transcriber.transcribe(pcm)


def radio_bridge(
    schemes: SchemesFile,
    store: Store,
    data_dir: Path,
    signer: CallbackSigner,
    *,
    wake: Callable[[], None],
    opus_library: str | None,
) -> RadioBridge | None:
    """The bridge when any scheme has its radio on; None keeps a chat-only deployment lean."""
    if not any(config.radio_on for config in schemes.schemes):
        return None
    channels = mumble_channels(opus_library)
    return RadioBridge(store, schemes, data_dir, signer, wake=wake, channel_factory=channels)
