"""The 3x5x2 grading of a report for the police (/grade)."""

from __future__ import annotations

GRADE_USAGE = (
    "To grade a report for the police: /grade followed by its number, e.g. /grade 123.\n"
    "To state conditions for sharing (handling code C): "
    "/grade 123 conditions followed by the conditions."
)


GRADE_SOURCE_LABELS = {"1": "1 reliable", "2": "2 untested", "3": "3 not reliable"}


GRADE_ASSESSMENT_LABELS = {"A": "A", "B": "B", "C": "C", "D": "D", "E": "E"}


GRADE_HANDLING_LABELS = {"P": "P sharing permitted", "C": "C with conditions"}


GRADE_CHOSEN = "✓ "


_GRADE_BASIS = {
    "coordinator": "set by a coordinator",
    "cctv_confirmed": "default: confirmed on CCTV",
    "member_witness": "default: a member's own sighting",
    "radio_call": "default: a radio call",
    "neighbouring_scheme": "default: from a neighbouring scheme",
    "withdrawn": "withdrawn by the reporting member",
}


def grade_not_found(number: str) -> str:
    return f"There is no report {number} in your scheme's log."


def grade_card(
    report_id: int,
    *,
    category: str,
    logged: str,
    description: str,
    code: str,
    basis: str,
    conditions: str | None,
) -> str:
    shortened = description if len(description) <= 200 else description[:197] + "…"
    lines = [
        f"Report {report_id} · {category} · {logged}",
        shortened,
        "",
        f"Grading now: {code} ({_GRADE_BASIS.get(basis, basis)})",
    ]
    if conditions:
        lines.append(f"Conditions: {conditions}")
    lines += [
        "",
        "Source: 1 reliable, 2 untested, 3 not reliable.",
        "Intelligence: A known directly, B known indirectly but corroborated, "
        "C known indirectly, D not known, E suspected to be false.",
        "Handling: P lawful sharing permitted, C permitted with conditions.",
    ]
    return "\n".join(lines)


def grade_saved(code: str) -> str:
    return f"Graded {code}."


def grade_conditions_needed(report_id: int) -> str:
    return (
        f"Handling code C needs its conditions. Send /grade {report_id} conditions "
        "followed by them, e.g. “share only with Norfolk Constabulary”."
    )
