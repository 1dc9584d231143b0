"""The product as the image installs it: a wheel in a fresh environment, far from the project.

No container engine runs here, so the image's path is taken the way its Dockerfile
takes it: the files the Dockerfile copies (and only those) are built into wheels,
the product's and the sandbox's, which `pip install` puts into a new virtual
environment with the dependencies they declare (from the package index pip is set
up with, so nothing of the test environment can stand in for a missing one). Then
`shopwatch demo`, `shopwatch check` and the image's health check run from a
temporary directory outside the project.
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

from bench.load import TOKEN
from config.schemes import load_schemes
from sandbox import BotApiSandbox
from tests.town import free_port
from tests.wheels import Wheels, step

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.xdist_group("wheels")
"""One worker builds the wheels once for both modules when the tests run side by side."""


@dataclass(frozen=True)
class Installed:
    venv: Path
    elsewhere: Path

    @property
    def shopwatch(self) -> str:
        return str(self.venv / "bin" / "shopwatch")

    def env(self, **settings: str) -> dict[str, str]:
        """The machine's environment, none of our settings, none of the project's paths."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("SHOPWATCH_", "PYTHON", "VIRTUAL_ENV"))
        }
        return env | {"PATH": f"{self.venv / 'bin'}:{env.get('PATH', '')}"} | settings

    def example(self) -> Path:
        """Where the installed wheel keeps its example schemes file."""
        where = subprocess.run(
            [str(self.venv / "bin" / "python"), "-c",
             "import importlib.resources as r; print(r.files('config') / 'schemes.example.toml')"],
            cwd=self.elsewhere, env=self.env(), capture_output=True, text=True,
            timeout=60, check=True,
        )  # fmt: skip
        return Path(where.stdout.strip())

    def run(
        self, *args: str, settings: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [self.shopwatch, *args],
            cwd=self.elsewhere,
            env=self.env(**(settings or {})),
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
        )


@pytest.fixture(scope="module")
def installed(
    built_wheels: Wheels, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Installed]:
    base = tmp_path_factory.mktemp("wheel")
    venv = base / "venv"
    step([sys.executable, "-m", "venv", "--without-pip", str(venv)], base)
    # This environment's pip installs into the new one (no pip of its own to bootstrap) and
    # leaves the byte-compiling to first use: the same packages, in seconds, not minutes.
    step([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install",
          "--quiet", "--no-compile", *built_wheels.both], base)  # fmt: skip
    elsewhere = base / "elsewhere"
    elsewhere.mkdir()
    try:
        yield Installed(venv, elsewhere)
    finally:
        shutil.rmtree(venv, ignore_errors=True)  # a few hundred MB: not kept for later runs


def test_the_installed_wheel_plays_the_demo_outside_the_project(installed: Installed) -> None:
    done = installed.run("demo", "--dir", str(installed.elsewhere / "demo"))

    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert "Norwich ShopWatch" in done.stdout
    assert (installed.elsewhere / "demo" / "shopwatch.db").exists()
    assert not (installed.elsewhere / "schemes.example.toml").exists(), "no copy was needed"


def test_the_installed_wheel_carries_the_mini_apps_page(installed: Installed) -> None:
    shown = subprocess.run(
        [str(installed.venv / "bin" / "python"), "-c",
         "import importlib.resources as r; s = r.files('bot.miniapp') / 'static'; "
         "print(*sorted(p.name for p in s.iterdir()))"],
        cwd=installed.elsewhere, env=installed.env(), capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip

    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.split() == ["app.css", "app.js", "index.html"]


def test_the_installed_wheel_checks_the_example_schemes_file_it_carries(
    installed: Installed,
) -> None:
    example = installed.example()
    assert example.is_relative_to(installed.venv), "the wheel's own copy, not the project's"
    assert example.read_bytes() == (ROOT / "schemes.example.toml").read_bytes()

    done = installed.run("check", settings={"SHOPWATCH_SCHEMES_FILE": str(example)})

    assert done.returncode == 0, done.stderr
    assert "settings OK" in done.stdout
    assert "4 scheme(s)" in done.stdout


async def test_the_image_health_check_asks_the_port_the_settings_give(
    installed: Installed, tmp_path: Path
) -> None:
    """The image's HEALTHCHECK is `shopwatch healthcheck`, in the container's environment."""
    example = installed.example()
    schemes = load_schemes(example)
    port = free_port()  # not the image's 8080: this deployment moved it
    async with BotApiSandbox() as sandbox:
        bot = sandbox.add_bot(TOKEN, "health_bot")
        for scheme in schemes.schemes:
            sandbox.group(scheme.group_chat_id, scheme.name, bots=[bot])
            sandbox.group(scheme.control_room_chat_id, f"{scheme.name} control", bots=[bot])
        settings = {
            "SHOPWATCH_BOT_TOKEN": TOKEN,
            "SHOPWATCH_TELEGRAM_API_URL": sandbox.base_url,
            "SHOPWATCH_TELEGRAM_FILE_URL": sandbox.base_file_url,
            "SHOPWATCH_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'shopwatch.db'}",
            "SHOPWATCH_SCHEMES_FILE": str(example),
            "SHOPWATCH_DATA_DIR": str(tmp_path / "data"),
            "SHOPWATCH_LISTEN_HOST": "127.0.0.1",
            "SHOPWATCH_LISTEN_PORT": str(port),
            "SHOPWATCH_WORKER_PORT": "0",
        }
        log = tmp_path / "run.log"
        with log.open("wb") as out:
            process = await asyncio.create_subprocess_exec(
                installed.shopwatch, "run", cwd=installed.elsewhere,
                env=installed.env(**settings), stdin=asyncio.subprocess.DEVNULL,
                stdout=out, stderr=asyncio.subprocess.STDOUT,
            )  # fmt: skip
        try:
            await sandbox.wait_for(
                lambda: answering(process, port, log), timeout=60, message="no /healthz"
            )
            healthy = await asyncio.to_thread(installed.run, "healthcheck", settings=settings)
            moved = settings | {"SHOPWATCH_LISTEN_PORT": str(free_port())}
            unhealthy = await asyncio.to_thread(installed.run, "healthcheck", settings=moved)
        finally:
            process.terminate()
            await process.wait()

    assert healthy.returncode == 0, healthy.stderr
    assert healthy.stdout.strip() == f"healthy: http://127.0.0.1:{port}/healthz"
    # A check on another port than the bot's says so, in one line naming the setting.
    assert unhealthy.returncode == 1
    [line] = unhealthy.stderr.splitlines()
    other = moved["SHOPWATCH_LISTEN_PORT"]
    assert line.startswith(f"no /healthz answered: http://127.0.0.1:{other}/healthz "), line
    assert "(SHOPWATCH_LISTEN_PORT)" in line
    assert "SHOPWATCH_WORKER_PORT are both 0" not in line


async def answering(process: asyncio.subprocess.Process, port: int, log: Path) -> bool:
    if process.returncode is not None:
        raise AssertionError(f"shopwatch run exited ({process.returncode}): see {log}")
    try:
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"http://127.0.0.1:{port}/healthz") as response,
        ):
            return response.status == 200
    except aiohttp.ClientError:
        return False
