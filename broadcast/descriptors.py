"""What a member can say about the people and the incident beyond the description.

The guided report asks for each with buttons where they fit; each is kept in its
own column of the record, so the police export can sort and filter on them instead of
reading a sentence. The card and the search read them as one compact line, the
report's `subject_description`, made here from the fields whenever they change.

There is no field for religion, health or sexual orientation, and none will be
added: they are special-category data a ShopWatch scheme has no lawful need for.
The one appearance descriptor touching ethnicity (`subject_appearance`, the police's
IC codes) is refused unless the scheme's `[scheme.subjects] ethnicity_descriptor`
turns it on, the decision of its DPIA; it is off by default.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sqlmodel._compat import SQLModelConfig

from broadcast.texts import report as report_texts
from broadcast.texts.formats import money
from storage.models import DESCRIPTOR_COLUMNS, ReportDescriptors

SEXES = ("male", "female")
AGE_RANGES = ("under18", "18-25", "25-40", "40-60", "over60")
HEIGHTS = ("short", "average", "tall")
BUILDS = ("slim", "medium", "heavy", "muscular")
HAIR = ("dark", "brown", "fair", "ginger", "grey", "bald")
APPEARANCES = ("ic1", "ic2", "ic3", "ic4", "ic5", "ic6")
"""The police's identity codes, as officers read them over the radio."""

MAX_PEOPLE = 50

_REGISTRATION = re.compile(
    r"(?<![A-Z0-9])(?:"
    r"(?P<current>[A-Z]{2}[0-9]{2}) ?(?P<current_tail>[A-Z]{3})"  # AB12 CDE (2001 on)
    r"|(?P<prefix>[A-Z][0-9]{1,3}) ?(?P<prefix_tail>[A-Z]{3})"  # A123 BCD (1983-2001)
    r"|(?P<suffix>[A-Z]{3}) ?(?P<suffix_tail>[0-9]{1,3}[A-Z])"  # ABC 123D (1963-1983)
    r")(?![A-Z0-9])",
    re.IGNORECASE,
)


class Descriptors(ReportDescriptors):
    """The structured answers, named as the report's columns; None is "not said".

    The fields are the report's own (`storage.models.ReportDescriptors`), declared
    once: the draft, the card and the export cannot disagree with the record about
    which answers there are. Frozen: a set of answers is a value, changed by a new one.
    """

    model_config = SQLModelConfig(frozen=True)

    def columns(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in DESCRIPTOR_COLUMNS}


FIELDS = frozenset(DESCRIPTOR_COLUMNS)


_ANSWER = re.compile(r"^(?P<name>[a-z_]+): (?P<value>.*)$", re.DOTALL)


def _shown(name: str, value: object) -> str:
    """One stored answer as the member chose it: the button's label, yes/no, pounds."""
    if value is None:
        return report_texts.ANSWER_NOT_SAID
    if isinstance(value, bool):
        return "yes" if value else "no"
    if name == "value_pence" and isinstance(value, int):
        return money(value)
    label = report_texts.report_label(report_texts.ANSWER_OPTIONS.get(name, ()), str(value))
    return label or str(value)


def described(changes: Mapping[str, Any]) -> str:
    """A guided report's later answers as its timeline keeps them, in plain words from
    `texts.report.ANSWER_LABELS`: "Build: Slim; Distinguishing marks: neck tattoo"."""
    return report_texts.answer_line(
        (report_texts.ANSWER_LABELS.get(name, name), _shown(name, value))
        for name, value in changes.items()
    )


def readable(text: str) -> str:
    """An answer line stored before the timeline spoke plain words ("subject_age: 25-40;
    cctv_held: True") in today's words; any other text as it is.

    Typed answers may hold "; " themselves, so a piece that does not start with a
    column's name belongs to the answer before it.
    """
    pairs: list[list[str]] = []
    for piece in text.split("; "):
        found = _ANSWER.match(piece)
        if found and found["name"] in report_texts.ANSWER_LABELS:
            pairs.append([found["name"], found["value"]])
        elif pairs:
            pairs[-1][1] += f"; {piece}"
        else:
            return text
    return described({name: _stored(name, value) for name, value in pairs})


def _stored(name: str, value: str) -> object:
    """A value as the old line wrote it (`str()` of the column) back as the column holds it."""
    if value == report_texts.ANSWER_NOT_SAID:
        return None
    if value in ("True", "False") and name in ("cctv_held", "statement_willing"):
        return value == "True"
    if name == "value_pence" and value.isdigit():
        return int(value)
    return value


def registration_in(text: str) -> str | None:
    """A UK number plate in "silver Ford Focus ab12cde", written as plates are: AB12 CDE."""
    found = _REGISTRATION.search(text)
    if found is None:
        return None
    for head, tail in (("current", "current_tail"), ("prefix", "prefix_tail")):
        if found[head]:
            return f"{found[head]} {found[tail]}".upper()
    return f"{found['suffix']} {found['suffix_tail']}".upper()


def subject_summary(values: dict[str, Any]) -> str | None:
    """The compact line for `subject_description`, from the report's descriptor columns."""
    return report_texts.subject_line(
        people=values.get("people_count"),
        sex=values.get("subject_sex"),
        age=values.get("subject_age"),
        height=values.get("subject_height"),
        build=values.get("subject_build"),
        hair=values.get("subject_hair"),
        appearance=values.get("subject_appearance"),
        clothing=values.get("subject_clothing"),
        marks=values.get("subject_marks"),
        name=values.get("subject_name"),
        vehicle=values.get("vehicle"),
        registration=values.get("vehicle_registration"),
    )
