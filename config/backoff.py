"""How long to wait before trying again: one rule for every retry loop in the house.

Each wait doubles from `first` up to `most`, and is drawn at random from its upper
half ("equal jitter"), so processes and links that failed together (a database
restart, a radio server back up) do not all come back in the same instant, and no
wait is ever longer than the doubling alone would make it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class Backoff:
    first: float
    """Seconds before the first retry (before jitter)."""
    most: float
    """Seconds no wait goes beyond."""

    def seconds(self, failures: int) -> float:
        """The wait after `failures` failures in a row (1 for the first)."""
        ceiling = min(self.first * 2 ** min(max(failures - 1, 0), 32), self.most)
        return random.uniform(ceiling / 2, ceiling)

    def delay(self, failures: int) -> timedelta:
        return timedelta(seconds=self.seconds(failures))
