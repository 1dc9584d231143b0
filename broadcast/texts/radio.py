"""Radio: what is said on air, and the radio's messages in the chat."""

from __future__ import annotations

RADIO_CATEGORIES = {
    "theft": "Theft",
    "suspicious": "Suspicious behaviour",
    "violence": "Violence or abuse to staff",
    "asb": "Anti-social behaviour",
    "fraud": "Fraud",
    "damage": "Criminal damage",
    "other": "Incident",
}


RADIO_STATUSES = {
    "detained": "detained",
    "stood_down": "stood down",
    "lost": "lost, last seen on camera",
    "police_informed": "police informed",
}


def radio_alert(
    town: str,
    category: str,
    *,
    who: str | None,
    where: str | None,
    heading: str | None,
    report_id: int,
) -> str:
    """The alert as read on air: town, what, who, where and which way, then the number."""
    parts = [f"ShopWatch alert, {town}.", f"{RADIO_CATEGORIES.get(category, 'Incident')}."]
    if who:
        parts.append(f"{who}.")
    if where:
        parts.append(f"At {where}.")
    if heading:
        parts.append(f"Heading {heading}.")
    parts.append(f"Report {report_id}.")
    return " ".join(parts)


def radio_status(town: str, report_id: int, status: str) -> str:
    return f"ShopWatch {town}, report {report_id}: {RADIO_STATUSES.get(status, status)}."


def radio_call_caption(speaker: str, seconds: float, transcript: str, report_id: int) -> str:
    heard = transcript or "(no words recognised)"
    return f"Radio call from {speaker} ({seconds:.0f} s), logged as report #{report_id}:\n{heard}"


def radio_text_caption(speaker: str, text: str, report_id: int) -> str:
    return f"Radio message from {speaker}, logged as report #{report_id}:\n{text}"


def radio_call_attached(caption: str, report_id: int) -> str:
    return f"{caption}\n\nAttached to report #{report_id}."


def radio_call_kept(caption: str) -> str:
    return f"{caption}\n\nKept as a report in its own right."


def button_attach(report_id: int) -> str:
    return f"Attach to report #{report_id}"


BUTTON_NEW_REPORT = "New report"


RADIO_CALL_DONE = "Done."


RADIO_CALL_GONE = "That radio call has already been filed."


def radio_link_down(scheme: str, server: str, reason: str) -> str:
    return (
        f"{scheme}: ShopWatch cannot reach the radio server {server} ({reason}). Chat alerts "
        "still work; alerts for the radio are kept and read out once it is back. "
        "The bot keeps trying."
    )


def radio_link_up(scheme: str, server: str) -> str:
    return f"{scheme}: ShopWatch is back on the radio ({server})."


def radio_engine_missing(scheme: str, problem: str) -> str:
    return f"{scheme}: the radio link is off: {problem}. Chat alerts are unaffected."


VOICE_NOTE_RELAYED = "Your voice note is going out on the radio."


def voice_note_transcribed(report_id: int, transcript: str) -> str:
    heard = transcript or "(no words recognised)"
    return f"Voice note added to report #{report_id}: {heard}"
