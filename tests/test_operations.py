"""Operations a scheme's volunteer runs: doctor on a new machine, backup and restore."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from pathlib import Path

import pytest

from bot.cli import main
from config.schemes import load_schemes
from sandbox import BotApiSandbox, SandboxLimits
from tests.town import BOT_TOKEN, EXAMPLE_SCHEMES, Town


def _clean_env(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPWATCH_")}
    return env | values


async def _doctor(cwd: Path, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot.cli",
        "doctor",
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    output, _ = await process.communicate()
    assert process.returncode is not None
    return process.returncode, output.decode()


async def test_doctor_on_a_fresh_checkout_says_what_is_missing_and_how_to_fix_it(
    tmp_path: Path,
) -> None:
    code, report = await _doctor(tmp_path, _clean_env())

    assert code == 1, report
    assert "FAIL  schemes file" in report
    assert "copy schemes.example.toml to schemes.toml" in report
    assert "FAIL  telegram" in report
    assert "@BotFather" in report
    assert "FAIL  migrations" in report, "an empty log is reported, not silently migrated"
    assert "run `shopwatch migrate`" in report


async def test_doctor_is_all_ok_for_a_working_deployment(tmp_path: Path) -> None:
    async with BotApiSandbox(limits=SandboxLimits.off()) as sandbox:
        bot = sandbox.add_bot(BOT_TOKEN, "shopwatch_bot")
        chats = {}
        for scheme in load_schemes(EXAMPLE_SCHEMES).schemes:
            for chat in (scheme.group_chat_id, scheme.control_room_chat_id):
                chats[chat] = sandbox.group(chat, f"{scheme.name} {chat}", bots=[bot])
        env = _clean_env(
            SHOPWATCH_BOT_TOKEN=BOT_TOKEN,
            SHOPWATCH_TELEGRAM_API_URL=sandbox.base_url,
            SHOPWATCH_SCHEMES_FILE=str(EXAMPLE_SCHEMES),
            SHOPWATCH_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
            SHOPWATCH_DATA_DIR=str(tmp_path / "data"),
        )
        assert main_migrate(env) == 0

        code, report = await _doctor(tmp_path, env)
        owner = sandbox.user(700099, "Olive")
        chats[-1001000000012].set_bot_rights(bot, by=owner, can_delete_messages=False)
        lacking, told = await _doctor(tmp_path, env)

    assert code == 0, report
    assert "FAIL" not in report
    assert "authorised as @shopwatch_bot" in report
    assert "rights norwich group" in report
    assert BOT_TOKEN not in report
    assert lacking == 1
    failed = [line.split() for line in told.splitlines() if line.startswith("FAIL")]
    assert [" ".join(words) for words in failed] == [
        "FAIL rights wymondham control room chat -1001000000012: the bot may not delete messages"
    ], told


def main_migrate(env: dict[str, str]) -> int:
    import subprocess

    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "migrate"], env=env, capture_output=True, check=False
    ).returncode


async def test_a_backup_taken_while_the_bot_runs_restores_the_log(
    polling_town: Town, tmp_path: Path
) -> None:
    town = polling_town
    url = town.runtime.settings.database_url
    await town.coordinator.send(town.bot, "/start")
    await town.coordinator.next_reply(town.bot)
    copy = tmp_path / "backup" / "shopwatch.sqlite"

    from storage.backup import backup, restore

    size = await asyncio.to_thread(backup, url, copy)

    assert size > 0
    assert copy.stat().st_mode & 0o777 == 0o600
    with sqlite3.connect(copy) as db:
        assert db.execute("SELECT count(*) FROM scheme").fetchone() == (4,)

    target = tmp_path / "restored.sqlite"
    await asyncio.to_thread(restore, f"sqlite+aiosqlite:///{target}", copy)
    with sqlite3.connect(target) as db:
        assert db.execute("SELECT slug FROM scheme ORDER BY id").fetchall()[0] == ("norwich",)


def test_restore_needs_a_confirmation_and_a_real_backup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SHOPWATCH_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
    fake = tmp_path / "not-a-backup.sqlite"
    fake.write_bytes(b"this is not sqlite" * 100)

    assert main(["restore", str(fake)]) == 2
    assert "--yes" in capsys.readouterr().err
    assert main(["restore", str(fake), "--yes"]) == 2
    assert "not a" in capsys.readouterr().err
    assert not (tmp_path / "db.sqlite").exists()


def test_backup_of_postgresql_points_to_pg_dump(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("SHOPWATCH_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1/test")

    assert main(["backup", "--out", str(tmp_path / "x")]) == 2
    assert "pg_dump" in capsys.readouterr().err
