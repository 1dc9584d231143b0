"""Once retention has purged a report, nothing of it is left in the database's files.

Alice names a suspect in an alert; Carol searches the log for the name and
opens the report. Past Norwich's retention period the nightly purge runs. The
suspect's name must then be gone from the audit trail (what Carol searched for),
from the SQLite file and its WAL (deleted rows' bytes, the word index), and so
from a backup made afterwards.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from storage.backup import backup
from storage.models import utcnow
from storage.retention import compact_log, purge_expired
from tests.test_alerts import NORWICH, alice, copies
from tests.town import Town

NAME = "Zebedee Quigglesworth"


def files_holding(name: str, *paths: Path) -> list[str]:
    """The files whose bytes hold any spelling of the name (the word index lower-cases it)."""
    needles = {part.lower().encode() for part in name.split()}
    return [
        path.name
        for path in paths
        if path.exists() and any(needle in path.read_bytes().lower() for needle in needles)
    ]


async def test_a_purged_report_leaves_no_trace_in_the_audit_trail_the_file_or_a_backup(
    polling_town: Town, tmp_path: Path
) -> None:
    town = polling_town
    store = town.runtime.store
    shopkeeper = await alice(town)
    await shopkeeper.send(town.bot, f"/alert {NAME} again, took razor blades, left to Haymarket")
    await shopkeeper.next_reply(town.bot)
    await copies(town, NORWICH)
    await town.coordinator.send(town.bot, "/search quigglesworth")
    found = await town.coordinator.next_reply(town.bot)
    assert "Zebedee" in found.body
    report_id = (await store.reports.recent(found_scheme_id := (await norwich_id(town))))[0].id
    await town.coordinator.send(town.bot, f"/show {report_id}")
    await town.coordinator.next_reply(town.bot)
    database = tmp_path / "shopwatch.db"
    wal = database.with_name("shopwatch.db-wal")
    assert files_holding(NAME, database, wal), "the name was in the log"

    scheme = await store.schemes.get_by_slug("norwich")
    later = utcnow() + timedelta(days=scheme.retention_days + 1)
    counts = await purge_expired(store, town.runtime.services.photos, scheme, later)

    assert counts.reports == 1
    trail = await store.audit.recent(200, scheme_id=found_scheme_id)
    assert [e.detail for e in trail if "query" in e.detail] == []
    assert not any("quigglesworth" in str(e.detail).lower() for e in trail)
    assert files_holding(NAME, database, wal) == []
    copy = tmp_path / "backup.db"
    backup(town.runtime.settings.database_url, copy)
    assert files_holding(NAME, copy) == []

    await compact_log(store, vacuum=True)  # the weekly vacuum
    assert files_holding(NAME, database, wal) == []


async def norwich_id(town: Town) -> int:
    scheme = await town.runtime.store.schemes.get_by_slug("norwich")
    assert scheme.id is not None
    return scheme.id
