"""The id of a stored row, as an `int` that mypy can trust.

SQLModel table classes declare `id: int | None = Field(default=None, primary_key=True)`
because a row built in Python has no id until the database gives it one on flush; the
same class describes the row before and after, so the type cannot say which it is.
Code that reads a row back from the store knows it has an id, and says so here.

Why a function, and not another shape:
- `id: int = Field(default=None, ...)` would lie: `Report(...)` would type-check as having
  an id before it is flushed, and mypy could no longer catch the one case that is wrong.
- Typed "Stored" wrappers or subclasses fight SQLModel's metaclass and session identity
  map (a loaded row is the table class itself), and every caller would unwrap them.
- Repository methods returning `(row, id)` pairs would spread through every signature
  for a fact the row already carries.
- `assert row.id is not None` narrows the type but `python -O` strips it, so a row used
  before its flush would carry `None` on into a query or a button instead of failing.

`stored_id(row)` narrows once, where the id is read, and fails loudly if it is wrong.
"""

from __future__ import annotations

from typing import Protocol


class HasId(Protocol):
    """Any table row with a database-assigned integer key."""

    @property
    def id(self) -> int | None: ...


class UnstoredRowError(RuntimeError):
    """A row's id was read before the database gave it one: a bug, not a user's error.

    It is deliberately not a `config.errors.ShopWatchError`, so no handler turns it into
    a polite sentence; it reaches the global error handler like any other bug.
    """


def stored_id(row: HasId) -> int:
    """The id of `row`, which must already be flushed to (or read from) the database."""
    row_id = row.id
    if row_id is None:
        raise UnstoredRowError(
            f"{type(row).__name__} has no id yet: it is read before it was flushed"
        )
    return row_id
