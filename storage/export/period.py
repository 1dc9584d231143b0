"""The period an export covers: whole days in the scheme's own timezone.

A week is Monday to Sunday where the scheme is, so the week in which the clocks
go back is 169 hours long and the one in which they go forward 167. A report
belongs to the period in which it was logged (`created_at`): every report then
appears in exactly one weekly export, including one logged on Monday about
something that happened on Saturday.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from config.errors import InvalidInputError
from storage.query import calendar_day

# The longest period one export may cover: a quarter (92 days: the longest quarter).
MAX_DAYS = 92
# When the weekly export runs, in the scheme's timezone (on Mondays).
WEEKLY_RUN_AT = time(7, 0)


@dataclass(frozen=True, slots=True)
class ExportPeriod:
    """The days `first` to `last`, both included, in `timezone`."""

    first: date
    last: date
    timezone: str

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def start(self) -> datetime:
        """Local midnight at the start of the first day."""
        return datetime.combine(self.first, time(0), tzinfo=self.tz)

    @property
    def end(self) -> datetime:
        """Local midnight after the last day: the period is [start, end)."""
        return datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=self.tz)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def key(self) -> str:
        """`2026-10-19/2026-10-25`: how the audit trail names the period."""
        return f"{self.first.isoformat()}/{self.last.isoformat()}"

    @property
    def slug(self) -> str:
        """`2026-10-19-to-2026-10-25`: how file names carry the period."""
        return f"{self.first.isoformat()}-to-{self.last.isoformat()}"

    def dates(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range(self.days)]


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def week_of(monday: date, timezone: str) -> ExportPeriod:
    return ExportPeriod(monday, monday + timedelta(days=6), timezone)


def last_full_week(now: datetime, timezone: str) -> ExportPeriod:
    """The Monday-to-Sunday week before the one `now` falls in, where the scheme is."""
    local = now.astimezone(ZoneInfo(timezone))
    return week_of(_monday(local.date()) - timedelta(days=7), timezone)


def weekly_run_time(period: ExportPeriod) -> datetime:
    """When the weekly export of `period` is due: the next Monday at 07:00 local time."""
    return datetime.combine(period.last + timedelta(days=1), WEEKLY_RUN_AT, tzinfo=period.tz)


def due_week(now: datetime, timezone: str) -> ExportPeriod:
    """The latest week whose weekly export was due at or before `now`.

    Before 07:00 on a Monday that is still the week before last: last week's
    export is not due until 07:00.
    """
    week = last_full_week(now, timezone)
    if now < weekly_run_time(week):
        return week_of(week.first - timedelta(days=7), timezone)
    return week


def _parse_day(text: str) -> date:
    try:
        return calendar_day(text)
    except ValueError:
        raise InvalidInputError("not_a_date", text) from None


def parse_period(first: str, last: str, timezone: str) -> ExportPeriod:
    """A period from two dates, 2026-11-23 or 23/11/2026 as /search takes them;
    `InvalidInputError` says what is wrong.

    Reasons: `not_a_date`, `reversed` (the end before the start), `too_long`
    (more than `MAX_DAYS` days).
    """
    start, end = _parse_day(first), _parse_day(last)
    if end < start:
        raise InvalidInputError("reversed", f"{first} {last}")
    period = ExportPeriod(start, end, timezone)
    if period.days > MAX_DAYS:
        raise InvalidInputError("too_long", str(period.days))
    return period


def utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC)
