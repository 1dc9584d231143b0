"""Waiting at the test side: wake on every sandbox change, and poll for outside changes."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TypeVar

from sandbox.errors import SandboxTimeoutError
from sandbox.state import SandboxState

T = TypeVar("T")

POLL_INTERVAL_SECONDS = 0.05


async def wait_until(
    state: SandboxState,
    probe: Callable[[], T | Awaitable[T | None] | None],
    within: float,
    describe: Callable[[], str],
) -> T:
    """Return ``probe()``'s first truthy value; raise with ``describe()`` when time is up.

    The probe is re-run on every sandbox change and at least every 50 ms, because it may
    look at things the sandbox does not see (a database the bot writes, say).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        result = probe()
        value = await result if inspect.isawaitable(result) else result
        if value:
            return value
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise SandboxTimeoutError(f"timed out after {within}s: {describe()}")
        await state.changed.wait(min(remaining, POLL_INTERVAL_SECONDS))
