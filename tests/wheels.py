"""The two wheels, built once a run from what the Dockerfile copies.

Building a wheel costs a build environment and a setuptools run each time; the checks of
what a wheel holds and the checks of the wheel installed far from the project look at the
same two files, so they share one build. The image builds from the Dockerfile's context,
so that is the tree the wheels come from: a file the Dockerfile forgets is missing here too.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BUILD_SECONDS = 600


@dataclass(frozen=True)
class Wheels:
    product: Path
    sandbox: Path

    @property
    def both(self) -> list[str]:
        return [str(self.product), str(self.sandbox)]


def dockerfile_context(destination: Path) -> Path:
    """What the Dockerfile's COPY lines put in /app, copied from the project."""
    lines = (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines()
    copies = [shlex.split(line)[1:] for line in lines if line.startswith("COPY ")]
    assert copies, "the Dockerfile copies the project in"
    for *sources, target in copies:
        for source in sources:
            origin = ROOT / source
            into = destination / target / source if target.endswith("/") else destination / target
            if target in ("./", "."):
                into = destination / source
            if origin.is_dir():
                shutil.copytree(origin, into, ignore=shutil.ignore_patterns("__pycache__"))
            else:
                into.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, into)
    return destination


def step(command: list[str], cwd: Path) -> None:
    done = subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=BUILD_SECONDS, check=False
    )
    assert done.returncode == 0, (
        f"{' '.join(command)}:\n{done.stdout[-3000:]}{done.stderr[-3000:]}"
    )


@pytest.fixture(scope="session")
def built_wheels(tmp_path_factory: pytest.TempPathFactory) -> Wheels:
    base = tmp_path_factory.mktemp("wheels")
    context = dockerfile_context(base / "app")
    out = base / "dist"
    step([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(out),
          ".", "./sandbox"], context)  # fmt: skip
    [product] = out.glob("shopwatch-*.whl")
    [sandbox] = out.glob("shopwatch_sandbox-*.whl")
    return Wheels(product, sandbox)
