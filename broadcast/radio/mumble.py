"""The radio channel on a Mumble server: the bridge's own client, on the event loop.

The client is small on purpose: TLS to the server, the handful of control messages
a bot in one channel needs (`broadcast.radio.mumble_protocol`, parsed by a current
protobuf), Opus voice through the TLS connection, and a ping every ten seconds. It
runs on the bot's event loop as three tasks per connection (read, keep alive, speak),
with no thread and no lock. A connection that drops, never comes up, or is refused is
thrown away and another is made after a back-off, so a radio server that is down at
start-up or restarts mid-shift costs a gap, never the bot. A server that sends what
does not parse, a message too big to hold, or nothing for `DEAD_AFTER` seconds is
treated the same way.

Calls are told apart by the talker's own marks, never by the listener's clock: each
script goes out as one call, its frames numbered in audio time and the last one
carrying Mumble's terminator flag; what is heard is grouped by the same marks (see
`broadcast.radio.assembler`).

Import it through `broadcast.radio.codec.mumble_client`, which loads libopus first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from google.protobuf.message import DecodeError

from broadcast.radio import mumble_protocol as wire
from broadcast.radio.assembler import IDLE_SECONDS, TransmissionAssembler
from broadcast.radio.channel import (
    SAMPLE_RATE,
    SAMPLE_WIDTH,
    Arrival,
    RadioUnavailableError,
    TextArrival,
)
from broadcast.radio.codec import OpusDecoder, OpusEncoder, OpusError
from broadcast.texts.chats import inert
from config.backoff import Backoff

logger = logging.getLogger(__name__)

CONNECT_TIMEOUT = 10.0
SEND_TIMEOUT = 10.0
PING_SECONDS = 10.0
DEAD_AFTER = 30.0
"""A server that has sent nothing (not even the answer to a ping) for this long is gone."""
FLUSH_EVERY = 0.1

APPLICATION = "ShopWatch"
FRAME_SECONDS = 0.02
FRAME_BYTES = int(SAMPLE_RATE * FRAME_SECONDS) * SAMPLE_WIDTH
FRAME_STEPS = 2
"""Sequence steps per 20 ms frame: Mumble numbers audio in 10 ms steps."""
BANDWIDTH = 50_000
"""Bits a second the bot sends at most, as pymumble did; less if the server allows less."""
TUNNEL_OVERHEAD = 19_600
"""Bits a second of IP, TCP and tunnel headers around 20 ms frames, off the Opus bitrate."""
MIN_BITRATE = 8_000
REASON_CHARS = 120

LinkListener = Callable[[bool, str], None]


class _EndedError(Exception):
    """The connection is over; the message says why, in words for the coordinators."""


def _said_by_server(text: str) -> str:
    """The server's own words (a refusal, a kick) reach the coordinators' chat: one short
    line with nothing a phone would make a link of, so a server cannot speak as the bot."""
    return inert(text, REASON_CHARS)


@dataclass
class _User:
    name: str = ""
    channel_id: int = 0


@dataclass
class _Link:
    """One connection: its streams and what the server has told it so far."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    heard_at: float
    session: int | None = None
    max_bandwidth: int = 0
    users: dict[int, _User] = field(default_factory=dict)
    channels: dict[int, str] = field(default_factory=dict)
    decoders: dict[int, OpusDecoder] = field(default_factory=dict)
    speech: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)
    sequence: int = 0

    @property
    def channel_id(self) -> int:
        me = self.users.get(self.session) if self.session is not None else None
        return me.channel_id if me is not None else 0

    async def send(self, kind: wire.MessageType, message: Any) -> None:
        await self.send_raw(wire.frame(kind, message))

    async def send_raw(self, data: bytes) -> None:
        """Write and wait for the socket to drain; a server that stops reading ends it."""
        self.writer.write(data)
        try:
            async with asyncio.timeout(SEND_TIMEOUT):
                await self.writer.drain()
        except TimeoutError:
            self.writer.transport.abort()
            raise RadioUnavailableError("the radio server stopped reading") from None

    async def read(self) -> tuple[int, bytes]:
        kind, size = wire.HEADER.unpack(await self.reader.readexactly(wire.HEADER.size))
        if size > wire.MAX_MESSAGE_BYTES:
            raise _EndedError(f"the server sent a message of {size} bytes")
        payload = await self.reader.readexactly(size)
        self.heard_at = asyncio.get_running_loop().time()
        return kind, payload

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                await self.writer.wait_closed()


