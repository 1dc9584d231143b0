"""The guided report's draft: what a member has answered so far, and the rules for each answer.

Kept free of Telegram so the rules can be read (and tested) on their own. The
draft lives in the member's `user_data` between messages, which the bot keeps in
the database, so it is plain JSON: photos are Telegram file ids, fetched only
when the report is sent; the moment it happened is an ISO string in UTC.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from broadcast import descriptors
from broadcast.alerts import text_problem
from broadcast.descriptors import Descriptors, registration_in
from broadcast.police_refs import police_reference_in
from config.vocabulary import Category, Urgency

USER_DATA_KEY = "report"

DESCRIPTION_MAX = 1000
CLOTHING_MAX = 300
MARKS_MAX = 300
NAME_MAX = 100
HAIR_MAX = 100
DIRECTION_MAX = 200
VEHICLE_MAX = 200
PROPERTY_MAX = 300
POLICE_REFERENCE_MAX = 40
MAX_PHOTOS = 10  # Telegram's album limit: the alert shows them all at once
MAX_VALUE_PENCE = 10_000_000  # £100,000: beyond that it is a typing slip, not a shoplifter
OLDEST = timedelta(days=366)
"""A report about something longer ago than this is not intelligence any more."""
LEEWAY = timedelta(minutes=5)
"""A time a few minutes ahead is a phone's clock, not the future."""

GENDERS = descriptors.SEXES
AGE_RANGES = descriptors.AGE_RANGES

# Losses only make sense where something was taken or broken.
VALUED_CATEGORIES = frozenset({Category.THEFT, Category.FRAUD, Category.DAMAGE, Category.OTHER})

_POUNDS = re.compile(r"^£?\s*(?P<amount>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<pence>\d{1,2}))?$")
_POLICE_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/ .-]*$")
_TIME = re.compile(
    r"^(?P<hour>\d{1,2})(?:[:.](?P<minute>\d{2}))?\s*(?P<half>am|pm)?$", re.IGNORECASE
)
_DATE = re.compile(r"^(?P<day>\d{1,2})/(?P<month>\d{1,2})(?:/(?P<year>\d{2}|\d{4}))?$")
_PARTS_OF_DAY = {"morning": clock(9), "afternoon": clock(14), "evening": clock(19)}
MIDDAY = clock(12)


class Step(StrEnum):
    """The questions, in order; the value is the conversation state kept in the database."""

    CATEGORY = "category"
    URGENCY = "urgency"
    WHEN = "when"
    WHEN_TIME = "when_time"
    DESCRIPTION = "description"
    PEOPLE = "people"
    GENDER = "gender"
    AGE = "age"
    HEIGHT = "height"
    BUILD = "build"
    HAIR = "hair"
    APPEARANCE = "appearance"
    CLOTHING = "clothing"
    MARKS = "marks"
    NAME = "name"
    DIRECTION = "direction"
    VEHICLE = "vehicle"
    PROPERTY = "property"
    VALUE = "value"
    CCTV = "cctv"
    STATEMENT = "statement"
    POLICE_REFERENCE = "police_reference"
    PHOTOS = "photos"
    SUMMARY = "summary"


ORDER = tuple(Step)
SKIP = "skip"
DONE = "done"
SEND = "send"
CANCEL = "cancel"
YES_NO = ("yes", "no")

BUTTONS: dict[Step, tuple[str, ...]] = {
    Step.CATEGORY: tuple(Category),
    Step.URGENCY: tuple(Urgency),
    Step.WHEN: ("now", "today", "yesterday"),
    Step.WHEN_TIME: tuple(_PARTS_OF_DAY),
    Step.PEOPLE: ("1", "2", "3", "4", "5"),
    Step.GENDER: GENDERS,
    Step.AGE: AGE_RANGES,
    Step.HEIGHT: descriptors.HEIGHTS,
    Step.BUILD: descriptors.BUILDS,
    Step.HAIR: descriptors.HAIR,
    Step.APPEARANCE: descriptors.APPEARANCES,
    Step.CCTV: YES_NO,
    Step.STATEMENT: YES_NO,
}
"""The values a question's buttons carry (their labels are in `texts.report`)."""

