"""Search: /search and /show, their usage and their problems."""

from __future__ import annotations

SEARCH_USAGE = (
    "Search the log: send /search followed by words, filters, or both.\n"
    "\n"
    "Words find reports that mention every one of them; the start of a word is enough "
    "(hood finds hoodie).\n"
    "\n"
    "Filters:\n"
    "cat:theft – or suspicious, violence, asb, fraud, damage, other; several with commas\n"
    "since:7d – or 24h, 2w, today, yesterday, 2026-11-01\n"
    "from:2026-11-01 to:2026-11-15 – dates also as 01/11/2026\n"
    'shop:"Boots" · status:open (closed, withdrawn) · has:photo · ref:NC-1234\n'
    "\n"
    "Example: /search grey hoodie since:7d\n"
    "To open one report: /show followed by its number."
)


SHOW_USAGE = "Send /show followed by a report number, e.g. /show 1234."


SEARCH_ONLY_IN_PRIVATE = (
    "The log is private: please search it in a private chat with me, not in a group."
)


SEARCH_EXPIRED = "That search is no longer available. Please search again."


SEARCH_NEXT = "Next ›"


SEARCH_PREVIOUS = "‹ Previous"


SEARCH_PHOTOS_MISSING = "Some photos of this report are no longer kept."


_QUERY_PROBLEMS = {
    "too_long": "That search is too long: please keep it under {value} characters.",
    "too_many_words": "That is too many words for one search: please use at most {value}.",
    "word_too_long": "“{value}…” is too long to be a word in the log.",
    "empty": "Please say what to search for, e.g. /search grey hoodie since:7d",
    "missing_value": "{value} needs something after the colon, e.g. since:7d or cat:theft.",
    "bad_date": "I could not read the date in {value}. Please write it as 2026-11-01 or "
    "01/11/2026.",
    "range_reversed": "That date range ends before it starts.",
    "range_too_long": "Please search at most {value} at a time.",
    "repeated": "Please give {value} only once.",
    "since_and_from": "Please use since: or from:, not both.",
    "bad_cat": "“{value}” is not a category. Use theft, suspicious, violence, asb, fraud, "
    "damage or other.",
    "bad_status": "“{value}” is not a status. Use open, closed or withdrawn.",
    "bad_has": "has: can only be has:photo.",
    "bad_shop": "That shop name is too long.",
    "bad_ref": "“{value}” does not look like a police reference: letters, digits and "
    "dashes, e.g. ref:NC-1234.",
}


def search_problem(reason: str, value: str) -> str:
    problem = _QUERY_PROBLEMS.get(reason, "I could not understand that search.")
    return f"{problem.format(value=value)}\n\nSend /search on its own for help."


def report_not_found(number: int) -> str:
    return f"There is no report {number} that you can see."


def search_open_button(number: int) -> str:
    return f"Open {number}"


SEARCH_CATEGORY_NAMES = {
    "theft": "Theft",
    "suspicious": "Suspicious",
    "violence": "Violence or abuse to staff",
    "asb": "Anti-social behaviour",
    "fraud": "Fraud",
    "damage": "Damage",
    "other": "Other",
}
TIMELINE_KIND_NAMES = {
    "status": "status",
    "note": "note",
    "update": "update",
    "radio_call": "radio",
}
STAFF_ROLE_NAMES = {
    "operator": "control room",
    "coordinator": "coordinator",
    "police": "police",
    "admin": "administrator",
}
MEMBER_SHOP = "member shop"
NOT_A_MEMBER = "radio or another scheme"
"""Who reported or wrote an entry that no member of the scheme sent."""


def search_category_name(category: str) -> str:
    return SEARCH_CATEGORY_NAMES.get(category, category)


def no_more_results(query: str) -> str:
    return f"No more results for “{query}”."


def nothing_matches(query: str) -> str:
    return f"Nothing in the log matches “{query}”."


def nothing_of_yours_matches(query: str) -> str:
    """A member shop searches only the reports it sent."""
    return (
        f"Nothing in your own reports matches “{query}”. A member shop's search covers the "
        "reports it sent; the control room searches the whole log."
    )


def results_heading(query: str, first: int, last: int) -> str:
    return f"Search: {query}\nResults {first}–{last}, newest first:"


SEARCH_STATUS_NAMES = {
    "open": "open",
    "closed": "closed",
    "withdrawn": "WITHDRAWN",
}
"""How a result says where the report stands: a withdrawn one must not read as live."""
RESULT_WITHDRAWN = "Withdrawn: the member who sent it says it was the wrong person."


def result_line(
    number: int, when: str, category: str, status: str, *, who: str, photos: int
) -> str:
    shown = f" · {photos} photo{'s' if photos != 1 else ''}" if photos else ""
    state = SEARCH_STATUS_NAMES.get(status, status)
    return f"{number} · {when} · {search_category_name(category)} · {state} · {who}{shown}"


def card_heading(number: int, category: str, status: str) -> str:
    return f"Report {number} · {search_category_name(category)} · {status}"


def card_seen(seen: str, logged: str | None) -> str:
    """`logged`: when it reached the log, if much later than it was seen."""
    return f"Seen: {seen}" + (f" (logged {logged})" if logged else "")


def card_reported_by(who: str) -> str:
    return f"Reported by: {who}"


def card_where(where: str) -> str:
    return f"Where: {where}"


def card_police_reference(reference: str) -> str:
    return f"Police reference: {reference}"


def card_grading(code: str) -> str:
    return f"Grading: {code}"


def card_subject(subject: str) -> str:
    return f"Subject: {subject}"


def card_value(value: str) -> str:
    return f"Value: {value}"


def card_photos(count: int) -> str:
    return f"Photos: {count} (below)"


def timeline_entry(when: str, kind: str, status: str | None, who: str, text: str | None) -> str:
    called = f" {status.replace('_', ' ')}" if status else ""
    said = f": {text}" if text else ""
    return f"{when} · {TIMELINE_KIND_NAMES.get(kind, kind)}{called} · {who}{said}"


TIMELINE_HEADING = "Timeline:"
TIMELINE_EMPTY = "Timeline: nothing since it was reported."


def timeline_not_shown(count: int) -> str:
    return f"({count} earlier entries not shown)"
