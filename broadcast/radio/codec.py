"""Opus, the radio's codec, loaded for real before the Mumble client is imported.

pymumble decodes and encodes Mumble's audio through opuslib, which loads libopus
(Debian's `libopus0`) the moment it is imported and, when the library is missing,
raises a bare `Exception`. So the radio loads the library itself first: the one
`SHOPWATCH_OPUS_LIBRARY` names (a path, or a name for the dynamic loader), or else
the one the system's loader finds for `opus`, as opuslib looks it up. The library
is loaded into the process's global namespace, so when opuslib then opens
`libopus.so.0` by name it gets this same copy. Any failure is a `CodecMissingError`,
which the bridge reports once (log line, coordinators) before leaving that scheme's
radio off and `shopwatch doctor` reports as FAIL, each with the fix.
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


def load_opus(library: str | None = None) -> str:
    """Load libopus (the named one, else the system's) and return its version string."""
    name = library or ctypes.util.find_library("opus")
    if name is None:
        raise CodecMissingError("the system's dynamic loader finds no libopus")
    try:
        loaded = ctypes.CDLL(name, mode=ctypes.RTLD_GLOBAL)
        version = loaded.opus_get_version_string
    except (OSError, AttributeError) as exc:
        said = str(exc)  # the loader's words name the file; an AttributeError's do not
        raise CodecMissingError(said if name in said else f"{name}: {said}") from None
    version.restype = ctypes.c_char_p
    return bytes(version()).decode(errors="replace")


def mumble_client(library: str | None = None) -> ModuleType:
    """`broadcast.radio.mumble`, once libopus has loaded; `EngineMissingError` if not."""
    load_opus(library)
    return importlib.import_module("broadcast.radio.mumble")
