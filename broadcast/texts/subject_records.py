"""What a coordinator reads answering a subject access request (/sar) or erasing a
subject (/erase) in their private chat."""

from __future__ import annotations

from datetime import date

from broadcast.texts.subjects import day

# --- /sar ------------------------------------------------------------------------------

SAR_USAGE = (
    "Send the subject's number: /sar 12 for a request received today, or "
    "/sar 12 received 02/12/2026 for one that arrived on another day."
)
SAR_FAILED = (
    "The bundle could not be made, and nothing was sent. Try again in a minute; the "
    "administrator can also make it with `shopwatch sar`."
)


def sar_bad_date(value: str) -> str:
    return (
        f"“{value}” is not a day I can read: write the day the request arrived as "
        "DD/MM/YYYY, e.g. /sar 12 received 02/12/2026."
    )


def sar_future(received: date) -> str:
    return (
        f"{day(received)} is after today: give the day the request arrived, "
        "e.g. /sar 12 received 02/12/2026."
    )


def sar_caption(summary: str) -> str:
    """The zip's caption: the bundle's one line of counts and its deadline."""
    return (
        f"{summary} Read it all before it goes to the person; this copy is not kept on "
        "the bot's server."
    )


def sar_erased(subject_id: int, when: str) -> str:
    return (
        f"Subject #{subject_id} was erased on {when} (a wrong identification): the scheme "
        "holds nothing about that person under that number but the record that it was "
        "erased, so there is no bundle to send. Nothing changed."
    )


def not_found(subject_id: int, scheme: str) -> str:
    return f"No Subject #{subject_id} in {scheme}: check the number on its card or in /gallery."


# --- /erase ----------------------------------------------------------------------------

ERASE_USAGE = (
    "Send the subject's number and why it is erased: "
    "/erase 12 wrong identification, it was his brother"
)
BUTTON_ERASE = "Erase"
BUTTON_CANCEL = "Cancel"
ERASE_LOST = (
    "That confirmation is no longer open (it was answered, or the bot restarted before "
    "it was): nothing changed. Send /erase again."
)


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number == 1 else many}"


def erase_confirm(  # noqa: PLR0917 - one sentence of counts
    subject_id: int, photos: int, reports: int, notices: int, intel: int, reason: str
) -> str:
    return (
        f"Erase Subject #{subject_id}? This removes it from galleries, notices and "
        "suggestions.\n\n"
        f"Goes for good: its record, {_count(photos, 'photo', 'photos')}, "
        f"{_count(notices, 'notice', 'notices')}, "
        f"{_count(intel, 'answer from members', 'answers from members')}, and its links to "
        f"{_count(reports, 'report', 'reports')} (the reports stay in the log).\n"
        f"Reason: {reason}\n"
        f"Kept: only a record that Subject #{subject_id} was erased, when, by whom and why."
    )


def erased(  # noqa: PLR0917 - one sentence of counts
    subject_id: int, photos: int, reports: int, notices: int, intel: int, reason: str
) -> str:
    return (
        f"Subject #{subject_id} is erased: gone from the galleries, with its record, "
        f"{_count(notices, 'notice', 'notices')}, its suggestions, "
        f"{_count(photos, 'photo', 'photos')} and "
        f"{_count(intel, 'answer from members', 'answers from members')}; "
        f"{_count(reports, 'report stays', 'reports stay')} in the log without it.\n"
        f"Reason: {reason}\n"
        f"A record of the erasure is kept (when, by whom and why), so a later request "
        f"about Subject #{subject_id} gets a true answer."
    )


def erase_kept(subject_id: int) -> str:
    return f"Subject #{subject_id} is kept: nothing changed."


def already_erased(subject_id: int, when: str) -> str:
    return f"Subject #{subject_id} was erased already on {when}: nothing changed."


def sar_too_large(subject_id: int, name: str) -> str:
    return (
        f"The bundle of Subject #{subject_id} ({name}) is larger than Telegram sends, and "
        "nothing was sent: ask the administrator to make it with `shopwatch sar`."
    )


def erased_short(subject_id: int) -> str:
    return f"Subject #{subject_id} erased."
