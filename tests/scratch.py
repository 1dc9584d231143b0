"""Throwaway PostgreSQL databases for the tests and the benchmarks, dropped when done.

Each run gets a database of its own beside the server's, so parallel runs never
meet and nothing is left behind. Not part of the product: the benchmarks import it
from here.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool


@asynccontextmanager
async def scratch_postgres_database(
    server_url: str, prefix: str = "shopwatch_scratch"
) -> AsyncIterator[str]:
    """Create an empty database beside `server_url`'s and yield its URL; drop it after."""
    name = f"{prefix}_{uuid.uuid4().hex[:16]}"
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
