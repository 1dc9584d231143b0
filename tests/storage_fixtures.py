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

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from config.schemes import SchemesFile, load_schemes
from storage.models import Scheme
from storage.store import Store

POSTGRES_URL_ENV = "SHOPWATCH_TEST_POSTGRES_URL"
EXAMPLE_SCHEMES = Path(__file__).resolve().parent.parent / "schemes.example.toml"
BACKENDS = ("sqlite", "postgresql")


@asynccontextmanager
async def fresh_postgres_database(server_url: str) -> AsyncIterator[str]:
    """Create an empty database beside `server_url`'s and yield its URL; drop it after."""
    name = f"shopwatch_test_{uuid.uuid4().hex[:16]}"
    admin = create_async_engine(server_url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with admin.connect() as connection:
            await connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        try:
            yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
        finally:
            async with admin.connect() as connection:
                await connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.dispose()


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
    async with fresh_postgres_database(server_url) as url:
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
