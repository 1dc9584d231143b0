"""The guided /report: one question per message, answered with a tap where a tap will do."""

from __future__ import annotations

from collections.abc import Iterable

from broadcast.texts.formats import money

Options = tuple[tuple[str, str], ...]

REPORT_URGENCIES: Options = (
    ("now", "Happening now – alert everyone"),
    ("log", "Already over – log it only"),
)
REPORT_WHENS: Options = (
    ("now", "Just now"),
    ("today", "Earlier today"),
    ("yesterday", "Yesterday"),
)
REPORT_PARTS_OF_DAY: Options = (
    ("morning", "Morning"),
    ("afternoon", "Afternoon"),
    ("evening", "Evening"),
)
REPORT_PEOPLE: Options = tuple((str(n), str(n)) for n in range(1, 6))
REPORT_GENDERS: Options = (("male", "Male"), ("female", "Female"))
REPORT_AGES: Options = (
    ("under18", "Under 18"),
    ("18-25", "18–25"),
    ("25-40", "25–40"),
    ("40-60", "40–60"),
    ("over60", "Over 60"),
)
REPORT_HEIGHTS: Options = (
    ("short", "Short (under 5′6″)"),
    ("average", "Average (5′6″–6′)"),
    ("tall", "Tall (over 6′)"),
)
REPORT_BUILDS: Options = (
    ("slim", "Slim"),
    ("medium", "Medium"),
    ("heavy", "Heavy"),
    ("muscular", "Muscular"),
)
REPORT_HAIR: Options = (
    ("dark", "Dark"),
    ("brown", "Brown"),
    ("fair", "Fair or blond"),
    ("ginger", "Ginger"),
    ("grey", "Grey or white"),
    ("bald", "Bald or shaved"),
)
REPORT_APPEARANCES: Options = (
    ("ic1", "IC1 White – northern European"),
    ("ic2", "IC2 White – southern European"),
    ("ic3", "IC3 Black"),
    ("ic4", "IC4 South Asian"),
    ("ic5", "IC5 East Asian"),
    ("ic6", "IC6 Arab or North African"),
)
REPORT_YES_NO: Options = (("yes", "Yes"), ("no", "No"))

REPORT_BUTTON_SKIP = "Skip"
REPORT_BUTTON_NOT_SURE = "Not sure"
REPORT_BUTTON_DONE = "Done"
REPORT_BUTTON_SEND = "Send"
REPORT_BUTTON_CANCEL = "Cancel"
REPORT_BUTTON_FINISH = "Finish"

REPORT_ASK_CATEGORY = "New report. What happened?"
REPORT_ASK_URGENCY = "Is it happening now?"
REPORT_ASK_WHEN = (
    "When did it happen?\nOr type the time, like 14:30, yesterday 15:00 or 28/11 14:00."
)
REPORT_ASK_WHEN_TIME = "About what time? Type it like 14:30, or choose:"
REPORT_ASK_DESCRIPTION = (
    "In a line or two, what happened?\n"
    "For example: took two bottles of gin from the front display and walked out."
)
REPORT_ASK_PEOPLE = "How many people were involved? More than 5: type the number."
REPORT_ASK_GENDER = "Now the person. Male or female?"
REPORT_ASK_AGE = "About how old?"
REPORT_ASK_HEIGHT = "How tall?"
REPORT_ASK_BUILD = "What build?"
REPORT_ASK_HAIR = "Their hair? Choose, or type it (e.g. long, black, in a ponytail)."
REPORT_ASK_APPEARANCE = "Their appearance, as the police code it?"
REPORT_ASK_CLOTHING = (
    "What were they wearing? A few words will do.\n"
    "For example: grey hoodie, black cap, blue jeans, red rucksack."
)
REPORT_ASK_MARKS = (
    "Anything distinctive? Tattoos, scars, glasses, a limp, an accent.\n"
    "For example: spider-web tattoo on the neck."
)
REPORT_ASK_NAME = "Do you know a name or a nickname they go by? Type it here."
REPORT_ASK_DIRECTION = (
    "Which way did they go?\nFor example: towards Market St, into the Castle Quarter."
)
REPORT_ASK_VEHICLE = (
    "Was there a vehicle? Type what it was and its registration.\n"
    "For example: silver Ford Focus, AB12 CDE."
)
REPORT_ASK_PROPERTY = "What was taken or damaged?\nFor example: 2 bottles of Gordon's gin."
REPORT_ASK_VALUE = "What was the value of what was lost, in pounds?\nFor example: £60 or 60.50."
REPORT_ASK_CCTV = "Does your shop have CCTV of it?"
REPORT_ASK_STATEMENT = "Would you give the police a statement if they asked?"
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
REPORT_OLD_BUTTON = "That button belongs to an earlier question: nothing changed."
REPORT_NOT_STORED = (
    "Sorry, your report could not be stored, so nobody has been alerted. Please press "
    "Send again in a minute; if it is urgent, use the radio."
)
REPORT_NOT_SENT_YET = (
    "Sorry, your alert could not be stored, so nobody has been alerted yet. Please answer "
    "again in a minute; if it is urgent, use the radio."
)
REPORT_KEEP_ASKING = (
    "A few more questions, each one skippable: every answer goes onto every copy of your "
    "alert at once. Press Finish whenever you have said enough."
)
REPORT_NOT_UPDATED = (
    "Sorry, that answer could not be added to your alert just now. Please answer again."
)
REPORT_ASK_MORE_PHOTOS = (
    "Any more photos (a CCTV still, a picture from your phone)? Send them here: each one "
    "goes under every copy of your alert. Then press Done."
)
REPORT_PHOTO_NOT_ADDED = (
    "Sorry, that photo could not be added to your alert just now. Please send it again."
)


