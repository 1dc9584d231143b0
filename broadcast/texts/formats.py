"""Money and moments as every text writes them: one way each, in British English.

Babel's en_GB formats (the Unicode CLDR's): amounts as "£1,200.50" (whole pounds
as "£60"), a moment as "3 Dec 2026, 14:02", a time of day as "14:02", a day as
"3 Dec 2026". A moment is always shown in the scheme's timezone, never the
server's.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
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
    return f"{day(when.astimezone(ZoneInfo(timezone)).date())}, {time_of_day(when, timezone)}"


def time_of_day(when: datetime, timezone: str) -> str:
    """The time alone, for what happened since an alert went out: "14:02"."""
    return format_time(when, "short", tzinfo=ZoneInfo(timezone), locale=LOCALE)


def day(when: date) -> str:
    """A calendar day: "3 Dec 2026"."""
    return format_date(when, "medium", locale=LOCALE)
