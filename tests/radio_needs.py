"""What the radio tests need from the machine, and one reason when it is not there.

Debian's `mumble-server` (murmurd), `libopus0` (Mumble's codec) and `espeak-ng` are
not Python packages, so a fresh machine may lack them: the tests that need one skip,
with a reason naming the packages to install, and every other test runs. `.ci/run`
installs them and sets `SHOPWATCH_TEST_REQUIRE_RADIO=1`, under which such a skip is
a failure instead, so CI proves the radio against a real murmurd on every run.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from typing import NoReturn

import pytest

from broadcast.radio.codec import CodecMissingError, load_opus

REQUIRE_RADIO = "SHOPWATCH_TEST_REQUIRE_RADIO"
DEBIAN_PACKAGES = "mumble-server libopus0 espeak-ng"
INSTALL = f"apt-get install {DEBIAN_PACKAGES}"


def required() -> bool:
    return os.environ.get(REQUIRE_RADIO, "") not in ("", "0")


def missing(problem: str) -> NoReturn:
    """Skip the test (fail it where CI requires the radio), naming what to install."""
    reason = f"{problem}: the radio tests need Debian's {DEBIAN_PACKAGES} ({INSTALL})"
    if required():
        pytest.fail(f"{reason}; {REQUIRE_RADIO} is set, so this may not skip", pytrace=False)
    pytest.skip(reason)


def murmurd_binary() -> str:
    binary = shutil.which("murmurd") or shutil.which("murmurd", path="/usr/sbin:/usr/bin")
    if binary is None:
        missing("murmurd is not installed")
    return binary


def need_mumble_client() -> None:
    """The radio extra's Mumble client with libopus loadable, as the bridge loads them."""
    if importlib.util.find_spec("google.protobuf") is None:
        missing("the radio extra is not installed (pip install -e '.[radio]')")
    try:
        load_opus()
    except CodecMissingError:
        missing("libopus cannot be loaded")


def need_espeak() -> None:
    if shutil.which("espeak-ng") is None:
        missing("espeak-ng is not installed")
