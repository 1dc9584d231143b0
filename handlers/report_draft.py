"""The guided report's draft: what a member has answered so far, and the rules for each answer.

Kept free of Telegram so the rules can be read (and tested) on their own. The
draft lives in the member's `user_data` between messages, which the bot keeps in
the database, so it is plain JSON: photos are Telegram file ids, fetched only
when the report is sent.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import asdict, dataclass, field, fields
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any

from broadcast.alerts import text_problem
from broadcast.police_refs import police_reference_in
from config.schemes import Category, Urgency

USER_DATA_KEY = "report"

DESCRIPTION_MAX = 1000
CLOTHING_MAX = 300
DIRECTION_MAX = 200
POLICE_REFERENCE_MAX = 40
MAX_PHOTOS = 10  # Telegram's album limit: the alert shows them all at once
MAX_VALUE_PENCE = 10_000_000  # £100,000: beyond that it is a typing slip, not a shoplifter

GENDERS = ("male", "female")
AGE_RANGES = ("under18", "18-25", "25-40", "40-60", "over60")

# Losses only make sense where something was taken or broken.
VALUED_CATEGORIES = frozenset({Category.THEFT, Category.FRAUD, Category.DAMAGE, Category.OTHER})

_POUNDS = re.compile(r"^£?\s*(?P<amount>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<pence>\d{1,2}))?$")
_POLICE_REFERENCE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9/ .-]*$")


class Step(StrEnum):
    """The questions, in order; the value is the conversation state kept in the database."""

    CATEGORY = "category"
    URGENCY = "urgency"
    DESCRIPTION = "description"
    GENDER = "gender"
    AGE = "age"
    CLOTHING = "clothing"
    DIRECTION = "direction"
    VALUE = "value"
    POLICE_REFERENCE = "police_reference"
    PHOTOS = "photos"
    SUMMARY = "summary"


ORDER = tuple(Step)
SKIP = "skip"
DONE = "done"
SEND = "send"
CANCEL = "cancel"


class AnswerError(ValueError):
    """An answer that cannot be taken; its `reason` names a sentence of `texts.report`."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Draft:
    """One member's report in progress.

    `token` ties the buttons on screen to this draft, so a button left over from an
    earlier, abandoned report cannot answer this one. `touched` (epoch seconds) lets
    a conversation restored after a restart, when no timeout job was running for it,
    still expire on time. `asked` is the question on screen, whose buttons go when
    it is answered.
    """

    token: str = field(default_factory=lambda: secrets.token_urlsafe(6))
    touched: float = field(default_factory=time.time)
    asked: int | None = None
    category: str | None = None
    urgency: str | None = None
    description: str | None = None
    gender: str | None = None
    age: str | None = None
    clothing: str | None = None
    direction: str | None = None
    value_pence: int | None = None
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
    def asks_value(self) -> bool:
        return self.category_value in VALUED_CATEGORIES

    def next_step(self, step: Step) -> Step:
        """The question after `step`; the value of a loss is asked only where one is likely."""
        following = ORDER[min(ORDER.index(step) + 1, len(ORDER) - 1)]
        if following is Step.VALUE and not self.asks_value:
            return self.next_step(following)
        return following

    def choose(self, step: Step, value: str) -> None:
        """Take a button's answer to `step`; `SKIP` leaves an optional answer empty."""
        if step is Step.CATEGORY:
            self.category = choice(value, Category)
            if not self.asks_value:
                self.value_pence = None
        elif step is Step.URGENCY:
            self.urgency = choice(value, Urgency)
        elif step is Step.GENDER:
            self.gender = None if value == SKIP else choice(value, GENDERS)
        elif step is Step.AGE:
            self.age = None if value == SKIP else choice(value, AGE_RANGES)
        elif step in TYPED_STEPS and value == SKIP:
            setattr(self, TYPED_STEPS[step], None)
        elif step is Step.PHOTOS and value in (SKIP, DONE):
            pass
        else:
            raise AnswerError("not_an_option")

    def type_in(self, step: Step, text: str) -> None:
        """Take a typed answer to `step`."""
        if step is Step.DESCRIPTION:
            self.description = free_text(text, DESCRIPTION_MAX)
        elif step is Step.CLOTHING:
            self.clothing = free_text(text, CLOTHING_MAX)
        elif step is Step.DIRECTION:
            self.direction = free_text(text, DIRECTION_MAX)
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


TYPED_STEPS = {
    Step.DESCRIPTION: "description",
    Step.CLOTHING: "clothing",
    Step.DIRECTION: "direction",
    Step.VALUE: "value_pence",
    Step.POLICE_REFERENCE: "police_reference",
}
"""Questions answered by typing, with the draft field each fills."""

LIMITS = {
    Step.DESCRIPTION: DESCRIPTION_MAX,
    Step.CLOTHING: CLOTHING_MAX,
    Step.DIRECTION: DIRECTION_MAX,
    Step.POLICE_REFERENCE: POLICE_REFERENCE_MAX,
}


def choice(value: str, allowed: tuple[str, ...] | type[Category] | type[Urgency]) -> str:
    """A button's value, checked against what that question offers."""
    options = tuple(str(v) for v in allowed)
    if value not in options:
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
