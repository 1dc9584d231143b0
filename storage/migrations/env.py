"""Alembic's entry point, run by `storage.migrate` on a connection it already holds.

The bot is async and migrates from inside its running event loop, so this file
never starts a loop or an engine of its own: `storage.migrate` opens the async
connection and hands its sync face over in `config.attributes["connection"]`.
"""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlmodel import SQLModel
from sqlmodel.sql.sqltypes import AutoString, UTCDateTime

import storage.models
import storage.subject_models  # noqa: F401
from storage.migrate import include_name


def render_item(kind: str, obj: Any, _context: AutogenContext) -> str | Literal[False]:
    """Write column types as plain SQLAlchemy types, so no migration imports our code.

    A migration must keep working after the models move on; the database sees the
    same DDL either way.
    """
    if kind != "type":
        return False
    if isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    if isinstance(obj, sa.Enum):
        return f"sa.String(length={obj.length})"
    if isinstance(obj, AutoString):
        length = obj.length  # TypeDecorator passes attributes through to its String
        return f"sa.String(length={length})" if length else "sa.String()"
    return False


def run_migrations() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations with `shopwatch migrate` (storage.migrate.upgrade)")
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=render_item,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
