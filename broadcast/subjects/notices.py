"""A notice's dates and terms under the scheme's policy: refused whole or planned whole.

The default is the scheme's (12 months, reviewed at 6); a notice may end sooner, or
start later, but it may run past the scheme's longest only by a recorded board
decision, and never end before it starts.

Months count the way a UK letter does, the first day included: twelve months from
3 December 2026 run until the end of 2 December 2027, so a default notice sits exactly
at the scheme's longest and a day more needs the board. The review is due once the
person has had the review period in full under the notice, the day after it: six
months from 3 December 2026 are over at the end of 2 June 2027, so the review is on
3 June 2027, when "six months free of incidents" can first be true.

Words too long are refused, never cut: a notice must say what was decided, whole.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

from broadcast.subjects.text import clean_text
from config.errors import InvalidInputError
from config.schemes import SubjectsConfig
from config.vocabulary import NoticeStage

DECIDED_BY_MAX = 200
CONDITIONS_MAX = 2000


def add_months(day: date, months: int) -> date:
    """The same day `months` later, or the month's last day where it has none (31 Jan + 1)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def last_day(start: date, months: int) -> date:
    """The last day of `months` counted from `start` inclusive.

    Where the month has no day matching the start's (31 January, one month) the period
    runs to that month's end rather than stopping a day short of it.
    """
    following = add_months(start, months)
    if following.day != start.day:
        return following
    return following - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class NoticeTerms:
    """What a coordinator asks for; what is left out takes the scheme's default."""

    stage: NoticeStage
    decided_by: str
    board_decision_ref: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    review_on: date | None = None
    conditions: str = ""


@dataclass(frozen=True, slots=True)
class PlannedNotice:
    decided_by: str
    board_decision_ref: str | None
    starts_on: date
    ends_on: date
    review_on: date
    conditions: str


def plan_notice(policy: SubjectsConfig, terms: NoticeTerms, today: date) -> PlannedNotice:
    decided_by = clean_text(terms.decided_by, len(terms.decided_by))
    if not decided_by:
        raise InvalidInputError("decided_by_missing")
    if len(decided_by) > DECIDED_BY_MAX:
        raise InvalidInputError("decided_by_too_long", str(DECIDED_BY_MAX))
    if len(clean_text(terms.conditions, len(terms.conditions))) > CONDITIONS_MAX:
        raise InvalidInputError("conditions_too_long", str(CONDITIONS_MAX))
    board_ref = clean_text(terms.board_decision_ref or "", 120) or None
    starts = terms.starts_on or today
    ends = terms.ends_on or last_day(starts, policy.notice_months)
    if ends < starts:
        raise InvalidInputError("notice_ends_before_start", ends.isoformat())
    if ends > last_day(starts, policy.max_notice_months) and board_ref is None:
        raise InvalidInputError("notice_too_long", ends.isoformat())
    review = terms.review_on or min(add_months(starts, policy.review_months), ends)
    if not starts <= review <= ends:
        raise InvalidInputError("review_outside_notice", review.isoformat())
    return PlannedNotice(
        decided_by=decided_by,
        board_decision_ref=board_ref,
        starts_on=starts,
        ends_on=ends,
        review_on=review,
        conditions=clean_text(terms.conditions, CONDITIONS_MAX),
    )
