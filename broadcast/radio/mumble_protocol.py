"""Mumble's wire format, as much of it as the radio uses: control messages and voice packets.

The control messages are Protocol Buffers (Mumble's `Mumble.proto`, proto2). They are
declared here, field by field, for the few messages the bridge sends or reads, and built
into message classes at import by the installed protobuf (a private descriptor pool, so
nothing else in the process can clash with them). So the server's messages are parsed by
a current protobuf with its default (upb, C) backend: no generated code tied to one
protobuf release, no old client library pinning an old protobuf for the whole process, and
fields the server sends that are not declared here are kept aside as unknown, never
interpreted. Every field is optional here, even those Mumble marks required, so a message
missing one parses and is judged by the client, not refused by the parser.

Voice goes through the TLS connection (UDPTunnel), in Mumble's legacy packet format that a
1.2-era client announces: a header byte (codec and target), Mumble's own variable-length
integers (not protobuf's) for the talker's session and the sequence, then Opus frames each
with its length and, on a call's last frame, the terminator flag.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

PROTOCOL_VERSION = (1, 2, 4)
"""The protocol announced: a 1.2.4 client, so the server sends legacy Opus voice packets."""

HEADER = struct.Struct("!HI")
"""A control message's prefix: its type and its length."""

MAX_MESSAGE_BYTES = 8 * 1024 * 1024
"""A longer control message ends the connection instead of being buffered (Mumble's own
clients refuse one of 8 MiB and more)."""

OPUS = 4
"""The codec in a voice packet's header (its top three bits); 1 is a UDP ping."""

TERMINATOR = 0x2000
"""Set in an Opus frame's length on the last frame of a transmission."""

_LENGTH_MASK = 0x1FFF


class MessageType(IntEnum):
    """The control messages' numbers on the wire (those the bridge sends or reads)."""

    VERSION = 0
    UDP_TUNNEL = 1
    AUTHENTICATE = 2
    PING = 3
    REJECT = 4
    SERVER_SYNC = 5
    CHANNEL_REMOVE = 6
    CHANNEL_STATE = 7
    USER_REMOVE = 8
    USER_STATE = 9
    TEXT_MESSAGE = 11


_F = descriptor_pb2.FieldDescriptorProto
_UINT32, _UINT64 = _F.TYPE_UINT32, _F.TYPE_UINT64
_STRING, _BOOL = _F.TYPE_STRING, _F.TYPE_BOOL
_ONE, _MANY = _F.LABEL_OPTIONAL, _F.LABEL_REPEATED

# (message, [(field, number, type, label)]) with Mumble.proto's numbers and types.
_MESSAGES: list[tuple[str, list[tuple[str, int, int, int]]]] = [
    (
        "Version",
        [
            ("version", 1, _UINT32, _ONE),
            ("release", 2, _STRING, _ONE),
            ("os", 3, _STRING, _ONE),
            ("os_version", 4, _STRING, _ONE),
        ],
    ),
    (
        "Authenticate",
        [
            ("username", 1, _STRING, _ONE),
            ("password", 2, _STRING, _ONE),
            ("tokens", 3, _STRING, _MANY),
            ("opus", 5, _BOOL, _ONE),
        ],
    ),
    ("Ping", [("timestamp", 1, _UINT64, _ONE)]),
    # `type` is an enum in Mumble.proto; on the wire an enum is a varint like this one.
    ("Reject", [("type", 1, _UINT32, _ONE), ("reason", 2, _STRING, _ONE)]),
    (
        "ServerSync",
        [
            ("session", 1, _UINT32, _ONE),
            ("max_bandwidth", 2, _UINT32, _ONE),
            ("welcome_text", 3, _STRING, _ONE),
            ("permissions", 4, _UINT64, _ONE),
        ],
    ),
    ("ChannelRemove", [("channel_id", 1, _UINT32, _ONE)]),
    (
        "ChannelState",
        [
            ("channel_id", 1, _UINT32, _ONE),
            ("parent", 2, _UINT32, _ONE),
            ("name", 3, _STRING, _ONE),
        ],
    ),
    (
        "UserRemove",
        [
            ("session", 1, _UINT32, _ONE),
            ("actor", 2, _UINT32, _ONE),
            ("reason", 3, _STRING, _ONE),
        ],
    ),
    (
        "UserState",
        [
            ("session", 1, _UINT32, _ONE),
            ("actor", 2, _UINT32, _ONE),
            ("name", 3, _STRING, _ONE),
            ("channel_id", 5, _UINT32, _ONE),
        ],
    ),
    (
        "TextMessage",
        [
            ("actor", 1, _UINT32, _ONE),
            ("session", 2, _UINT32, _MANY),
            ("channel_id", 3, _UINT32, _MANY),
            ("tree_id", 4, _UINT32, _MANY),
            ("message", 5, _STRING, _ONE),
        ],
    ),
]


