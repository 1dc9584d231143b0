"""The radio channel on a Mumble server, through pymumble.

pymumble runs its own thread; everything it reports crosses to the event loop by
`loop.call_soon_threadsafe`, and nothing on the loop ever waits on its locks. A
pymumble client is one connection: when it drops (or never comes up) this
adapter throws it away and builds another after a back-off, so a radio server
that is down at start-up or restarts mid-shift costs a gap, never the bot.

Calls are told apart by the talker's own marks, never by the listener's clock: each
script goes out with its sequence numbered in audio time and Mumble's terminator flag
on its last frame (pymumble's sender numbers by wall time and never marks an end, so
a stall of its thread looked like the end of a call), and what is heard is grouped by
the same marks (see `broadcast.radio.assembler`).

Import it through `broadcast.radio.codec.mumble_client`, which loads libopus first.
pymumble 1.6.1 needs protobuf's pure-Python implementation with a recent
protobuf, so it is selected here before the import (an explicit setting in the
environment wins). Its `connect` uses `ssl.wrap_socket`, deprecated and gone in
Python 3.12, so `_Client` connects with an `SSLContext` instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import ssl
import struct
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

os.environ.setdefault("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION", "python")

from broadcast.radio.assembler import IDLE_SECONDS, TransmissionAssembler
from broadcast.radio.channel import Arrival, RadioUnavailableError, TextArrival
from broadcast.radio.codec import CodecMissingError
from broadcast.radio.speech import EngineMissingError
from config.backoff import Backoff

try:
    import opuslib
    import pymumble_py3 as pymumble
    from pymumble_py3 import constants as mumble_constants
    from pymumble_py3 import messages as mumble_messages
    from pymumble_py3 import mumble_pb2
    from pymumble_py3.soundoutput import SoundOutput
    from pymumble_py3.tools import VarInt
except ImportError as exc:  # depends on the installed extra
    raise EngineMissingError("Mumble client", "pymumble") from exc
except Exception as exc:  # opuslib's bare Exception (or OSError) when libopus does not load
    raise CodecMissingError(str(exc) or type(exc).__name__) from exc

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0
FLUSH_EVERY = 0.1
QUEUE_FRAMES = 20_000  # about 6 minutes of 20 ms frames across all talkers

TERMINATOR = 0x2000
"""Set in an Opus frame's length header on the last frame of a transmission."""

LinkListener = Callable[[bool, str], None]
# (talker, 48 kHz PCM, sequence in 10 ms steps, last frame of the call)
Frame = tuple[str, bytes, int | None, bool]


def _opus_header(packet: bytes) -> tuple[int, int, bool] | None:
    """(session, sequence, terminator) of a legacy Opus voice packet; None for anything else."""
    if not packet or packet[0] >> 5 != mumble_constants.PYMUMBLE_AUDIO_TYPE_OPUS:
        return None
    try:
        session, sequence, size = VarInt(), VarInt(), VarInt()
        at = 1
        at += session.decode(packet[at : at + 10])
        at += sequence.decode(packet[at : at + 10])
        size.decode(packet[at : at + 10])
    except Exception:  # pymumble's VarInt raises bare errors on a short packet
        return None
    return int(session.value), int(sequence.value), bool(size.value & TERMINATOR)


