"""`make demo` is a newcomer's first look: it must run the whole story and exit cleanly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def test_the_demo_plays_every_step_and_prints_what_each_chat_holds(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHOPWATCH_")}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "demo", "--dir", str(tmp_path)],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    steps = [
        line for line in result.stdout.splitlines() if line[:2] in {f"{n}." for n in range(10)}
    ]
    assert len(steps) == 7, result.stdout
    assert "Alert sent to" in steps[3]
    assert 'finds "1 ·' in steps[5]
    assert "-manifest.json" in steps[6]
    assert "=== Norwich ShopWatch control room" in result.stdout
    assert (tmp_path / "shopwatch.db").exists()
