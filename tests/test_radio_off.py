"""A scheme turns its radio on, but a part it needs is missing: radio off, chat as before.

`shopwatch run` runs as its own process, as a deployment runs it, against the
sandbox. The part is made missing for that process the way a deployment could get
it wrong: `SHOPWATCH_OPUS_LIBRARY` names a libopus file that is not there, or the
scheme speaks with espeak-ng and the process's PATH has no espeak-ng on it. So the
story is the same on a machine without Debian's packages and on CI, which has them.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bench.load import TOKEN, BotProcess, bot_environment, start_process
from config.schemes import load_schemes
from sandbox import BotApiSandbox, MessageView, SandboxLimits
from tests.town import EXAMPLE_SCHEMES, closed_port

ROOT = Path(__file__).resolve().parent.parent
TOLD = "Norwich ShopWatch: the radio link is off: "
ALERT = "/alert Male 30s, grey hoodie, took razor blades. Heading to Haymarket"


def schemes_with_radio(directory: Path, port: int, tts: str = "piper") -> Path:
    """The example schemes file with Norwich's radio turned on, as its owner turns it on."""
    text = EXAMPLE_SCHEMES.read_text(encoding="utf-8")
    for line, turned in (
        ("  enabled = false ", "  enabled = true  # "),
        ('  server = "radio.norwich-shopwatch.example"', '  server = "127.0.0.1"'),
        ("  port = 64738", f'  port = {port}\n  tts = "{tts}"'),
    ):
        assert text.count(line) == 1, line
        text = text.replace(line, turned)
    path = directory / "schemes.toml"
    path.write_text(text, encoding="utf-8")
    radio = load_schemes(path).scheme("norwich").radio
    assert radio is not None
    assert radio.enabled
    assert (radio.server, radio.port, radio.tts) == ("127.0.0.1", port, tts)
    return path


async def healthz(process: BotProcess, port: int) -> bool:
    if process.process.returncode is not None:
        raise AssertionError(f"shopwatch run exited:\n{process.tail(40)}")
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/healthz") as response,
        ):
            return response.status == 200
    except aiohttp.ClientError:
        return False


@pytest.fixture
def radio_port() -> Iterator[int]:
    """Where Norwich's Mumble server would be: nothing answers there."""
    with closed_port() as port:
        yield port


@dataclass
class RadioOff:
    """What a run with the radio part missing left behind."""

    problem: str  # what Carol, Norwich's coordinator, was told (once)
    log: str
    doctor: subprocess.CompletedProcess[str]


async def run_without(schemes_file: Path, directory: Path, settings: dict[str, str]) -> RadioOff:
    """`shopwatch run` with these settings: it answers /healthz, an alert reaches the group and
    control room, Carol hears once that the radio is off; then `shopwatch doctor` is asked."""
    schemes = load_schemes(schemes_file)
    norwich = schemes.scheme("norwich")
    async with BotApiSandbox(limits=SandboxLimits()) as sandbox:
        bot = sandbox.add_bot(TOKEN, "norwich_shopwatch_bot")
        for scheme in schemes.schemes:
            sandbox.group(scheme.group_chat_id, scheme.name, bots=[bot])
            sandbox.group(scheme.control_room_chat_id, f"{scheme.name} control", bots=[bot])
        carol = sandbox.user(norwich.coordinators[0], "Carol")
        carol.open_chat(bot)
        database = f"sqlite+aiosqlite:///{directory / 'shopwatch.db'}"
        env = bot_environment(sandbox, database, schemes_file, directory, 0) | settings
        env["SHOPWATCH_LOG_LEVEL"] = "INFO"
        port = int(env["SHOPWATCH_LISTEN_PORT"])
        process = await start_process("bot", "run", env, directory)
        try:
            await sandbox.wait_for(
                lambda: healthz(process, port),
                timeout=60,
                message="no /healthz 200 from shopwatch run",
            )

            def bot_told_carol(starting: str) -> list[str]:
                return [
                    m.body
                    for m in sandbox.chat_messages(bot, carol)
                    if m.from_bot and m.body.startswith(starting)
                ]

            await carol.send(bot, ALERT)
            await sandbox.wait_for(
                lambda: bot_told_carol("Alert sent to "), message="Carol's alert was not confirmed"
            )

            def alert_in_both() -> list[MessageView] | None:
                copies = [
                    message
                    for chat in (norwich.group_chat_id, norwich.control_room_chat_id)
                    for message in sandbox.chat_messages(bot, chat)
                    if message.from_bot and "grey hoodie" in message.body
                ]
                return copies if len(copies) == 2 else None

            await sandbox.wait_for(
                alert_in_both, timeout=30, message="the alert is not in the group and control room"
            )

            assert TOLD.startswith(norwich.name)
            await sandbox.wait_for(
                lambda: bot_told_carol(TOLD), message="Carol was not told the radio is off"
            )
            [problem] = bot_told_carol(TOLD)  # once
        finally:
            await process.stop()
        # The doctor, asked with the same settings while the Bot API still answers.
        doctor = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "bot.cli", "doctor"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    return RadioOff(problem, process.log.read_text(errors="replace"), doctor)


