"""Backups of the log: SQLite's online backup API, a consistent copy while the bot runs.

PostgreSQL deployments use the server's own tools (`pg_dump` / `pg_restore`), which
handle large databases and point-in-time recovery better than anything we could
write; `shopwatch backup` says so instead of pretending.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from config.errors import StorageError
from storage.engine import is_sqlite, parse_url, sqlite_file

PG_DUMP_HINT = (
    "this is a PostgreSQL database: back it up with `pg_dump --format=custom "
    "--file=shopwatch.dump DATABASE` and restore with `pg_restore --clean "
    "--dbname=DATABASE shopwatch.dump`"
)


def _sqlite_path(url: str) -> Path:
    parsed = parse_url(url)
    if not is_sqlite(parsed):
        raise StorageError(PG_DUMP_HINT)
    path = sqlite_file(parsed)
    if path is None:
        raise StorageError("an in-memory database cannot be backed up")
    return path


def backup(url: str, out: Path) -> int:
    """Copy the live database to `out` page by page; returns the size in bytes."""
    source_path = _sqlite_path(url)
    if not source_path.exists():
        raise StorageError(f"no database at {source_path}")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".part")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True)
    try:
        target = sqlite3.connect(partial)
        try:
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
    finally:
        source.close()
    partial.chmod(0o600)
    partial.replace(out)
    return out.stat().st_size


def restore(url: str, backup_file: Path) -> None:
    """Replace the database with a backup; run only while the bot is stopped."""
    target_path = _sqlite_path(url)
    if not backup_file.exists():
        raise StorageError(f"no backup at {backup_file}")
    source = sqlite3.connect(f"file:{backup_file}?mode=ro", uri=True)
    try:
        check = source.execute("PRAGMA integrity_check").fetchone()
        if not check or check[0] != "ok":
            raise StorageError(f"{backup_file} is not a healthy SQLite database")
        target_path.parent.mkdir(parents=True, exist_ok=True)
        target = sqlite3.connect(target_path)
        try:
            source.backup(target)
        finally:
            target.close()
    except sqlite3.DatabaseError as exc:
        raise StorageError(f"{backup_file} is not a SQLite database: {exc}") from None
    finally:
        source.close()