class _MarkedOutput(SoundOutput):  # type: ignore[misc]
    """pymumble's sender, numbering frames in audio time and marking each call's end.

    Each `add_sound` is one call: the frame that empties the queue carries the
    terminator. Sending stays paced at one 20 ms frame per 20 ms; after a stall the
    pace restarts from now, without a burst and without a jump in the sequence.
    """

    sequence_last_time: float

    def send_audio(self) -> None:
        if not self.encoder or not self.pcm:
            return
        per_packet = float(self.audio_per_packet)
        step = round(per_packet / mumble_constants.PYMUMBLE_SEQUENCE_DURATION)
        samples = int(self.encoder_framesize * mumble_constants.PYMUMBLE_SAMPLERATE)
        frame_bytes = samples * 2 * self.channels
        sent_at = self.sequence_last_time
        if sent_at + 2 * per_packet <= time.time():
            sent_at = time.time() - per_packet
        while self.pcm and sent_at + per_packet <= time.time():
            sent_at = self.sequence_last_time = sent_at + per_packet
            with self.lock:
                pcm = self.pcm.pop(0)
                last = not self.pcm
            try:
                encoded = self.encoder.encode(pcm.ljust(frame_bytes, b"\0"), samples)
            except opuslib.exceptions.OpusError:
                encoded = b""
            packet = (
                struct.pack("!B", self.codec_type << 5 | self.target)
                + VarInt(self.sequence).encode()
                + VarInt(len(encoded) | (TERMINATOR if last else 0)).encode()
                + encoded
            )
            if self.mumble_object.positional:
                packet += struct.pack("fff", *self.mumble_object.positional[:3])
            self.sequence += step
            tunnel = mumble_constants.PYMUMBLE_MSG_TYPES_UDPTUNNEL
            self.mumble_object.control_socket.sendall(
                struct.pack("!HL", tunnel, len(packet)) + packet
            )