def report_photo_under_copies(report_id: int) -> str:
    """A photo for a live alert already out: it follows each copy as a message of its own."""
    return f"Photo added to Report #{report_id}: it is going under every copy of your alert."


def report_photo_already_on(report_id: int) -> str:
    return f"That photo is on Report #{report_id} already."


def report_finished(report_id: int) -> str:
    """A live report's last answer given (or Finish pressed): its alert stays as it is."""
    return f"Thank you. Report #{report_id} is complete: every copy shows what you added."


def report_closed_meanwhile(report_id: int) -> str:
    return (
        f"Report #{report_id} was withdrawn meanwhile, so the questions stop here; "
        "nothing more was added."
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
    "not_a_time": "Please type a time like 14:30 or 2pm, with a day if not today: 28/11 14:30.",
    "in_future": "That time is still to come: please check it.",
    "too_old": "That is more than a year ago: please report what happened in the past year.",
    "not_a_number": "Please type the number of people, like 6.",
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


ANSWER_LABELS = {
    "description": "What happened",
    "direction": "Went",
    "value_pence": "Value",
    "police_reference": "Police reference",
    "people_count": "People",
    "subject_sex": "Sex",
    "subject_age": "Age",
    "subject_height": "Height",
    "subject_build": "Build",
    "subject_hair": "Hair",
    "subject_appearance": "Appearance",
    "subject_clothing": "Clothing",
    "subject_marks": "Distinguishing marks",
    "subject_name": "Name or alias",
    "vehicle": "Vehicle",
    "vehicle_registration": "Registration",
    "property_description": "Taken",
    "cctv_held": "CCTV held",
    "statement_willing": "Will give a statement",
}
"""A guided report's answers as its timeline names them, column by column."""
ANSWER_OPTIONS: dict[str, Options] = {
    "subject_sex": REPORT_GENDERS,
    "subject_age": REPORT_AGES,
    "subject_height": REPORT_HEIGHTS,
    "subject_build": REPORT_BUILDS,
    "subject_hair": REPORT_HAIR,
    "subject_appearance": REPORT_APPEARANCES,
}
"""The answers given with a button, whose stored values read as the button's label."""
ANSWER_NOT_SAID = "–"


def answer_line(answers: Iterable[tuple[str, str]]) -> str:
    """ "Build: Slim; Distinguishing marks: spider-web tattoo", from (label, value) pairs."""
    return "; ".join(f"{label}: {value}" for label, value in answers)


_HEIGHT_WORDS = {"short": "short", "average": "average height", "tall": "tall"}


def subject_line(
    *,
    people: int | None,
    sex: str | None,
    age: str | None,
    height: str | None,
    build: str | None,
    hair: str | None,
    appearance: str | None,
    clothing: str | None,
    marks: str | None,
    name: str | None,
    vehicle: str | None,
    registration: str | None,
) -> str | None:
    """The people as a card and the record's subject line show them, compactly:
    "2 people: Male, 25-40, tall, slim build, dark hair, grey hoodie; marks: neck tattoo"."""
    hair_words = None
    if hair:
        label = report_label(REPORT_HAIR, hair)
        hair_words = f"{label.lower()} hair" if label and hair != "bald" else label or hair
    person = [
        report_label(REPORT_GENDERS, sex),
        report_label(REPORT_AGES, age),
        _HEIGHT_WORDS.get(height or ""),
        f"{build} build" if build else None,
        hair_words,
        (appearance or "").upper() or None,
        clothing,
    ]
    line = ", ".join(part for part in person if part)
    extra = [
        f"marks: {marks}" if marks else None,
        f"known as {name}" if name else None,
    ]
    if vehicle:
        shown = vehicle
        if registration and registration not in vehicle:  # typed "ab12cde": shown as plates are
            shown = f"{vehicle} ({registration})"
        extra.append(f"vehicle: {shown}")
    body = "; ".join(part for part in (line, *extra) if part)
    if people is not None and people > 1:
        return f"{people} people: {body}" if body else f"{people} people"
    return body or None


def _yes_no(value: bool | None, yes: str, no: str) -> str:
    return "–" if value is None else yes if value else no


def report_summary(
    *,
    what: str,
    urgency: str,
    when: str | None,
    description: str | None,
    subject: str | None,
    direction: str | None,
    taken: str | None,
    value_pence: int | None,
    cctv: bool | None,
    statement: bool | None,
    police_reference: str | None,
    photos: int,
) -> str:
    lines = [
        "Please check your report:",
        "",
        f"What: {what}",
    ]
    if when:
        lines.append(f"When: {when}")
    lines += [
        f"Details: {description or '–'}",
        f"Person: {subject or '–'}",
        f"Went: {direction or '–'}",
    ]
    if taken:
        lines.append(f"Taken: {taken}")
    if value_pence is not None:
        lines.append(f"Value: {money(value_pence)}")
    lines.append(f"CCTV: {_yes_no(cctv, 'held', 'none')}")
    lines.append(f"Statement: {_yes_no(statement, 'willing', 'no')}")
    lines.append(f"Police reference: {police_reference or '–'}")
    lines.append(f"Photos: {photos or 'none'}")
    lines.append("")
    if urgency == "now":
        lines.append("Pressing Send alerts every member shop and the control room now.")
    else:
        lines.append("Pressing Send keeps it in the scheme's log; nobody is alerted.")
    return "\n".join(lines)
