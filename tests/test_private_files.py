"""The log's files are the owner's alone, and an export never writes where it was steered.

With the usual umask (022) every file a program makes is readable by the other
users of the machine. Alice's photo alert is stored; the database, its WAL, the
photo store and its picture are then checked for group and other permissions.
A planted symlink in the folder `shopwatch export --out` names is not followed,
and a folder that was there before keeps its mode.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from bot.cli import main
from config.schemes import load_schemes
from storage.export.period import ExportPeriod
from storage.photos import PhotoStore
from storage.store import Store
from tests.export_seed import seed_week
from tests.test_alerts import NORWICH, THEFT, alice, copies, phone_photo
from tests.town import EXAMPLE_SCHEMES, Town, running_town

WEEK = ExportPeriod(date(2026, 11, 2), date(2026, 11, 8), "Europe/London")


@pytest.fixture
def usual_umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def everything_under(root: Path) -> list[Path]:
    return [Path(folder) / name for folder, dirs, files in os.walk(root) for name in dirs + files]


async def test_the_database_and_the_photos_are_readable_by_their_owner_only(
    usual_umask: None, polling_town: Town, tmp_path: Path
) -> None:
    town = polling_town
    shopkeeper = await alice(town)

    await shopkeeper.send_photo(town.bot, phone_photo(), caption=THEFT)
    await shopkeeper.next_reply(town.bot)
    await copies(town, NORWICH)

    settings = town.runtime.settings
    database = tmp_path / "shopwatch.db"
    stored = [p for p in everything_under(settings.photos_dir) if p.suffix == ".jpg"]
    assert stored, "the photo was stored"
    private = [database, database.with_name("shopwatch.db-wal"), settings.data_dir]
    private += everything_under(settings.data_dir)
    readable = {str(p): oct(mode(p)) for p in private if p.exists() and mode(p) & 0o077}
    assert readable == {}


async def test_files_left_readable_by_an_older_version_are_made_private_at_start_up(
    usual_umask: None, tmp_path: Path
) -> None:
    old_photo = tmp_path / "data" / "photos" / "ab" / "ab12.jpg"
    old_photo.parent.mkdir(parents=True)
    old_photo.write_bytes(b"an old picture")
    database = tmp_path / "shopwatch.db"
    database.touch(mode=0o644)
    assert mode(old_photo) == 0o644

    async with running_town(tmp_path):
        pass

    assert mode(old_photo) == 0o600
    assert mode(old_photo.parent) == 0o700
    assert mode(database) == 0o600


def seeded_log(tmp_path: Path) -> str:
    """A week of Norwich's log in a SQLite file, for `shopwatch export` to read."""
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'shopwatch.db'}"

    async def seed() -> None:
        store = await Store.open(database_url)
        try:
            await store.schemes.sync(load_schemes(EXAMPLE_SCHEMES))
            scheme = await store.schemes.get_by_slug("norwich")
            photos = PhotoStore(tmp_path / "data" / "photos")
            await seed_week(store, photos, scheme, WEEK, reports=3, photo_count=1)
        finally:
            await store.close()

    asyncio.run(seed())
    return database_url


def test_export_out_never_follows_a_planted_symlink_nor_changes_a_folder_it_did_not_make(
    usual_umask: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = logging.getLogger()
    # `shopwatch` sets up logging for itself; give it a copy to replace, not pytest's own.
    monkeypatch.setattr(root, "handlers", list(root.handlers))
    monkeypatch.setattr(root, "level", root.level)
    monkeypatch.setenv("SHOPWATCH_DATABASE_URL", seeded_log(tmp_path))
    monkeypatch.setenv("SHOPWATCH_SCHEMES_FILE", str(EXAMPLE_SCHEMES))
    monkeypatch.setenv("SHOPWATCH_DATA_DIR", str(tmp_path / "data"))
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    base = "shopwatch-norwich-2026-11-02-to-2026-11-08"
    for suffix in (".csv", ".json", "-manifest.json"):
        (shared / f"{base}{suffix}").symlink_to(victim)

    command = ["export", "--scheme", "norwich", "--from", "2026-11-02", "--to", "2026-11-08"]
    assert main([*command, "--out", str(shared)]) == 0

    assert victim.read_text() == "precious", "the planted links were not followed"
    assert mode(shared) == 0o755, "a folder the export did not make keeps its mode"
    [made] = [p for p in shared.iterdir() if p.is_dir()]
    assert made.name.startswith(base)
    assert mode(made) == 0o700
    files = sorted(p.name for p in made.iterdir() if p.is_file())
    assert len(files) == 5
    assert all(mode(made / name) == 0o600 for name in files)
    assert str(made) in capsys.readouterr().out

    fresh = tmp_path / "new-folder"
    assert main([*command, "--out", str(fresh)]) == 0
    assert mode(fresh) == 0o700
    assert len(list(fresh.iterdir())) == 5
