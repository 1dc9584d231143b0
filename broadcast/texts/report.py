"""The guided /report: one question per message, answered with a tap where a tap will do."""

from __future__ import annotations

from collections.abc import Iterable

from broadcast.texts.formats import money

REPORT_URGENCIES: tuple[tuple[str, str], ...] = (
    ("now", "Happening now – alert everyone"),
    ("log", "Already over – log it only"),
)


REPORT_GENDERS: tuple[tuple[str, str], ...] = (("male", "Male"), ("female", "Female"))


REPORT_AGES: tuple[tuple[str, str], ...] = (
    ("under18", "Under 18"),
    ("18-25", "18–25"),
    ("25-40", "25–40"),
    ("40-60", "40–60"),
    ("over60", "Over 60"),
)


REPORT_BUTTON_SKIP = "Skip"


REPORT_BUTTON_NOT_SURE = "Not sure"


REPORT_BUTTON_DONE = "Done"


REPORT_BUTTON_SEND = "Send"


REPORT_BUTTON_CANCEL = "Cancel"


REPORT_ASK_CATEGORY = "New report. What happened?"


REPORT_ASK_URGENCY = "Is it happening now?"


REPORT_ASK_DESCRIPTION = (
    "In a line or two, what happened?\n"
    "For example: took two bottles of gin from the front display and walked out."
)


REPORT_ASK_GENDER = "Now the person. Male or female?"


REPORT_ASK_AGE = "About how old?"


REPORT_ASK_CLOTHING = (
    "What were they wearing? A few words will do.\n"
    "For example: grey hoodie, black cap, blue jeans, red rucksack."
)


REPORT_ASK_DIRECTION = (
    "Which way did they go?\nFor example: towards Market St, into the Castle Quarter."
)


REPORT_ASK_VALUE = "What was the value of what was lost, in pounds?\nFor example: £60 or 60.50."


REPORT_ASK_POLICE_REFERENCE = "Have the police given you a reference number? Type it here."


REPORT_ASK_PHOTOS = (
    "Any photos (a CCTV still, a picture from your phone)? Send them here, as many as "
    "you need, then press Done."
)


REPORT_USE_BUTTONS = "Please choose one of the buttons under the question."


REPORT_SEND_PHOTO = "Please send a photo, or press Done."


REPORT_CANCELLED = "Report cancelled. Nothing was stored or sent."


REPORT_TIMED_OUT = (
    "Your report was closed after 20 minutes without an answer. Nothing was stored or "
    "sent: send /report to start again."
)


REPORT_LOST = "Sorry, your report in progress was lost. Please send /report to start again."


REPORT_OLD_BUTTON = "That button belongs to an earlier question."


REPORT_NOT_STORED = (
    "Sorry, your report could not be stored, so nobody has been alerted. Please press "
    "Send again in a minute; if it is urgent, use the radio."
)


def report_logged(report_id: int) -> str:
    """The member's confirmation of a log-only report: sent only once it is in the log."""
    return (
        f"Report #{report_id} logged. It is in the scheme's log for the coordinator and "
        "the police; nobody was alerted."
    )


_REPORT_ANSWER_PROBLEMS = {
    "not_an_option": REPORT_USE_BUTTONS,
    "empty": "Please type your answer, or press Skip.",
    "not_an_amount": "Please type the amount in pounds, like £60 or 60.50.",
    "too_much": "That is more than £100,000: please check the amount.",
    "not_a_reference": (
        "A police reference has only letters, numbers, spaces, / and -: please check it."
    ),
}


def report_answer_problem(reason: str, limit: int | None = None) -> str:
    """Why an answer was not taken; the question follows again."""
    if reason == "too_long":
        return f"That is too long: please keep it under {limit} characters."
    return _REPORT_ANSWER_PROBLEMS.get(reason, REPORT_USE_BUTTONS)


def report_answered(question: str, answer: str) -> str:
    """A question once answered, as it stays in the chat."""
    return f"{question}\n→ {answer}"


def report_photo_added(count: int, limit: int) -> str:
    if count >= limit:
        return f"Photo {count} added. That is the most one report can carry: press Done."
    return f"Photo {count} added. Send another, or press Done."


def report_photo_kept(count: int) -> str:
    """A photo sent while another question is on screen: it goes with the report all the same."""
    return f"Photo {count} added to your report."


def report_too_many_photos(limit: int) -> str:
    return f"A report can carry {limit} photos at most; that one was not added."


def report_label(options: Iterable[tuple[str, str]], value: str | None) -> str | None:
    return dict(options).get(value) if value is not None else None


def subject_description(gender: str | None, age: str | None, clothing: str | None) -> str | None:
    """The person as the log and the alert describe them: "Male, 25-40, grey hoodie"."""
    parts = [
        report_label(REPORT_GENDERS, gender),
        report_label(REPORT_AGES, age),
        clothing,
    ]
    present = [part for part in parts if part]
    return ", ".join(present) if present else None


def report_summary(
    *,
    what: str,
    urgency: str,
    description: str | None,
    subject: str | None,
    direction: str | None,
    value_pence: int | None,
    police_reference: str | None,
    photos: int,
) -> str:
    lines = [
        "Please check your report:",
        "",
        f"What: {what}",
        f"Details: {description or '–'}",
        f"Person: {subject or '–'}",
        f"Went: {direction or '–'}",
    ]
    if value_pence is not None:
        lines.append(f"Value: {money(value_pence)}")
    lines.append(f"Police reference: {police_reference or '–'}")
    lines.append(f"Photos: {photos or 'none'}")
    lines.append("")
    if urgency == "now":
        lines.append("Pressing Send alerts every member shop and the control room now.")
    else:
        lines.append("Pressing Send keeps it in the scheme's log; nobody is alerted.")
    return "\n".join(lines)
