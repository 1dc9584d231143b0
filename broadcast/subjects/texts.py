"""What the people side of ShopWatch says: notice letters, reminders, the digest, SAR letters.

Kept apart from the code that decides, so the words can be read (and changed) in one place.
Dates are written out the British way ("2 December 2026").
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from storage.enums import NoticeStage


def day(value: date) -> str:
    """`2 December 2026`."""
    return f"{value.day} {value:%B %Y}"


def notice_reference(prefix: str, notice_id: int) -> str:
    """The notice's number on its letter: `NOR-N0007`."""
    return f"{prefix}-N{notice_id:04d}"


# --- the notice letter -------------------------------------------------------------------

LETTER_TITLES = {
    NoticeStage.WARNING: "Warning notice",
    NoticeStage.EXCLUSION: "Exclusion notice",
}


def letter_to(name: str, aliases: Sequence[str]) -> str:
    if aliases:
        return f"{name} (also known as {', '.join(aliases)})"
    return name


def letter_opening(stage: NoticeStage, scheme: str, starts: date, ends: date) -> str:
    if stage is NoticeStage.EXCLUSION:
        return (
            f"{scheme} has decided to exclude you from the premises of all its member "
            f"businesses listed below, from {day(starts)} until the end of {day(ends)}. "
            "During that time you must not enter any of them. If you do, staff may ask you "
            "to leave and you may be treated as a trespasser; the police may be called."
        )
    return (
        f"{scheme} is writing to warn you. Its member businesses have reported incidents "
        "involving you, listed below. This warning stands from "
        f"{day(starts)} until the end of {day(ends)}. If there are further incidents in "
        "that time, the scheme may exclude you from the premises of all its member "
        "businesses."
    )


def letter_decided(decided_by: str, board_ref: str | None) -> str:
    if board_ref:
        return f"{decided_by} (board decision {board_ref})"
    return decided_by


def letter_review(review: date, stage: NoticeStage) -> str:
    what = "exclusion" if stage is NoticeStage.EXCLUSION else "warning"
    return (
        f"The scheme will review this {what} on {day(review)}. If no incident involving "
        "you has been reported by then, it may end it early."
    )


LETTER_PREMISES = "Premises covered"
LETTER_NO_PREMISES = "All premises of the scheme's member businesses."
LETTER_INCIDENTS = "Incidents reported to the scheme"
LETTER_NO_INCIDENTS = "The incidents behind this notice are no longer held by the scheme."
LETTER_CONDITIONS = "Conditions"
LETTER_APPEAL = "How to appeal"
LETTER_ADDRESS = "Write to"
LETTER_SERVICE = "Service of this notice"
LETTER_SERVICE_BLANK = "Served on ______________________  by ______________________________"
LETTER_PRIVACY = "How the scheme uses information about you"
LETTER_FOOTER = "{scheme} · {reference} · page {page}"


def letter_served(served_on: date, how: str) -> str:
    return f"Served on {day(served_on)}: {how}."


def letter_incident(when: date, category: str, place: str | None) -> str:
    where = f", {place}" if place else ""
    return f"{day(when)}: {category}{where}"


# --- reminders to coordinators ------------------------------------------------------------


def reminder_review(reference: str, name: str, subject_id: int, review: date) -> str:
    return (
        f"Notice {reference} on {name} (Subject #{subject_id}) is due for review on "
        f"{day(review)}. If no incident has been linked to them since it began, the board "
        "may end it early."
    )


def reminder_expiry(reference: str, name: str, subject_id: int, ends: date) -> str:
    return (
        f"Notice {reference} on {name} (Subject #{subject_id}) ends on {day(ends)}. After "
        "that they are no longer excluded unless the board issues a new notice."
    )


# --- why a step was refused (the reason codes of InvalidInputError) -----------------------

PROBLEMS = {
    "notice_not_in_force": "notice {value} was withdrawn or overturned: there is nothing to serve",
    "letter_address_missing": (
        "the schemes file gives no address for appeals: set `address` under"
        " [scheme.subjects] (or [defaults.subjects]) for {value}"
    ),
    "served_how_missing": "say how the notice was served (e.g. 'by hand, PCSO Hale')",
    "served_before_issue": "{value} is before the notice was issued",
    "appeal_already_recorded": "an appeal against this notice is recorded already",
    "no_appeal": "no appeal against this notice is recorded",
    "appeal_already_decided": "the appeal against this notice is decided already",
    "decision_ref_missing": "give the board decision's reference",
    "varied_end_invalid": "a varied notice needs a new end after its start and before its old end",
    "reason_missing": "give the reason for the erasure (e.g. 'wrong identification')",
    "subject_erased": "subject {value} was erased",
}


def problem(reason: str, value: str | None) -> str:
    """A refusal in plain words; an unknown code is shown as it is."""
    return PROBLEMS.get(reason, reason).format(value=value or "")
