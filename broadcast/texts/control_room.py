"""The control room: operators' statuses on an alert, and what the shop hears of them."""

from __future__ import annotations

OPERATOR_STATUS_NAMES = {
    "acknowledged": "Acknowledged",
    "on_camera": "On camera",
    "police_informed": "Police informed",
    "lost": "Lost",
    "detained": "Detained",
    "closed": "Closed",
    "stood_down": "Stood down",
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


def operator_status_recorded(status: str) -> str:
    said = f"Recorded: {operator_status_name(status)}. Every copy is being updated."
    if status == "police_informed":
        said += " Reply to the alert with “ref” and the police reference to add it."
    return said


def reporter_status_note(report_id: int, status: str, operator: str) -> str:
    """What the shopkeeper's phone shows when the control room answers their alert."""
    return f"Control room on your alert #{report_id}: {operator_status_name(status)} ({operator})."


def police_reference_added(report_id: int, reference: str) -> str:
    return f"Police ref {reference} added to report #{report_id}: every copy is being updated."
