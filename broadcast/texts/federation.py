"""What the coordinators read about neighbouring towns on other systems."""

from __future__ import annotations


def peer_not_reached(peer: str, report_id: int | None, error: str) -> str:
    """To the coordinators: a neighbouring town on another system did not take an alert."""
    what = f"Report #{report_id}" if report_id is not None else "An alert"
    return (
        f"{what} did not reach {peer}, a neighbouring scheme on another system ({error}). "
        "Please check the link with their coordinator: `shopwatch federation check` "
        "tests it."
    )
