"""What the machine was doing while a benchmark ran: figures mean little without it."""

from __future__ import annotations

import os
import platform
import statistics


def describe() -> str:
    one, five, fifteen = os.getloadavg()
    return (
        f"machine: {platform.machine()} {os.cpu_count()} cores, Python "
        f"{platform.python_version()}; load average {one:.2f} {five:.2f} {fifteen:.2f}"
    )


def percentiles(samples: list[float], high: int = 95) -> str:
    """p50 / p<high> / max in milliseconds."""
    ordered = sorted(samples)
    tail = ordered[min(len(ordered) - 1, round(high / 100 * (len(ordered) - 1)))]
    return (
        f"p50 {statistics.median(ordered) * 1000:.1f} ms, p{high} {tail * 1000:.1f} ms, "
        f"max {ordered[-1] * 1000:.1f} ms (n={len(ordered)})"
    )
