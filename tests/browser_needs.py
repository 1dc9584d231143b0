"""What the browser tests need from the machine, and one reason when it is not there.

The Mini App is tested in a real Chromium, headless, driven by Selenium through
Debian's `chromium` and `chromium-driver` (the driver built from the same source as
the browser, so their versions always agree; nothing is downloaded at test time).
Where either is missing the browser tests skip, naming the packages to install;
`.ci/run` installs them and sets `SHOPWATCH_TEST_REQUIRE_BROWSER=1`, under which
such a skip is a failure, so CI proves the Mini App in a browser on every run.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from typing import NoReturn

import pytest

REQUIRE_BROWSER = "SHOPWATCH_TEST_REQUIRE_BROWSER"
DEBIAN_PACKAGES = "chromium chromium-driver"
INSTALL = f"apt-get install {DEBIAN_PACKAGES}"


def required() -> bool:
    return os.environ.get(REQUIRE_BROWSER, "") not in ("", "0")


def missing(problem: str) -> NoReturn:
    """Skip the test (fail it where CI requires the browser), naming what to install."""
    reason = f"{problem}: the browser tests need Debian's {DEBIAN_PACKAGES} ({INSTALL})"
    if required():
        pytest.fail(f"{reason}; {REQUIRE_BROWSER} is set, so this may not skip", pytrace=False)
    pytest.skip(reason)


def chromium_paths() -> tuple[str, str]:
    """The Chromium binary and its WebDriver, as Debian installs them."""
    if importlib.util.find_spec("selenium") is None:
        missing("Selenium is not installed (pip install -e '.[test]')")
    browser = shutil.which("chromium") or shutil.which("chromium", path="/usr/bin")
    if browser is None:
        missing("chromium is not installed")
    driver = shutil.which("chromedriver") or shutil.which("chromedriver", path="/usr/bin")
    if driver is None:
        missing("chromedriver is not installed")
    return browser, driver
