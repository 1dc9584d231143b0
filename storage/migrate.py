"""Bring a database to the schema this code expects: `shopwatch migrate` and start-up.

There is no alembic.ini: the configuration is built here, pointing at the
migrations inside the installed package, so a `pip install`ed bot can migrate
from any working directory. Migrations run on a connection opened by our own
async engine (alembic's env.py only borrows it), so they work from inside the
bot's running event loop.

For developers, after changing storage/models.py:

    python -m storage.migrate revision "what changed"

writes the next numbered migration by comparing the models with a scratch
database at head; review it by hand before committing.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, func, select
from sqlalchemy.exc import SQLAlchemyError

from config.errors import StorageError
from storage.engine import create_engine

logger = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).with_name("migrations")
# Serialises start-up migrations when several bot processes share one PostgreSQL.
_PG_MIGRATION_LOCK = 0x53686F70  # "Shop"
_SCRATCH_URL = "sqlite+aiosqlite:///:memory:"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    return config


# Tables that migrations make by hand and no model declares: the search index
# (FTS5 and its shadow tables on SQLite, tsvector and triggers on PostgreSQL).
UNMODELLED_TABLE_PREFIX = "search_"


def include_name(name: str | None, type_: str, _parent_names: Mapping[Any, str | None]) -> bool:
    """Keep autogenerate and the model check from proposing to drop the search index."""
    return not (type_ == "table" and (name or "").startswith(UNMODELLED_TABLE_PREFIX))


def head_revision() -> str:
    """The revision this code expects, for health checks and `shopwatch migrate`."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise StorageError(f"no migrations found in {MIGRATIONS_DIR}")
    return head


def _run(connection: Connection, action: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    action(config, *args, **kwargs)


def revision_of(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` to `revision`, all or nothing."""
    engine = create_engine(url, migrating=True)
    try:
        async with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                await connection.execute(select(func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK)))
            before = await connection.run_sync(revision_of)
            await connection.run_sync(_run, command.upgrade, revision)
            after = await connection.run_sync(revision_of)
            if connection.dialect.name == "sqlite":
                # Foreign keys were off while tables were rebuilt; check nothing broke.
                broken = (await connection.exec_driver_sql("PRAGMA foreign_key_check")).all()
                if broken:
                    raise StorageError(
                        f"migration to {after} would leave {len(broken)} rows pointing at "
                        "missing records; nothing was changed"
                    )
    except (SQLAlchemyError, CommandError, OSError) as exc:
        raise StorageError(f"could not migrate the database: {exc}") from exc
    finally:
        await engine.dispose()
    if before != after:
        logger.info("database migrated from %s to %s", before or "empty", after)


async def current_revision(url: str) -> str | None:
    """The revision the database is at; None when it has never been migrated."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(revision_of)
    except (SQLAlchemyError, OSError) as exc:
        raise StorageError(f"could not read the database revision: {exc}") from exc
    finally:
        await engine.dispose()


async def make_revision(message: str) -> None:
    """Autogenerate the next numbered migration against a scratch database at head."""
    script = ScriptDirectory.from_config(alembic_config())
    rev_id = f"{len(list(script.walk_revisions())) + 1:04d}"
    engine = create_engine(_SCRATCH_URL, migrating=True)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run, command.upgrade, "head")
            await connection.run_sync(
                _run, command.revision, message=message, autogenerate=True, rev_id=rev_id
            )
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m storage.migrate")
    commands = parser.add_subparsers(dest="command", required=True)
    revision = commands.add_parser("revision", help="autogenerate the next migration")
    revision.add_argument("message")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    asyncio.run(make_revision(args.message))


if __name__ == "__main__":
    main()