NOT_SURE_STEPS = frozenset(
    {
        Step.WHEN_TIME,
        Step.PEOPLE,
        Step.GENDER,
        Step.AGE,
        Step.HEIGHT,
        Step.BUILD,
        Step.HAIR,
        Step.APPEARANCE,
    }
)
"""Questions about what the member saw: "Not sure" rather than "Skip"."""

UNSKIPPABLE = frozenset({Step.CATEGORY, Step.URGENCY, Step.WHEN, Step.SUMMARY})

LIMITS = {
    Step.DESCRIPTION: DESCRIPTION_MAX,
    Step.HAIR: HAIR_MAX,
    Step.CLOTHING: CLOTHING_MAX,
    Step.MARKS: MARKS_MAX,
    Step.NAME: NAME_MAX,
    Step.DIRECTION: DIRECTION_MAX,
    Step.VEHICLE: VEHICLE_MAX,
    Step.PROPERTY: PROPERTY_MAX,
    Step.POLICE_REFERENCE: POLICE_REFERENCE_MAX,
}

TYPED_STEPS = frozenset(
    {
        Step.WHEN,
        Step.WHEN_TIME,
        Step.DESCRIPTION,
        Step.PEOPLE,
        Step.HAIR,
        Step.CLOTHING,
        Step.MARKS,
        Step.NAME,
        Step.DIRECTION,
        Step.VEHICLE,
        Step.PROPERTY,
        Step.VALUE,
        Step.POLICE_REFERENCE,
    }
)
"""Questions a typed answer can answer (some also have buttons)."""

_FREE_TEXT = {
    Step.DESCRIPTION: "description",
    Step.HAIR: "hair",
    Step.CLOTHING: "clothing",
    Step.MARKS: "marks",
    Step.NAME: "name",
    Step.DIRECTION: "direction",
    Step.PROPERTY: "taken",
}

_CLEARED_BY_SKIP = {
    Step.DESCRIPTION: ("description",),
    Step.PEOPLE: ("people",),
    Step.GENDER: ("gender",),
    Step.AGE: ("age",),
    Step.HEIGHT: ("height",),
    Step.BUILD: ("build",),
    Step.HAIR: ("hair",),
    Step.APPEARANCE: ("appearance",),
    Step.CLOTHING: ("clothing",),
    Step.MARKS: ("marks",),
    Step.NAME: ("name",),
    Step.DIRECTION: ("direction",),
    Step.VEHICLE: ("vehicle", "registration"),
    Step.PROPERTY: ("taken",),
    Step.VALUE: ("value_pence",),
    Step.CCTV: ("cctv",),
    Step.STATEMENT: ("statement",),
    Step.POLICE_REFERENCE: ("police_reference",),
}


_SETS = {
    Step.DESCRIPTION: ("description",),
    Step.PEOPLE: ("people_count",),
    Step.GENDER: ("subject_sex",),
    Step.AGE: ("subject_age",),
    Step.HEIGHT: ("subject_height",),
    Step.BUILD: ("subject_build",),
    Step.HAIR: ("subject_hair",),
    Step.APPEARANCE: ("subject_appearance",),
    Step.CLOTHING: ("subject_clothing",),
    Step.MARKS: ("subject_marks",),
    Step.NAME: ("subject_name",),
    Step.DIRECTION: ("direction",),
    Step.VEHICLE: ("vehicle", "vehicle_registration"),
    Step.PROPERTY: ("property_description",),
    Step.VALUE: ("value_pence",),
    Step.CCTV: ("cctv_held",),
    Step.STATEMENT: ("statement_willing",),
    Step.POLICE_REFERENCE: ("police_reference",),
}
"""The report's columns each answer fills."""


