"""A phone-sized headless Chromium for the tests, driven by Selenium from asyncio.

Selenium's calls block until the browser answers, and the bot under test answers the
browser on this same event loop: each call therefore runs in a worker thread
(`asyncio.to_thread`), one at a time, so the bot keeps serving while the browser waits.
The window is a phone's (390 x 844 CSS pixels at 2x, by Chromium's mobile emulation).
"""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

T = TypeVar("T")

PHONE = {"width": 390, "height": 844, "pixelRatio": 2.0}
WAIT_SECONDS = 15.0


@contextmanager
def chromium(browser: str, driver: str) -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    profile = tempfile.TemporaryDirectory(prefix="shopwatch-chromium-")
    for argument in (
        "--headless=new",
        "--no-sandbox",  # CI runs as root, where Chromium's sandbox will not start
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--no-first-run",
        "--disable-extensions",
        "--disable-background-networking",
        f"--user-data-dir={profile.name}",
    ):
        options.add_argument(argument)
    options.add_experimental_option("mobileEmulation", {"deviceMetrics": PHONE})
    session = webdriver.Chrome(service=Service(driver), options=options)
    try:
        yield session
    finally:
        session.quit()
        profile.cleanup()


class Browser:
    """What a test does with the page, each step awaited."""

    def __init__(self, driver: webdriver.Chrome) -> None:
        self._driver = driver

    async def _call(self, step: Callable[[], T]) -> T:
        return await asyncio.to_thread(step)

    async def open(self, url: str) -> None:
        await self._call(lambda: self._driver.get(url))

    async def script(self, source: str, *args: Any) -> Any:
        return await self._call(lambda: self._driver.execute_script(source, *args))

    async def shown(self, css: str, *, text: str | None = None) -> WebElement:
        """The first element matching `css` once it is displayed (holding `text`, if given)."""

        def find(driver: webdriver.Chrome) -> WebElement | None:
            for element in driver.find_elements(By.CSS_SELECTOR, css):
                if element.is_displayed() and (text is None or text in element.text):
                    return element
            return None

        def wait() -> WebElement:
            try:
                found = WebDriverWait(self._driver, WAIT_SECONDS, 0.05).until(find)
            except TimeoutException:
                body = self._driver.find_element(By.TAG_NAME, "body").text
                raise AssertionError(
                    f"no {css!r}{f' with {text!r}' if text else ''} shown; the page says {body!r}"
                ) from None
            assert found is not None
            return found

        return await self._call(wait)

    async def all_text(self, css: str) -> list[str]:
        return await self._call(
            lambda: [e.text for e in self._driver.find_elements(By.CSS_SELECTOR, css)]
        )

    async def click(self, element: WebElement) -> None:
        await self._call(element.click)

    async def loaded(self, image: WebElement) -> int:
        """The picture's natural width once the browser has it (0 if it failed)."""

        def wait() -> int:
            WebDriverWait(self._driver, WAIT_SECONDS, 0.05).until(
                lambda d: d.execute_script("return arguments[0].complete", image)
            )
            width: int = self._driver.execute_script("return arguments[0].naturalWidth", image)
            return width

        return await self._call(wait)

    async def screenshot(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        await self._call(lambda: self._driver.save_screenshot(str(path)))
        return path
