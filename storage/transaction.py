"""The unit of work every repository uses: all of it is stored, or none of it.

Database failures leave here as `StorageError` (or `DuplicateError` for a key
that is already taken), so handlers can tell a person "not stored, try again"
without knowing which backend said no.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel.ext.asyncio.session import AsyncSession

from config.errors import DuplicateError, StorageError

logger = logging.getLogger(__name__)


def is_unique_violation(exc: IntegrityError) -> bool:
    """Tell "already there" apart from other integrity failures, on either backend."""
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)  # asyncpg, via SQLAlchemy's adapter
    if sqlstate is not None:
        return str(sqlstate) == "23505"
    errorname = getattr(orig, "sqlite_errorname", None)
    return errorname in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")


@asynccontextmanager
async def transaction(
    sessions: async_sessionmaker[AsyncSession], what: str
) -> AsyncIterator[AsyncSession]:
    """A session inside one transaction; `what` completes "could not ..." in errors."""
    try:
        async with sessions() as session, session.begin():
            yield session
    except IntegrityError as exc:
        if is_unique_violation(exc):
            raise DuplicateError(f"could not {what}: it is already in the log") from exc
        logger.warning("could not %s: %s", what, exc.orig)
        raise StorageError(f"could not {what}: it refers to a record that does not exist") from exc
    except PoolTimeoutError as exc:  # every connection busy for the pool's whole wait
        logger.warning("could not %s: %s", what, exc)
        raise StorageError(f"could not {what}: the database is busy") from exc
    except (DBAPIError, OSError) as exc:
        logger.warning("could not %s: %s", what, exc)
        raise StorageError(
            f"could not {what}: the database failed ({type(exc).__name__})"
        ) from exc