class AnswerError(ValueError):
    """An answer that cannot be taken; its `reason` names a sentence of `texts.report`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Draft:
    """One member's report in progress.

    `token` ties the buttons on screen to this draft, so a button left over from an
    earlier, abandoned report cannot answer this one; each button also names its
    question, so a second tap on Skip cannot answer the question after it.
    `touched` (epoch seconds) lets a conversation restored after a restart, when no
    timeout job was running for it, still expire on time. `asked` is the question on
    screen, whose buttons go when it is answered. `report_id` is set once a live
    report's alert has gone out: from then on each answer changes the report itself.
    """

    token: str = field(default_factory=lambda: secrets.token_urlsafe(6))
    touched: float = field(default_factory=time.time)
    asked: int | None = None
    timezone: str = "Europe/London"
    appearance_on: bool = False
    report_id: int | None = None
    category: str | None = None
    urgency: str | None = None
    when: str | None = None
    occurred_at: str | None = None
    description: str | None = None
    people: int | None = None
    gender: str | None = None
    age: str | None = None
    height: str | None = None
    build: str | None = None
    hair: str | None = None
    appearance: str | None = None
    clothing: str | None = None
    marks: str | None = None
    name: str | None = None
    direction: str | None = None
    vehicle: str | None = None
    registration: str | None = None
    taken: str | None = None
    value_pence: int | None = None
    cctv: bool | None = None
    statement: bool | None = None
    police_reference: str | None = None
    photos: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: object) -> Draft | None:
        """The draft kept in user_data, or None if there is none (or it is not one of ours)."""
        if not isinstance(data, dict) or not isinstance(data.get("token"), str):
            return None
        known = {f.name for f in fields(cls)}
        try:
            return cls(**{k: v for k, v in data.items() if k in known})
        except TypeError:
            return None

    def is_stale(self, timeout_seconds: float, now: float | None = None) -> bool:
        return (now if now is not None else time.time()) - self.touched > timeout_seconds

    def touch(self, now: float | None = None) -> None:
        self.touched = now if now is not None else time.time()

    @property
    def category_value(self) -> Category:
        return Category(self.category or Category.OTHER)

    @property
    def urgency_value(self) -> Urgency:
        return Urgency(self.urgency or Urgency.NOW)

    @property
    def live(self) -> bool:
        return self.urgency_value == Urgency.NOW

    @property
    def sent(self) -> bool:
        return self.report_id is not None

    @property
    def asks_value(self) -> bool:
        return self.category_value in VALUED_CATEGORIES

    @property
    def occurred(self) -> datetime | None:
        return datetime.fromisoformat(self.occurred_at) if self.occurred_at else None

    def asks(self, step: Step) -> bool:
        """Whether `step` is a question for this report."""
        if step in (Step.WHEN, Step.WHEN_TIME) and (self.live or self.urgency is None):
            return False  # happening now: it happened now
        if step is Step.WHEN_TIME:
            return self.when in ("today", "yesterday")
        if step in (Step.PROPERTY, Step.VALUE):
            return self.asks_value
        if step is Step.APPEARANCE:
            return self.appearance_on
        return step is not Step.SUMMARY or not self.sent

    def next_step(self, step: Step) -> Step | None:
        """The question after `step`; None when a sent report has nothing more to ask."""
        for following in ORDER[ORDER.index(step) + 1 :]:
            if self.asks(following):
                return following
        return None

    def choose(self, step: Step, value: str, now: datetime | None = None) -> None:
        """Take a button's answer to `step`; `SKIP` leaves an optional answer empty."""
        if value == SKIP and step in _CLEARED_BY_SKIP:
            for name in _CLEARED_BY_SKIP[step]:
                setattr(self, name, None)
            return
        if step is Step.CATEGORY:
            self.category = choice(value, BUTTONS[step])
            if not self.asks_value:
                self.value_pence = self.taken = None
        elif step is Step.URGENCY:
            self.urgency = choice(value, BUTTONS[step])
            if self.live:
                self.when = self.occurred_at = None
        elif step is Step.WHEN:
            self.when = choice(value, BUTTONS[step])
            self.occurred_at = None
        elif step is Step.WHEN_TIME:
            at = None if value == SKIP else _PARTS_OF_DAY[choice(value, BUTTONS[step])]
            self._set_time(at, now)
        elif step is Step.PEOPLE:
            self.people = int(choice(value, BUTTONS[step]))
        elif step in (Step.CCTV, Step.STATEMENT):
            setattr(self, str(step), choice(value, YES_NO) == "yes")
        elif step in BUTTONS and step in _CLEARED_BY_SKIP:
            setattr(self, _CLEARED_BY_SKIP[step][0], choice(value, BUTTONS[step]))
        elif step is Step.PHOTOS and value in (SKIP, DONE):
            pass
        else:
            raise AnswerError("not_an_option")

    def type_in(self, step: Step, text: str, now: datetime | None = None) -> None:
        """Take a typed answer to `step`."""
        if step in _FREE_TEXT:
            setattr(self, _FREE_TEXT[step], free_text(text, LIMITS[step]))
        elif step is Step.WHEN:
            self.when = "typed"
            self.occurred_at = self._moment(text, None, now).isoformat()
        elif step is Step.WHEN_TIME:
            self._set_time(_clock(text), now)
        elif step is Step.PEOPLE:
            self.people = people_count(text)
        elif step is Step.VEHICLE:
            self.vehicle = free_text(text, VEHICLE_MAX)
            self.registration = registration_in(self.vehicle)
        elif step is Step.VALUE:
            self.value_pence = parse_value(text)
        elif step is Step.POLICE_REFERENCE:
            self.police_reference = police_reference(text)
        else:
            raise AnswerError("not_an_option")

    def add_photo(self, file_id: str) -> None:
        if len(self.photos) >= MAX_PHOTOS:
            raise AnswerError("too_many_photos")
        self.photos.append(file_id)

    def descriptors(self) -> Descriptors:
        return Descriptors(
            people_count=self.people,
            subject_sex=self.gender,
            subject_age=self.age,
            subject_height=self.height,
            subject_build=self.build,
            subject_hair=self.hair,
            subject_appearance=self.appearance if self.appearance_on else None,
            subject_clothing=self.clothing,
            subject_marks=self.marks,
            subject_name=self.name,
            vehicle=self.vehicle,
            vehicle_registration=self.registration,
            property_description=self.taken if self.asks_value else None,
            cctv_held=self.cctv,
            statement_willing=self.statement,
        )

    def report_fields(self) -> dict[str, Any]:
        """The report's columns as this draft fills them."""
        return {
            "description": self.description,
            "direction": self.direction,
            "value_pence": self.value_pence if self.asks_value else None,
            "police_reference": self.police_reference,
            **self.descriptors().columns(),
        }

    def changes_for(self, step: Step) -> dict[str, Any]:
        """The report's columns an answer to `step` sets, for a report already sent."""
        values = self.report_fields()
        changes = {name: values[name] for name in _SETS.get(step, ())}
        if changes.get("description", "") is None:  # a sent report keeps its words
            del changes["description"]
        return changes

    def _set_time(self, at: clock | None, now: datetime | None) -> None:
        """The time on the day the member chose; "Not sure" is midday, or now if earlier."""
        day = self.when if self.when in ("today", "yesterday") else "today"
        try:
            moment = self._moment(None, at or MIDDAY, now, day=day)
        except AnswerError:
            if at is not None:
                raise
            moment = (now or datetime.now(UTC)).astimezone(UTC)  # today, not sure: now
        self.occurred_at = moment.isoformat()

    def _moment(
        self, text: str | None, at: clock | None, now: datetime | None, *, day: str | None = None
    ) -> datetime:
        """A moment the member named, in the scheme's time, as UTC; never ahead, never ancient."""
        tz = ZoneInfo(self.timezone)
        current = (now or datetime.now(UTC)).astimezone(tz)
        on: date = current.date()
        if day == "yesterday":
            on = on - timedelta(days=1)
        if text is not None:
            on, at = _day_and_time(text, current)
        assert at is not None
        moment = datetime.combine(on, at, tzinfo=tz)
        if moment > current + LEEWAY:
            raise AnswerError("in_future")
        if current - moment > OLDEST:
            raise AnswerError("too_old")
        return moment.astimezone(UTC)


