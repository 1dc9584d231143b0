"""What a child process of the bot's is started with, wherever the bot runs from."""

from __future__ import annotations

import os
from pathlib import Path

_PROJECT_ROOT = Path(__file__).resolve().parents[1]


def child_environment() -> dict[str, str]:
    """The bot's environment, with this checkout first on the path (as the bot found it):
    a child started with `python -m` imports the same modules from a checkout as from a
    wheel."""
    env = dict(os.environ)
    paths = [str(_PROJECT_ROOT), *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env
