"""The one house format for days, times and money, as a person reads them anywhere."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from config import formats


def test_a_day_is_written_the_short_british_way() -> None:
    assert formats.day(date(2026, 12, 3)) == "3 Dec 2026"
    assert formats.letter_day(date(2026, 12, 3)) == "3 December 2026", (
        "a letter abbreviates nothing"
    )


def test_an_export_period_names_the_weekday() -> None:
    assert formats.full_day(date(2026, 11, 2)) == "Monday, 2 November 2026"


def test_a_time_is_read_in_the_schemes_zone_not_the_servers() -> None:
    summer = datetime(2026, 7, 1, 13, 2, tzinfo=UTC)
    assert formats.time_of_day(summer, "Europe/London") == "14:02"
    assert formats.moment(summer, "Europe/London") == "1 Jul 2026, 14:02"


def test_a_moment_already_in_its_zone_reads_as_its_clock() -> None:
    assert formats.as_read(datetime(2026, 12, 3, 14, 2)) == "3 Dec 2026, 14:02"


def test_evidence_carries_weekday_and_offset_across_the_clock_change() -> None:
    first = datetime(2026, 10, 25, 1, 30, tzinfo=timezone(timedelta(hours=1)))
    second = datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert formats.with_offset(first) == "Sun 25 Oct 2026, 01:30 UTC+01:00"
    assert formats.with_offset(second) == "Sun 25 Oct 2026, 01:30 UTC+00:00"


@pytest.mark.parametrize(
    ("pence", "written"),
    [(6000, "£60"), (120050, "£1,200.50"), (50, "£0.50"), (5, "£0.05"), (12000000, "£120,000")],
)
def test_money_is_pounds_with_separators_and_pence_only_when_there_are_some(
    pence: int, written: str
) -> None:
    assert formats.money(pence) == written