def _day_and_time(text: str, current: datetime) -> tuple[date, clock]:
    """ "14:30", "yesterday 2pm", "28/11 14:30", "28/11/2026" (midday) as a day and a time."""
    words = text.strip().lower().replace(",", " ").replace(" at ", " ").split()
    on = current.date()
    if words and words[0] in ("today", "yesterday"):
        if words.pop(0) == "yesterday":
            on -= timedelta(days=1)
    elif words and (found := _DATE.match(words[0])):
        words.pop(0)
        year = int(found["year"]) if found["year"] else current.year
        year += 2000 if year < 100 else 0
        try:
            on = date(year, int(found["month"]), int(found["day"]))
        except ValueError:
            raise AnswerError("not_a_time") from None
        if not found["year"] and on > current.date():
            on = on.replace(year=on.year - 1)  # 28/12 typed on 2 January
        if not words:
            return on, MIDDAY
    if len(words) != 1:
        raise AnswerError("not_a_time")
    return on, _clock(words[0])


def _clock(text: str) -> clock:
    found = _TIME.match(text.strip().replace(" ", ""))
    if found is None:
        raise AnswerError("not_a_time")
    hour, minute = int(found["hour"]), int(found["minute"] or 0)
    half = (found["half"] or "").lower()
    if half:
        if not 1 <= hour <= 12:
            raise AnswerError("not_a_time")
        hour = hour % 12 + (12 if half == "pm" else 0)
    elif found["minute"] is None:
        raise AnswerError("not_a_time")  # "14" alone could be anything
    if hour > 23 or minute > 59:
        raise AnswerError("not_a_time")
    return clock(hour, minute)


