"""Fixtures for tests that need the log, on SQLite always and on PostgreSQL when asked.

Import them in conftest.py (each is registered under the name without `_fixture`):

    from tests.storage_fixtures import (
        database_url_fixture,
        schemes_file_fixture,
        store_fixture,
        synced_store_fixture,
    )

PostgreSQL runs when SHOPWATCH_TEST_POSTGRES_URL names a server database whose user
may create databases (e.g. postgresql+asyncpg://postgres@127.0.0.1:5432/test); each
test gets a database of its own, dropped afterwards, so runs in parallel never meet.
"""

from __future__ import annotations

import logging
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from config.schemes import SchemesFile, load_schemes
from storage.models import Scheme
from storage.store import Store
from tests.scratch import scratch_postgres_database

POSTGRES_URL_ENV = "SHOPWATCH_TEST_POSTGRES_URL"
EXAMPLE_SCHEMES = Path(__file__).resolve().parent.parent / "schemes.example.toml"
BACKENDS = ("sqlite", "postgresql")


@pytest.fixture(name="database_url", params=BACKENDS)
async def database_url_fixture(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[str]:
    """The URL of an empty database, once per backend."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'shopwatch.db'}"
        return
    server_url = os.environ.get(POSTGRES_URL_ENV)
    if not server_url:
        pytest.skip(f"PostgreSQL not tested: set {POSTGRES_URL_ENV} to a server database URL")
    async with scratch_postgres_database(server_url, "shopwatch_test") as url:
        yield url


@pytest.fixture(name="schemes_file")
def schemes_file_fixture() -> SchemesFile:
    """The shipped example: four Norfolk schemes, one coordinator each."""
    return load_schemes(EXAMPLE_SCHEMES)


@pytest.fixture(name="store")
async def store_fixture(database_url: str) -> AsyncIterator[Store]:
    """An empty, migrated log."""
    opened = await Store.open(database_url)
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture(name="synced_store")
async def synced_store_fixture(store: Store, schemes_file: SchemesFile) -> Store:
    """A log that knows the example schemes and their coordinators."""
    schemes: list[Scheme] = await store.schemes.sync(schemes_file)
    assert schemes
    return store


def command_line_deployment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Settings for a `shopwatch` command run in-process on a SQLite file; its URL.

    `shopwatch` sets up logging for itself: it is given a copy of the root logger's
    handlers to replace, not pytest's own.
    """
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'shopwatch.db'}"
    for name, value in {
        "SHOPWATCH_DATABASE_URL": database_url,
        "SHOPWATCH_SCHEMES_FILE": str(EXAMPLE_SCHEMES),
        "SHOPWATCH_DATA_DIR": str(tmp_path / "data"),
    }.items():
        monkeypatch.setenv(name, value)
    return database_url
