"""The control room: operators' statuses on an alert, and what the shop hears of them."""

from __future__ import annotations

OPERATOR_STATUS_NAMES = {
    "acknowledged": "Acknowledged",
    "on_camera": "On camera",
    "police_informed": "Police informed",
    "lost": "Lost from camera",
    "detained": "Detained",
    "closed": "Closed",
    "stood_down": "Stood down",
    "escalated": "Raised again, not acknowledged",
}


OPERATOR_BUTTONS = {
    "acknowledged": "Acknowledge",
    "on_camera": "On camera",
    "police_informed": "Police informed",
    "lost": "Lost",
    "detained": "Detained",
    "closed": "Closed",
}


def operator_status_name(status: str) -> str:
    return OPERATOR_STATUS_NAMES.get(status, status)


ALERT_STATUS_WAITING = "Status: waiting for the control room"


def alert_status(status: str, by: str | None, time: str) -> str:
    who = f"{by}, {time}" if by else time
    return f"Status: {operator_status_name(status)} ({who})"


def alert_acknowledged(by: str | None, time: str) -> str:
    """The control room's card: who first answered the alert, and when."""
    return f"Acknowledged by {by} at {time}" if by else f"Acknowledged at {time}"


ALERT_NOT_ACKNOWLEDGED = "Not yet acknowledged"


def alert_raised_again(time: str) -> str:
    """The control room's card of an alert raised again, until it is acknowledged."""
    return f"⏰ Not yet acknowledged: raised again at {time}"


def history_entry(status: str, by: str | None, time: str) -> str:
    return f"{time} {operator_status_name(status)}" + (f" ({by})" if by else "")


def alert_history(entries: list[str]) -> str:
    return "History: " + " · ".join(entries)


CURRENT_CALL_MARK = "✓ "


def call_already_marked(status: str, by: str | None, time: str) -> str:
    """A second press of the call that stands: nothing recorded, nobody told again."""
    who = f" by {by}" if by else ""
    return f"Already marked {operator_status_name(status)}{who} at {time}. Nothing changed."


def report_already_closed(report_id: int, status: str, by: str | None, time: str) -> str:
    who = f" by {by}" if by else ""
    return (
        f"Report #{report_id} is already closed ({operator_status_name(status)}{who} at "
        f"{time}). Nothing changed."
    )


def report_closed(report_id: int) -> str:
    return f"Report #{report_id} is already closed. Nothing changed."


def call_no_longer_applies(report_id: int, status: str, by: str | None, time: str) -> str:
    """A press of a button an older copy still shows, after a later call."""
    who = f" by {by}" if by else ""
    return (
        f"Report #{report_id} is now {operator_status_name(status)}{who} at {time}: that "
        "button no longer applies. Nothing changed."
    )


def operator_status_recorded(status: str) -> str:
    said = f"Recorded: {operator_status_name(status)}. Every copy is being updated."
    if status == "police_informed":
        said += " Reply to the alert with “ref” and the police reference to add it."
    return said


def reporter_status_note(
    report_id: int, status: str, operator: str, *, last_seen: str | None = None
) -> str:
    """What the shopkeeper's phone shows when the control room answers their alert."""
    if status == "lost":
        said = f"lost from camera, last seen {last_seen}" if last_seen else "lost from camera"
        return f"Control room on your alert #{report_id}: {said} ({operator})."
    return f"Control room on your alert #{report_id}: {operator_status_name(status)} ({operator})."


def police_reference_added(report_id: int, reference: str) -> str:
    return f"Police ref {reference} added to report #{report_id}: every copy is being updated."


def raised_again(report_id: int, category: str, place: str | None, sent: str) -> str:
    """The control room and the coordinators: a live alert nobody has answered yet."""
    where = f" at {place}" if place else ""
    return (
        f"⚠️ NOT YET ACKNOWLEDGED: Report #{report_id}, {category}{where}, sent {sent}. "
        "Nobody in the control room has answered it: please tap Acknowledge (or the call "
        "that fits) on its card."
    )


def reporter_not_yet_heard(report_id: int) -> str:
    """The shop that sent it: "was I heard?" answered honestly, before they have to ask."""
    return (
        f"Your alert #{report_id} is not yet acknowledged by the control room. It has been "
        "raised with them again and with the coordinators. If anyone is in danger, call 999."
    )


def operator_note_added(report_id: int) -> str:
    """An operator's own words on a report: in its timeline, nothing else changed."""
    return (
        f"Noted on report #{report_id}, with your name and the time. It is in the report's "
        "timeline; the copies and the calls are unchanged."
    )


def shop_note(report_id: int, category: str, shop: str, text: str) -> str:
    """Another shop's words on a live alert, for the control room, under its card."""
    return f"💬 Report #{report_id} ({category}), {shop} adds: “{text}”"