def choice(value: str, allowed: tuple[str, ...]) -> str:
    """A button's value, checked against what that question offers."""
    if value not in tuple(str(v) for v in allowed):
        raise AnswerError("not_an_option")
    return value


def free_text(text: str, limit: int) -> str:
    """A typed answer, tidied: one line per line, no run of blanks, within `limit`."""
    lines = [" ".join(line.split()) for line in text.strip().splitlines()]
    tidy = "\n".join(line for line in lines if line)
    if text_problem(tidy) == "empty":  # zero-width characters alone show nothing
        raise AnswerError("empty")
    if len(tidy) > limit:
        raise AnswerError("too_long")
    return tidy


def people_count(text: str) -> int:
    cleaned = text.strip().rstrip("+")
    if not cleaned.isdigit() or not 1 <= int(cleaned) <= descriptors.MAX_PEOPLE:
        raise AnswerError("not_a_number")
    return int(cleaned)


def parse_value(text: str) -> int:
    """Pounds as a person types them ("£60", "60", "60.50", "£1,200") into pence."""
    cleaned = text.strip().replace(" ", "")
    match = _POUNDS.match(cleaned)
    if match is None:
        raise AnswerError("not_an_amount")
    try:
        pounds = Decimal(match["amount"].replace(",", ""))
    except InvalidOperation:  # pragma: no cover - the pattern admits digits only
        raise AnswerError("not_an_amount") from None
    pence = int(pounds * 100) + int((match["pence"] or "0").ljust(2, "0"))
    if pence > MAX_VALUE_PENCE:
        raise AnswerError("too_much")
    return pence


def police_reference(text: str) -> str:
    """The code in the member's answer ("ref is 36/12345/26" is 36/12345/26), else the answer."""
    reference = police_reference_in(text, expected=True) or " ".join(text.split())
    if not reference:
        raise AnswerError("empty")
    if len(reference) > POLICE_REFERENCE_MAX:
        raise AnswerError("too_long")
    if not _POLICE_REFERENCE.match(reference):
        raise AnswerError("not_a_reference")
    return reference
