"""Opus, the radio's codec: libopus itself, loaded for real before the Mumble client.

The bridge encodes and decodes Mumble's audio with libopus (Debian's `libopus0`)
through its C API, a handful of calls bound here with ctypes: the library is the one
`SHOPWATCH_OPUS_LIBRARY` names (a path, or a name for the dynamic loader), or else the
one the system's loader finds for `opus`. Any failure to load it is a
`CodecMissingError`, which the bridge reports once (log line, coordinators) before
leaving that scheme's radio off and `shopwatch doctor` reports as FAIL, each with the
fix. What the server relays from other talkers is decoded by libopus, which bounds its
own output to the frame size it is given.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib
from types import ModuleType

from broadcast.radio.speech import EngineMissingError

OPUS_PACKAGE = "libopus0"
OPUS_INSTALL = f"apt-get install {OPUS_PACKAGE}"


class CodecMissingError(EngineMissingError):
    """libopus cannot be loaded: the radio cannot hear or speak."""

    def __init__(self, problem: str) -> None:
        Exception.__init__(
            self,
            f"the Opus codec cannot be loaded ({problem}): install Debian's {OPUS_PACKAGE} "
            f"({OPUS_INSTALL})",
        )
        self.fix = f"{OPUS_INSTALL}, or point SHOPWATCH_OPUS_LIBRARY at libopus"


SAMPLE_RATE = 48_000
APPLICATION_AUDIO = 2049
"""OPUS_APPLICATION_AUDIO, as Mumble's own clients encode."""
SET_BITRATE = 4002
"""OPUS_SET_BITRATE_REQUEST."""
MAX_FRAME_SAMPLES = 5760
"""120 ms at 48 kHz: the longest frame Opus has, so no packet decodes past the buffer."""
MAX_PACKET_BYTES = 4000

_loaded: dict[str, ctypes.CDLL] = {}
"""The libopus last loaded (under "opus"): the one the encoders and decoders use."""


def load_opus(library: str | None = None) -> str:
    """Load libopus (the named one, else the system's) and return its version string."""
    name = library or ctypes.util.find_library("opus")
    if name is None:
        raise CodecMissingError("the system's dynamic loader finds no libopus")
    try:
        loaded = ctypes.CDLL(name)
        version = loaded.opus_get_version_string
        _declare(loaded)
    except (OSError, AttributeError) as exc:
        said = str(exc)  # the loader's words name the file; an AttributeError's do not
        raise CodecMissingError(said if name in said else f"{name}: {said}") from None
    version.restype = ctypes.c_char_p
    _loaded["opus"] = loaded
    return bytes(version()).decode(errors="replace")


def _declare(lib: ctypes.CDLL) -> None:
    """The C signatures of the calls used, so ctypes passes pointers and ints rightly."""
    pointer, c_int, c_int32 = ctypes.c_void_p, ctypes.c_int, ctypes.c_int32
    error = ctypes.POINTER(c_int)
    lib.opus_encoder_create.argtypes = [c_int32, c_int, c_int, error]
    lib.opus_encoder_create.restype = pointer
    lib.opus_encoder_ctl.argtypes = [pointer, c_int]  # variadic: the value follows
    lib.opus_encoder_ctl.restype = c_int
    lib.opus_encode.argtypes = [pointer, ctypes.c_char_p, c_int, ctypes.c_char_p, c_int32]
    lib.opus_encode.restype = c_int32
    lib.opus_encoder_destroy.argtypes = [pointer]
    lib.opus_encoder_destroy.restype = None
    lib.opus_decoder_create.argtypes = [c_int32, c_int, error]
    lib.opus_decoder_create.restype = pointer
    lib.opus_decode.argtypes = [pointer, ctypes.c_char_p, c_int32, ctypes.c_char_p, c_int, c_int]
    lib.opus_decode.restype = c_int
    lib.opus_decoder_destroy.argtypes = [pointer]
    lib.opus_decoder_destroy.restype = None
    lib.opus_strerror.argtypes = [c_int]
    lib.opus_strerror.restype = ctypes.c_char_p


class OpusError(Exception):
    """libopus refused: a frame that does not decode, or a setting it does not take."""


def _library() -> ctypes.CDLL:
    if "opus" not in _loaded:
        load_opus()
    return _loaded["opus"]


def _check(lib: ctypes.CDLL, code: int) -> int:
    if code < 0:
        raise OpusError(bytes(lib.opus_strerror(code)).decode(errors="replace"))
    return code


class OpusEncoder:
    """Mono 48 kHz speech into Opus frames."""

    def __init__(self, bitrate: int) -> None:
        self._lib = lib = _library()
        error = ctypes.c_int(0)
        self._state = lib.opus_encoder_create(SAMPLE_RATE, 1, APPLICATION_AUDIO, error)
        _check(lib, error.value)
        _check(lib, lib.opus_encoder_ctl(self._state, SET_BITRATE, ctypes.c_int32(bitrate)))

    def encode(self, pcm: bytes) -> bytes:
        """One frame (2.5 to 60 ms of 16-bit PCM) as an Opus packet."""
        out = ctypes.create_string_buffer(MAX_PACKET_BYTES)
        size = self._lib.opus_encode(self._state, pcm, len(pcm) // 2, out, MAX_PACKET_BYTES)
        return out.raw[: _check(self._lib, size)]

    def __del__(self) -> None:
        if getattr(self, "_state", None):
            self._lib.opus_encoder_destroy(self._state)


class OpusDecoder:
    """One talker's Opus frames back into mono 48 kHz PCM (a decoder keeps its state)."""

    def __init__(self) -> None:
        self._lib = lib = _library()
        error = ctypes.c_int(0)
        self._state = lib.opus_decoder_create(SAMPLE_RATE, 1, error)
        _check(lib, error.value)

    def decode(self, packet: bytes) -> bytes:
        out = ctypes.create_string_buffer(MAX_FRAME_SAMPLES * 2)
        samples = self._lib.opus_decode(
            self._state, packet, len(packet), out, MAX_FRAME_SAMPLES, 0
        )
        return out.raw[: _check(self._lib, samples) * 2]

    def __del__(self) -> None:
        if getattr(self, "_state", None):
            self._lib.opus_decoder_destroy(self._state)


def mumble_client(library: str | None = None) -> ModuleType:
    """`broadcast.radio.mumble`, once libopus has loaded; `EngineMissingError` if not."""
    load_opus(library)
    return importlib.import_module("broadcast.radio.mumble")
