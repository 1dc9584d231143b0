"""Every retry loop waits by one rule: doubling, capped, jittered, never longer than the
doubling alone."""

from __future__ import annotations

from config.backoff import Backoff
from storage.outbox_notify import RECONNECT


def test_waits_grow_stay_under_the_cap_and_differ_between_processes() -> None:
    backoff = Backoff(first=2.0, most=600.0)

    first = [backoff.seconds(1) for _ in range(200)]
    fifth = [backoff.seconds(5) for _ in range(200)]
    late = [backoff.seconds(40) for _ in range(200)]

    assert all(1.0 <= wait <= 2.0 for wait in first)
    assert min(fifth) > max(first), "later failures wait longer"
    assert all(300.0 <= wait <= 600.0 for wait in late), "at most ten minutes, however many"
    assert len(set(first)) > 100, "processes that failed together do not retry together"


def test_the_listener_reconnects_within_its_bounds() -> None:
    first = [RECONNECT.seconds(1) for _ in range(50)]
    every = [RECONNECT.seconds(n) for n in range(1, 100)]

    assert all(0.25 <= wait <= 0.5 for wait in first)
    assert max(every) <= 30.0, "never more than half a minute between tries"