def _build() -> dict[str, Any]:
    package = "shopwatch.mumble"
    file = descriptor_pb2.FileDescriptorProto(
        name="shopwatch/mumble.proto", package=package, syntax="proto2"
    )
    for name, fields in _MESSAGES:
        message = file.message_type.add(name=name)
        for field, number, kind, label in fields:
            message.field.add(name=field, number=number, type=kind, label=label)
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return {
        name: message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{package}.{name}"))
        for name, _ in _MESSAGES
    }


_CLASSES = _build()
Version = _CLASSES["Version"]
Authenticate = _CLASSES["Authenticate"]
Ping = _CLASSES["Ping"]
Reject = _CLASSES["Reject"]
ServerSync = _CLASSES["ServerSync"]
ChannelRemove = _CLASSES["ChannelRemove"]
ChannelState = _CLASSES["ChannelState"]
UserRemove = _CLASSES["UserRemove"]
UserState = _CLASSES["UserState"]
TextMessage = _CLASSES["TextMessage"]


def frame(kind: MessageType, message: Any) -> bytes:
    """A control message as it goes on the wire."""
    payload = bytes(message.SerializeToString())
    return HEADER.pack(kind, len(payload)) + payload


def tunnel(packet: bytes) -> bytes:
    """A voice packet carried over the TLS connection."""
    return HEADER.pack(MessageType.UDP_TUNNEL, len(packet)) + packet


class MalformedError(ValueError):
    """A voice packet that does not parse: dropped, never half-read."""


def encode_varint(value: int) -> bytes:
    """Mumble's variable-length integer (non-negative values, as the bridge sends them)."""
    if value < 0:
        raise ValueError("the bridge sends no negative numbers")
    if value < 0x80:
        return bytes([value])
    if value < 0x4000:
        return struct.pack("!H", 0x8000 | value)
    if value < 0x200000:
        return struct.pack("!BH", 0xC0 | value >> 16, value & 0xFFFF)
    if value < 0x10000000:
        return struct.pack("!I", 0xE0000000 | value)
    if value < 0x100000000:
        return struct.pack("!BI", 0xF0, value)
    return struct.pack("!BQ", 0xF4, value & 0xFFFFFFFFFFFFFFFF)


def decode_varint(data: bytes, at: int) -> tuple[int, int]:
    """(value, where the next field starts) of the integer at `at`; `MalformedError` if cut."""
    try:
        first = data[at]
        if first < 0x80:
            return first, at + 1
        if first < 0xC0:
            return (first & 0x3F) << 8 | data[at + 1], at + 2
        if first < 0xE0:
            return (first & 0x1F) << 16 | struct.unpack_from("!H", data, at + 1)[0], at + 3
        if first < 0xF0:
            rest = data[at + 1 : at + 4]
            if len(rest) < 3:
                raise IndexError(at + 4)
            return (first & 0x0F) << 24 | int.from_bytes(rest), at + 4
        marker = first & 0xFC
        if marker == 0xF0:
            return struct.unpack_from("!I", data, at + 1)[0], at + 5
        if marker == 0xF4:
            return struct.unpack_from("!Q", data, at + 1)[0], at + 9
        if marker == 0xF8:
            value, after = decode_varint(data, at + 1)
            return -value, after
        return ~(first & 0x03), at + 1
    except (IndexError, struct.error) as exc:
        raise MalformedError("a number runs past the end of the packet") from exc


def voice_packet(sequence: int, opus: bytes, *, last: bool, target: int = 0) -> bytes:
    """One Opus frame from us: the server adds our session before passing it on."""
    length = len(opus) | (TERMINATOR if last else 0)
    return bytes([OPUS << 5 | target]) + encode_varint(sequence) + encode_varint(length) + opus


@dataclass(frozen=True, slots=True)
class VoiceFrame:
    """One Opus frame as heard: who sent it, where it sits in their audio, and if it ends."""

    session: int
    sequence: int
    opus: bytes
    last: bool


def read_voice(packet: bytes) -> VoiceFrame | None:
    """The Opus frame in a voice packet from the server; None for another codec or a ping.

    A packet whose numbers or frame run past its end is `MalformedError`.
    """
    if not packet or packet[0] >> 5 != OPUS:
        return None
    session, at = decode_varint(packet, 1)
    sequence, at = decode_varint(packet, at)
    length, at = decode_varint(packet, at)
    if session < 0 or sequence < 0 or length < 0:
        raise MalformedError("a negative session, sequence or length")
    size = length & _LENGTH_MASK
    if at + size > len(packet):
        raise MalformedError("the Opus frame runs past the end of the packet")
    return VoiceFrame(session, sequence, packet[at : at + size], bool(length & TERMINATOR))