def _parse(message_class: Any, payload: bytes) -> Any:
    message = message_class()
    try:
        message.ParseFromString(payload)
    except DecodeError:
        raise _EndedError("a message from the server did not parse") from None
    return message


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
        self._link: _Link | None = None
        self._up = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def connected(self) -> bool:
        return self._link is not None

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._supervise(), name=f"radio-{self.host}:{self.port}"),
            asyncio.create_task(self._flush(), name=f"radio-audio-{self.host}:{self.port}"),
        ]

    async def stop(self) -> None:
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
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
        link = self._live()
        message = wire.TextMessage(channel_id=[link.channel_id], message=text)
        try:
            await link.send(wire.MessageType.TEXT_MESSAGE, message)
        except OSError as exc:  # the connection went as the message was written
            raise RadioUnavailableError(f"{self.host}:{self.port}: {exc}") from exc

    async def send_speech(self, pcm: bytes) -> None:
        """One call: queued behind any call still going out, ended with the terminator."""
        self._live().speech.put_nowait(pcm)

    def _live(self) -> _Link:
        if self._link is None:
            raise RadioUnavailableError(f"not connected to {self.host}:{self.port}")
        return self._link

    # --- the connection, supervised ----------------------------------------------------

    async def _supervise(self) -> None:
        failures = 0
        while True:
            link = await self._connect_once()
            if isinstance(link, _Link):
                failures = 0
                self._link = link
                self._up.set()
                self._tell(True, "connected")
                try:
                    reason = await self._serve(link)
                finally:
                    self._link = None
                    self._up.clear()
                    await link.close()
            else:
                reason = link
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

    def _tls(self) -> ssl.SSLContext:
        # Mumble servers present self-signed certificates; the server's identity is its
        # address in the schemes file, as in the Mumble client's default.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        if self.certfile:
            context.load_cert_chain(self.certfile, self.keyfile)
        return context

    async def _connect_once(self) -> _Link | str:
        """A connection the server has finished syncing, or why there is none."""
        link: _Link | None = None
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                reader, writer = await asyncio.open_connection(
                    self.host, self.port, ssl=self._tls()
                )
                link = _Link(reader, writer, heard_at=loop.time())
                major, minor, patch = wire.PROTOCOL_VERSION
                version = wire.Version(
                    version=major << 16 | minor << 8 | patch,
                    release=APPLICATION,
                    os=APPLICATION,
                    os_version="",
                )
                await link.send(wire.MessageType.VERSION, version)
                authenticate = wire.Authenticate(
                    username=self.username, password=self.password, opus=True
                )
                await link.send(wire.MessageType.AUTHENTICATE, authenticate)
                while link.session is None:  # the server's state comes before ServerSync
                    self._handle(link, *await link.read())
        except TimeoutError:
            reason = "no answer from the server"
        except _EndedError as exc:
            reason = str(exc)
        except asyncio.IncompleteReadError:
            reason = "the server closed the connection"
        except (OSError, RadioUnavailableError) as exc:
            reason = str(exc) or type(exc).__name__
        except BaseException:  # stopped while connecting
            if link is not None:
                link.writer.transport.abort()
            raise
        else:
            try:
                await self._join_channel(link)
            except BaseException:
                link.writer.transport.abort()
                raise
            return link
        if link is not None:
            await link.close()
        return reason

    async def _join_channel(self, link: _Link) -> None:
        if not self.channel_name:
            return
        for channel_id, name in link.channels.items():
            if name == self.channel_name:
                await link.send(
                    wire.MessageType.USER_STATE,
                    wire.UserState(session=link.session, channel_id=channel_id),
                )
                return
        logger.warning("radio channel %r not found; staying in the root", self.channel_name)

    async def _serve(self, link: _Link) -> str:
        """Read, keep alive and speak until the connection ends; returns why it ended."""
        tasks = [
            asyncio.create_task(self._listen(link)),
            asyncio.create_task(self._keep_alive(link)),
            asyncio.create_task(self._speak(link)),
        ]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        error = next(iter(done)).exception()
        if isinstance(error, asyncio.IncompleteReadError):
            return "the server closed the connection"
        if isinstance(error, _EndedError):
            return str(error)
        if isinstance(error, OSError | RadioUnavailableError):
            return str(error) or type(error).__name__
        if error is not None:
            logger.error("radio connection failed", exc_info=error)
            return type(error).__name__
        return "disconnected"

    async def _listen(self, link: _Link) -> None:
        while True:
            self._handle(link, *await link.read())

    async def _keep_alive(self, link: _Link) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(PING_SECONDS)
            if loop.time() - link.heard_at > DEAD_AFTER:
                raise _EndedError(f"no data from the server for {DEAD_AFTER:.0f}s")
            await link.send(wire.MessageType.PING, wire.Ping(timestamp=int(time.time())))

    # --- what the server says ----------------------------------------------------------

    def _handle(self, link: _Link, kind: int, payload: bytes) -> None:
        if kind == wire.MessageType.UDP_TUNNEL:
            self._heard(link, payload)
        elif kind == wire.MessageType.SERVER_SYNC:
            sync = _parse(wire.ServerSync, payload)
            link.session = int(sync.session)
            link.max_bandwidth = int(sync.max_bandwidth)
        elif kind == wire.MessageType.REJECT:
            reason = _parse(wire.Reject, payload).reason
            raise _EndedError(f"refused by the server: {_said_by_server(reason)}")
        elif kind == wire.MessageType.CHANNEL_STATE:
            state = _parse(wire.ChannelState, payload)
            if state.HasField("name"):
                link.channels[int(state.channel_id)] = str(state.name)
        elif kind == wire.MessageType.CHANNEL_REMOVE:
            link.channels.pop(int(_parse(wire.ChannelRemove, payload).channel_id), None)
        elif kind == wire.MessageType.USER_STATE:
            self._user_state(link, _parse(wire.UserState, payload))
        elif kind == wire.MessageType.USER_REMOVE:
            removed = _parse(wire.UserRemove, payload)
            session = int(removed.session)
            link.users.pop(session, None)
            link.decoders.pop(session, None)
            if session == link.session:
                said = _said_by_server(removed.reason) or "no reason given"
                raise _EndedError(f"removed from the server: {said}")
        elif kind == wire.MessageType.TEXT_MESSAGE:
            message = _parse(wire.TextMessage, payload)
            user = link.users.get(int(message.actor))
            speaker = user.name if user is not None else "unknown"
            self._arrivals.put_nowait(
                TextArrival(speaker, str(message.message), datetime.now(UTC))
            )
        # Every other message (pings answered, permissions, codecs, crypt setup for the
        # UDP the bot never uses) needs nothing from a bot that talks through TLS.

    @staticmethod
    def _user_state(link: _Link, state: Any) -> None:
        user = link.users.setdefault(int(state.session), _User())
        if state.HasField("name"):
            user.name = str(state.name)
        if state.HasField("channel_id"):
            user.channel_id = int(state.channel_id)

    def _heard(self, link: _Link, packet: bytes) -> None:
        try:
            frame = wire.read_voice(packet)
        except wire.MalformedError as exc:
            logger.debug("radio voice packet dropped: %s", exc)
            return
        if frame is None:
            return
        user = link.users.get(frame.session)
        if user is None:  # after the talker left, or from no one the server named
            return
        pcm = b""
        if frame.opus:
            decoder = link.decoders.get(frame.session)
            if decoder is None:
                decoder = link.decoders[frame.session] = OpusDecoder()
            try:
                pcm = decoder.decode(frame.opus)
            except OpusError:
                logger.debug("radio voice frame from %s did not decode", user.name)
        if pcm or frame.last:
            done = self._assembler.add(user.name, pcm, sequence=frame.sequence, last=frame.last)
            for transmission in done:
                self._arrivals.put_nowait(transmission)

    async def _flush(self) -> None:
        """Calls whose talker went quiet without ending them, every `FLUSH_EVERY`."""
        while True:
            await asyncio.sleep(FLUSH_EVERY)
            for transmission in self._assembler.flush():
                self._arrivals.put_nowait(transmission)

    # --- what the bot says -------------------------------------------------------------

    async def _speak(self, link: _Link) -> None:
        """Each queued call out at one 20 ms frame per 20 ms. After a stall the pace
        starts again from now: no burst, and no jump in the sequence."""
        loop = asyncio.get_running_loop()
        encoder: OpusEncoder | None = None
        due = loop.time()
        while True:
            pcm = await link.speech.get()
            frames = [pcm[at : at + FRAME_BYTES] for at in range(0, len(pcm), FRAME_BYTES)]
            if encoder is None:
                allowed = min(BANDWIDTH, link.max_bandwidth or BANDWIDTH)
                encoder = OpusEncoder(max(MIN_BITRATE, allowed - TUNNEL_OVERHEAD))
            due = max(due, loop.time())
            for index, chunk in enumerate(frames):
                try:
                    opus = encoder.encode(chunk.ljust(FRAME_BYTES, b"\0"))
                except OpusError:
                    opus = b""
                last = index == len(frames) - 1
                await link.send_raw(wire.tunnel(wire.voice_packet(link.sequence, opus, last=last)))
                link.sequence += FRAME_STEPS
                due = max(due + FRAME_SECONDS, loop.time())
                await asyncio.sleep(due - loop.time())