def doctor_fail(doctor: subprocess.CompletedProcess[str], saying: str) -> tuple[str, str]:
    """The doctor's FAIL line that says this, and the fix on the line under it."""
    assert doctor.returncode == 1, doctor.stdout + doctor.stderr
    lines = doctor.stdout.splitlines()
    [at] = [i for i, line in enumerate(lines) if saying in line]
    return lines[at], lines[at + 1]


async def test_without_libopus_the_bot_starts_alerts_go_out_and_the_log_and_doctor_say_why(
    tmp_path: Path, radio_port: int
) -> None:
    schemes_file = schemes_with_radio(tmp_path, radio_port)
    nowhere = tmp_path / "no-such-dir" / "libopus.so.0"

    off = await run_without(schemes_file, tmp_path, {"SHOPWATCH_OPUS_LIBRARY": str(nowhere)})

    # What Carol reads: which scheme, that its radio is off, why, and what to install.
    opening = (
        f"Norwich ShopWatch: the radio link is off: the Opus codec cannot be loaded ({nowhere}: "
    )
    assert off.problem.startswith(opening), off.problem
    assert "install Debian's libopus0 (apt-get install libopus0)" in off.problem
    assert off.problem.endswith("Chat alerts are unaffected.")
    [line] = [line for line in off.log.splitlines() if "radio for norwich is off" in line]
    assert "the Opus codec cannot be loaded" in line
    assert "apt-get install libopus0" in line
    assert "Traceback" not in off.log

    failed, fix = doctor_fail(off.doctor, "the Opus codec cannot be loaded")
    assert failed.startswith("FAIL  radio"), failed
    assert f"norwich: 127.0.0.1:{radio_port}: " in failed
    assert "fix: apt-get install libopus0" in fix


def path_without(program: str) -> str:
    """This machine's PATH with the folders that hold `program` left out."""
    folders = os.environ.get("PATH", os.defpath).split(os.pathsep)
    kept = [f for f in folders if f and shutil.which(program, path=f) is None]
    assert shutil.which(program, path=os.pathsep.join(kept)) is None
    return os.pathsep.join(kept)


async def test_without_espeak_a_scheme_that_speaks_with_it_keeps_its_chat_and_is_told_the_fix(
    tmp_path: Path, radio_port: int
) -> None:
    schemes_file = schemes_with_radio(tmp_path, radio_port, tts="espeak")

    off = await run_without(schemes_file, tmp_path, {"PATH": path_without("espeak-ng")})

    missing = "the espeak speech engine is not installed"
    assert off.problem == (
        f"{TOLD}{missing}: install Debian's espeak-ng "
        "(apt-get install espeak-ng). Chat alerts are unaffected."
    )
    [line] = [line for line in off.log.splitlines() if "radio for norwich is off" in line]
    assert f"{missing}: install Debian's espeak-ng (apt-get install espeak-ng)" in line
    assert "Traceback" not in off.log

    failed, fix = doctor_fail(off.doctor, missing)
    assert failed.startswith("FAIL  radio"), failed
    assert f"norwich: 127.0.0.1:{radio_port}: {missing}" in failed
    assert "fix: apt-get install espeak-ng" in fix
