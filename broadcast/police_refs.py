"""Police references in what the control room types: "ref 36/12345/26", "CAD 1234".

The police hand out several kinds of number and operators type them as they
come: a crime number ("36/12345/26", "20BE/123456A/26"), an incident or CAD log
("CAD 1234/02DEC26", "NC-02122026-0123", "log 123 of 02/12/2026"), an Action
Fraud reference ("NFRC2612012345"). A reply is taken as a reference when a
label says so ("police ref is NC 0212 2026", "crime no. 36/12345/26") and a
reference-shaped code follows it; the label's own words ("is", "from PC Smith")
are not part of the code. A reply with no label is taken only when the whole
reply is a code and one is expected (the control room has just said "Police
informed"); anything else is conversation and is left alone.
"""

from __future__ import annotations

import re

MAX_REFERENCE = 60
"""A police or CAD reference is a short code; anything longer is a message, not a reference."""

_LABEL = re.compile(
    r"(?<![\w/])(?:(?P<kind>police|crime|incident|cad|log|occurrence|action fraud|af|urn)"
    r"(?:\s+(?:ref(?:erence)?|number|num|no)\b\.?)?|ref(?:erence)?\b\.?)"
    r"(?:\s+(?:number|num|no)\b\.?)?"
    r"(?:\s*(?:is|was|=|:|#|-|–)(?=[\s\d:#=]))*\s*[:#=]?\s*",
    re.IGNORECASE,
)

_SHAPES = (
    r"NFRC\d{8,14}",  # Action Fraud
    r"\d{1,2}[A-Z]{0,2}/\d{3,8}[A-Z]?/\d{2,4}",  # crime number: 36/12345/26, 20BE/123456A/26
    r"\d{2,5}/\d{1,2}[A-Z]{3}\d{2,4}",  # Met CAD: 1234/02DEC26
    r"\d{1,6} of \d{1,2}/\d{1,2}/\d{2,4}",  # log 123 of 02/12/2026
    r"[A-Z]{1,4}[- ]?\d{2,}(?:[- /]\d{2,}){0,3}",  # NC 0212 2026, NC-02122026-0123, CF012345
    r"\d{2,}(?:[- /]\d{2,}){0,3}",  # 4123456/26, 26000123456, 0212 2026
)
_CODE = re.compile(r"(?:" + "|".join(_SHAPES) + r")(?![\w/])", re.IGNORECASE)
_WHOLE = re.compile(r"\s*(?:" + "|".join(_SHAPES) + r")\s*[.!]?\s*", re.IGNORECASE)
_DISTINCT = re.compile(r"\d[/-]|[A-Z]{2}\s?\d|\d{6,}", re.IGNORECASE)
"""A bare code must look like one (a slash, letters before digits, or a long number),
so "2" or "10 mins" is never taken for a reference."""

_KEEP_LABEL = {"cad": "CAD", "log": "Log", "incident": "Incident", "occurrence": "Occurrence"}
"""A short bare number means nothing without its kind, so those kinds stay in front."""


def _tidy(code: str) -> str:
    return " ".join(code.split()).upper().replace(" OF ", " of ")


def police_reference_in(text: str, *, expected: bool = False) -> str | None:
    """The reference in an operator's reply, or None if the reply is not one.

    `expected`: the control room has just said Police informed, so a reply that is
    nothing but a reference-shaped code is taken without a label.
    """
    text = " ".join(text.replace("’", "'").split())
    for label in _LABEL.finditer(text):
        code = _CODE.match(text, label.end())
        if code is None or not any(ch.isdigit() for ch in code.group()):
            continue
        reference = _tidy(code.group())
        kind = (label.group("kind") or "").lower()
        if kind in _KEEP_LABEL and reference.isdigit() and len(reference) < 6:
            reference = f"{_KEEP_LABEL[kind]} {reference}"
        return reference if len(reference) <= MAX_REFERENCE else None
    if expected and _WHOLE.fullmatch(text) and _DISTINCT.search(text):
        reference = _tidy(text.rstrip(".! "))
        return reference if len(reference) <= MAX_REFERENCE else None
    return None
