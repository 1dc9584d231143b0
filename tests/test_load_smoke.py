"""The load benchmark, in small: a few towns alert at once and every chat gets its copy once.

The bot runs as `shopwatch run` in its own process against the sandbox with Telegram's
limits on, exactly as the benchmark runs it; only the size is cut down.
"""

from __future__ import annotations

from pathlib import Path

from bench.load import LoadPlan, run_load


async def test_alerts_from_three_towns_reach_every_chat_once_with_telegrams_limits_on(
    tmp_path: Path,
) -> None:
    plan = LoadPlan(schemes=3, members=3, rate=2, seconds=2, drain_seconds=60)

    result = await run_load(plan, tmp_path)

    assert result.alerts_sent == 4
    assert result.alerts_stored == 4, "every alert is in the log"
    assert result.drained, "the outbox emptied"
    assert result.copies_expected >= 2 * 4, "each alert reaches its group and control room"
    assert result.copies_delivered == result.copies_expected
    assert result.lost == 0
    assert result.duplicated == 0
    assert len(result.latencies) == 4, "every alert's last copy was seen arriving"
    assert len(result.confirmations) == 4, "every member's confirmation was seen arriving"
    assert result.peak_rss["bot"] > 0, "the bot's own process was measured"
