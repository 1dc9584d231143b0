"""Money and moments as every person sees them: one way each, in British English.

Babel's en_GB formats (the Unicode CLDR's): amounts as "£1,200.50" (whole pounds
as "£60"), a moment as "3 Dec 2026, 14:02", a time of day as "14:02", a day as
"3 Dec 2026". A moment is shown in the scheme's timezone, never the server's.
It lives in config, the bottom layer, so the chat texts, the exports and the
mini app all reach the same functions without a layer pointing upwards.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime, format_time
from babel.numbers import format_currency

LOCALE = "en_GB"


def money(pence: int) -> str:
    """An amount as the card, the summary and the search show it: £60, £1,200.50."""
    pattern = "¤#,##0" if pence % 100 == 0 else "¤#,##0.00"
    return format_currency(
        Decimal(pence).scaleb(-2), "GBP", pattern, locale=LOCALE, currency_digits=False
    )


def moment(when: datetime, timezone: str) -> str:
    """A date and a time of day in the scheme's timezone: "3 Dec 2026, 14:02"."""
    return as_read(when.astimezone(ZoneInfo(timezone)))


def as_read(when: datetime) -> str:
    """A moment as its clock reads, for one already in the zone it is read in.

    Stored rows and bundles carry their own offset (or none); converting them again
    would move the hour the reader was told.
    """
    return f"{day(when.date())}, {format_time(when, 'short', locale=LOCALE)}"


def with_offset(when: datetime) -> str:
    """A moment with its weekday and UTC offset, for evidence read long after.

    A police export must not leave the hour ambiguous across a clock change:
    "Sun 25 Oct 2026, 01:30 UTC+01:00".
    """
    zone = format_datetime(when, "'UTC'xxx", locale=LOCALE) if when.tzinfo else "UTC+00:00"
    return f"{format_date(when.date(), 'EEE', locale=LOCALE)} {as_read(when)} {zone}"


def time_of_day(when: datetime, timezone: str) -> str:
    """The time alone, for what happened since an alert went out: "14:02"."""
    return format_time(when, "short", tzinfo=ZoneInfo(timezone), locale=LOCALE)


def day(when: date) -> str:
    """A calendar day: "3 Dec 2026"."""
    return format_date(when, "medium", locale=LOCALE)


def letter_day(when: date) -> str:
    """A day in a letter served on a person, its month in full: "2 December 2026". A notice
    is a formal document the person may show a solicitor; nothing on it is abbreviated."""
    return format_date(when, "long", locale=LOCALE)


def full_day(when: date) -> str:
    """A day with its weekday in full, for an export's period: "Monday, 2 November 2026"."""
    return format_date(when, "full", locale=LOCALE)