class _Client(pymumble.Mumble):  # type: ignore[misc]
    """One connection; tells the loop when its thread ends, however it ends."""

    sound_output: Any

    def __init__(self, *args: Any, on_end: Callable[[str], None], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # pymumble adds a stderr handler to its shared logger per client; ours go
        # through the application's logging like every other module's.
        for handler in list(self.Log.handlers):
            self.Log.removeHandler(handler)
        self.daemon = True
        self._on_end = on_end
        self.control_socket: Any = None
        self.on_call_end: Callable[[Any], None] = lambda _user: None

    def init_connection(self) -> None:
        super().init_connection()
        plain = self.sound_output
        self.sound_output = _MarkedOutput(
            self,
            plain.audio_per_packet,
            plain.bandwidth,
            stereo=plain.channels == 2,
            opus_profile=plain.opus_profile,
        )

    def sound_received(self, message: bytes) -> None:
        """pymumble decodes the frame (but reads Opus's terminator flag upside down and
        keeps it to itself); the call's end is passed on after its last frame."""
        super().sound_received(message)
        header = _opus_header(message)
        if header is not None and header[2] and header[0] in self.users:
            self.on_call_end(self.users[header[0]])

    def connect(self) -> int:
        try:
            info = socket.getaddrinfo(self.host, self.port, type=socket.SOCK_STREAM)
            raw = socket.socket(info[0][0], socket.SOCK_STREAM)
            raw.settimeout(CONNECT_TIMEOUT)
            # Mumble servers present self-signed certificates; the server's identity
            # is its address in the schemes file, as in the Mumble client's default.
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            if self.certfile:
                context.load_cert_chain(self.certfile, self.keyfile)
            self.control_socket = context.wrap_socket(raw)
            self.control_socket.connect((self.host, self.port))
            self.control_socket.setblocking(False)
            version = mumble_pb2.Version()
            major, minor, patch = mumble_constants.PYMUMBLE_PROTOCOL_VERSION
            version.version = (major << 16) + (minor << 8) + patch
            version.release = self.application
            version.os = mumble_constants.PYMUMBLE_OS_STRING
            version.os_version = mumble_constants.PYMUMBLE_OS_VERSION_STRING
            self.send_message(mumble_constants.PYMUMBLE_MSG_TYPES_VERSION, version)
            authenticate = mumble_pb2.Authenticate()
            authenticate.username = self.user
            authenticate.password = self.password
            authenticate.tokens.extend(self.tokens)
            authenticate.opus = True
            self.send_message(mumble_constants.PYMUMBLE_MSG_TYPES_AUTHENTICATE, authenticate)
        except OSError as exc:
            self.failure = str(exc)
            self.connected = mumble_constants.PYMUMBLE_CONN_STATE_FAILED
            return int(self.connected)
        self.connected = mumble_constants.PYMUMBLE_CONN_STATE_AUTHENTICATING
        return int(self.connected)

    def run(self) -> None:
        reason = "disconnected"
        try:
            super().run()
        except Exception as exc:
            reason = getattr(self, "failure", None) or str(exc) or type(exc).__name__
        finally:
            with contextlib.suppress(Exception):
                self.ready_lock.release()
            self._on_end(reason)

    def close(self) -> None:
        self.reconnect = None
        self.exit = True
        if self.control_socket is not None:
            with contextlib.suppress(OSError):
                self.control_socket.close()


class MumbleChannel:
    """A scheme's radio channel: connect, listen, talk, and come back after any drop."""

    def __init__(
        self,
        host: str,
        port: int,
        username: str,
        *,
        channel: str = "",
        password: str = "",
        certfile: Path | None = None,
        keyfile: Path | None = None,
        max_transmission_seconds: float = 60.0,
        idle_seconds: float = IDLE_SECONDS,
        retry_first: float = 1.0,
        retry_max: float = 60.0,
        on_link: LinkListener | None = None,
    ) -> None:
        self.host, self.port, self.username = host, port, username
        self.channel_name = channel
        self.password = password
        self.certfile, self.keyfile = certfile, keyfile
        self.retry = Backoff(first=retry_first, most=retry_max)
        self.on_link = on_link
        self._assembler = TransmissionAssembler(
            max_seconds=max_transmission_seconds, idle=idle_seconds
        )
        self._arrivals: asyncio.Queue[Arrival | None] = asyncio.Queue()
        self._frames: asyncio.Queue[Frame] = asyncio.Queue(QUEUE_FRAMES)
        self._client: _Client | None = None
        self._ended = asyncio.Event()
        self._ready = False
        self._up = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def connected(self) -> bool:
        return self._ready and self._client is not None and not self._ended.is_set()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._tasks = [
            asyncio.create_task(self._supervise(), name=f"radio-{self.host}:{self.port}"),
            asyncio.create_task(self._assemble(), name=f"radio-audio-{self.host}:{self.port}"),
        ]

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._drop()
        for transmission in self._assembler.flush(everything=True):
            self._arrivals.put_nowait(transmission)
        self._arrivals.put_nowait(None)

    async def wait_connected(self) -> None:
        """For start-up checks and tests: returns once the link is up."""
        await self._up.wait()

    async def arrivals(self) -> AsyncIterator[Arrival]:
        while True:
            item = await self._arrivals.get()
            if item is None:
                return
            yield item

    async def send_text(self, text: str) -> None:
        client = self._live()
        channel_id = client.users.myself["channel_id"]
        command = mumble_messages.TextMessage(client.users.myself_session, channel_id, text)
        client.execute_command(command, blocking=False)

    async def send_speech(self, pcm: bytes) -> None:
        self._live().sound_output.add_sound(pcm)

    def _live(self) -> _Client:
        client = self._client
        if client is None or not self.connected:
            raise RadioUnavailableError(f"not connected to {self.host}:{self.port}")
        return client

    # --- the connection, supervised ----------------------------------------------------

    async def _supervise(self) -> None:
        failures = 0
        while True:
            reason = await self._connect_once()
            if reason is None:
                failures = 0
                self._tell(True, "connected")
                await self._ended.wait()
                reason = self._end_reason
                self._ready = False
                self._up.clear()
                await self._drop()
            self._tell(False, reason)
            failures += 1
            delay = self.retry.seconds(failures)
            logger.info(
                "radio %s:%s down (%s); retrying in %.0fs", self.host, self.port, reason, delay
            )
            await asyncio.sleep(delay)

    def _tell(self, up: bool, reason: str) -> None:
        if self.on_link is not None:
            try:
                self.on_link(up, reason)
            except Exception:
                logger.exception("radio link listener failed")

    async def _connect_once(self) -> str | None:
        """Bring up one connection; None when it is up, else why not."""
        ended_event = self._ended = asyncio.Event()
        self._end_reason = "disconnected"
        loop = asyncio.get_running_loop()

        def ended(reason: str) -> None:
            def mark() -> None:
                if ended_event is self._ended:
                    self._end_reason = reason
                ended_event.set()

            with contextlib.suppress(RuntimeError):  # the loop is already closed
                loop.call_soon_threadsafe(mark)

        client = _Client(
            self.host,
            self.username,
            port=self.port,
            password=self.password,
            certfile=str(self.certfile) if self.certfile else None,
            keyfile=str(self.keyfile) if self.keyfile else None,
            reconnect=False,
            on_end=ended,
        )
        client.set_application_string("ShopWatch")
        client.set_receive_sound(True)
        client.callbacks.set_callback(
            mumble_constants.PYMUMBLE_CLBK_SOUNDRECEIVED, self._heard(loop)
        )
        client.on_call_end = self._call_ended(loop)
        client.callbacks.set_callback(
            mumble_constants.PYMUMBLE_CLBK_TEXTMESSAGERECEIVED, self._read(loop, client)
        )
        self._client = client
        client.start()
        ready = await asyncio.to_thread(client.ready_lock.acquire, True, CONNECT_TIMEOUT)
        if ready:
            with contextlib.suppress(RuntimeError):  # the thread released it as it ended
                client.ready_lock.release()
        if not ready or client.connected != mumble_constants.PYMUMBLE_CONN_STATE_CONNECTED:
            await self._drop()
            return self._end_reason if self._ended.is_set() else "no answer from the server"
        if self.channel_name:
            try:
                target = client.channels.find_by_name(self.channel_name)
                client.execute_command(
                    mumble_messages.MoveCmd(client.users.myself_session, target["channel_id"]),
                    blocking=False,
                )
            except pymumble.errors.UnknownChannelError:
                logger.warning(
                    "radio channel %r not found; staying in the root", self.channel_name
                )
        self._ready = True
        self._up.set()
        return None

    async def _drop(self) -> None:
        client, self._client = self._client, None
        self._ready = False
        if client is None:
            return
        client.close()
        if client.is_alive():
            await asyncio.to_thread(client.join, CONNECT_TIMEOUT)

    # --- what others say ---------------------------------------------------------------

    def _heard(self, loop: asyncio.AbstractEventLoop) -> Callable[[Any, Any], None]:
        def on_sound(user: Any, chunk: Any) -> None:
            # Runs in pymumble's thread: drain its per-user queue (which never
            # empties itself) and hand the frame to the loop.
            while user.sound.is_sound():
                user.sound.get_sound()
            frame = (str(user["name"]), bytes(chunk.pcm), int(chunk.sequence), False)
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._frame, frame)

        return on_sound

    def _call_ended(self, loop: asyncio.AbstractEventLoop) -> Callable[[Any], None]:
        def on_end(user: Any) -> None:
            # After the last frame's own hand-over, from the same thread: in order.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._frame, (str(user["name"]), b"", None, True))

        return on_end

    def _frame(self, frame: Frame) -> None:
        try:
            self._frames.put_nowait(frame)
        except asyncio.QueueFull:
            logger.warning("radio audio backlog full; a frame from %s was dropped", frame[0])

    def _read(self, loop: asyncio.AbstractEventLoop, client: _Client) -> Callable[[Any], None]:
        def on_text(message: Any) -> None:
            try:
                speaker = str(client.users[message.actor]["name"])
            except KeyError:
                speaker = "unknown"
            arrival = TextArrival(speaker, str(message.message), datetime.now(UTC))
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(self._arrivals.put_nowait, arrival)

        return on_text

    async def _assemble(self) -> None:
        while True:
            frames: list[Frame] = []
            try:
                async with asyncio.timeout(FLUSH_EVERY):
                    frames.append(await self._frames.get())
            except TimeoutError:
                pass
            while not self._frames.empty():  # all that has arrived, before any idle check
                frames.append(self._frames.get_nowait())
            done = []
            for speaker, pcm, sequence, last in frames:
                done += self._assembler.add(speaker, pcm, sequence=sequence, last=last)
            done += self._assembler.flush()
            for transmission in done:
                self._arrivals.put_nowait(transmission)
