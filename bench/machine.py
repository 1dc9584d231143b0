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


def percentiles(samples: list[float]) -> str:
    """p50 / p95 / max in milliseconds."""
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return (
        f"p50 {statistics.median(ordered) * 1000:.1f} ms, p95 {p95 * 1000:.1f} ms, "
        f"max {ordered[-1] * 1000:.1f} ms (n={len(ordered)})"
    )
