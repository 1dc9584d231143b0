"""Fixtures: a scheme, its members and the sandbox in a line."""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

# PTB 22 warns on every RetryAfter it builds unless told to use timedelta (its v23
# behaviour); with warnings as errors that warning would replace the real error.
os.environ.setdefault("PTB_TIMEDELTA", "true")

from tests.sandbox_fixtures import client_fixture, sandbox_fixture, shop_bot_fixture
from tests.storage_fixtures import (
    database_url_fixture,
    schemes_file_fixture,
    store_fixture,
    synced_store_fixture,
)
from tests.town import Town, running_town
from tests.wheels import built_wheels

__all__ = [
    "built_wheels",
    "client_fixture",
    "database_url_fixture",
    "sandbox_fixture",
    "schemes_file_fixture",
    "shop_bot_fixture",
    "store_fixture",
    "synced_store_fixture",
]


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """`shopwatch` commands set up logging for a process; a test must not keep that set-up."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    for handler in handlers:
        if handler not in root.handlers:
            root.addHandler(handler)
    root.setLevel(level)


@pytest.fixture(params=["polling", "webhook"])
async def town(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Town]:
    """Norwich, its bot running against the sandbox, by polling and by webhook."""
    async with running_town(tmp_path, webhook=request.param == "webhook") as running:
        yield running


@pytest.fixture
async def polling_town(tmp_path: Path) -> AsyncIterator[Town]:
    async with running_town(tmp_path) as running:
        yield running
