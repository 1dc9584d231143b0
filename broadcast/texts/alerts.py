"""Alerts: the card every chat shows, and what the member who sent it reads back."""

from __future__ import annotations

from collections.abc import Iterable

from broadcast.texts.formats import money

ALERT_SIREN = "🚨"


CATEGORY_NAMES = {
    "theft": "Theft",
    "suspicious": "Suspicious behaviour",
    "violence": "Violence or abuse to staff",
    "asb": "Anti-social behaviour",
    "fraud": "Fraud or distraction",
    "damage": "Criminal damage",
    "other": "Other",
}


CATEGORY_BUTTONS = {
    "theft": "Theft",
    "suspicious": "Suspicious",
    "violence": "Violence",
    "asb": "ASB",
    "fraud": "Fraud",
    "damage": "Damage",
    "other": "Other",
}


URGENCY_BUTTONS = {"now": "Happening now", "log": "Log only"}


CHOSEN_MARK = "✓ "


BUTTON_ADD_UPDATE = "Add update"


BUTTON_STAND_DOWN = "Stood down"


BUTTON_WRONG_PERSON = "Wrong person"


BUTTON_ENDING = "Stood down / Wrong person"


BUTTON_BACK = "◀ Back"


def category_to_change(category: str) -> str:
    """The confirmation's first button: the guessed category, and that a tap changes it."""
    return f"{CATEGORY_BUTTONS.get(category, category)} · Change"


def category_name(category: str) -> str:
    return CATEGORY_NAMES.get(category, category)


_ENDED_BY = {
    "detained": "person detained",
    "closed": "closed by the control room",
    "stood_down": "stood down",
}


def alert_headline(category: str, urgency: str, state: str, call: str | None = None) -> str:
    """The first line, what a phone's notification shows: what, and whether it is live.

    `call` is the latest status call; once it ends the alert (Detained, Closed, Stood
    down) the headline says so and no longer reads as happening now.
    """
    name = category_name(category)
    if state == "withdrawn":
        return f"WITHDRAWN: {name} – please disregard this alert"
    if call in _ENDED_BY:
        return f"{name} – {_ENDED_BY[call]}"
    if state == "closed":
        return f"{name} – closed"
    if urgency == "now":
        return f"{ALERT_SIREN} {name} – happening now"
    return f"{name} – for the log"


ALERT_WITHDRAWN_NOTE = "The member who sent it says it was the wrong person."


def alert_where(place: str | None, latitude: float | None, longitude: float | None) -> str:
    parts = [place] if place else []
    if latitude is not None and longitude is not None:
        parts.append(f"map https://maps.google.com/?q={latitude:.5f},{longitude:.5f}")
    return "Where: " + (" – ".join(parts) if parts else "not given")


def alert_who(subject: str) -> str:
    return f"Who: {subject}"


def alert_direction(direction: str) -> str:
    return f"Went: {direction}"


def alert_value(pence: int) -> str:
    return f"Value: {money(pence)}"


def alert_taken(what: str, pence: int | None) -> str:
    return f"Taken: {what} ({money(pence)})" if pence is not None else f"Taken: {what}"


def alert_evidence(cctv: bool | None, statement: bool | None) -> str | None:
    """For the control room: what the shop can give the police, from the guided report."""
    said = [
        {True: "CCTV held", False: "no CCTV"}.get(cctv) if cctv is not None else None,
        {True: "will give a statement", False: "no statement"}.get(statement)
        if statement is not None
        else None,
    ]
    shown = [part for part in said if part]
    return " · ".join(shown) if shown else None


def alert_police_reference(reference: str) -> str:
    return f"Police ref: {reference}"


def alert_when(time: str) -> str:
    return f"When: {time}"


def alert_reference(report_id: int, scheme: str, *, neighbour: bool) -> str:
    if neighbour:
        return f"Report #{report_id} from {scheme}, a neighbouring scheme"
    return f"Report #{report_id} · {scheme}"


def alert_further_photo(reference: str) -> str:
    """The caption of a photo sent under a copy already out: which alert it belongs to."""
    return f"📷 Another photo for {reference}"


def alert_update(time: str, text: str) -> str:
    return f"Update {time}: {text}"


def alert_sent(report_id: int, shops: int, neighbours: Iterable[str]) -> str:
    """The member's confirmation: sent only once the report is in the log."""
    group = f"{shops} shop" + ("" if shops == 1 else "s") if shops else "the group"
    reached = [group, "the control room", *neighbours]
    where = ", ".join(reached[:-1]) + " and " + reached[-1]
    return (
        f"Alert sent to {where}. Report #{report_id}.\n"
        "To add what happens next, reply to this message (e.g. “left towards Market St”) "
        "or send your location. Wrong category? Tap Change below."
    )


MEMBER_ALERT_REPLACED = (
    "Your message in the group is replaced by the bot's protected copy, so it cannot be "
    "forwarded or saved and leaves the chat with the rest."
)


def alert_logged(report_id: int) -> str:
    return (
        f"Report #{report_id} is in the log only: nobody is alerted, and any copies already "
        "sent now say there is nothing to act on. Tap Happening now to alert everyone after "
        "all."
    )


def alert_confirmation_state(report_id: int, category: str, state: str) -> str:
    """The confirmation after the member stood the alert down or withdrew it."""
    if state == "withdrawn":
        return (
            f"Report #{report_id} ({category_name(category)}) is withdrawn as the wrong "
            "person. Every copy now says so."
        )
    return (
        f"Report #{report_id} ({category_name(category)}) is stood down. Every copy now says "
        "so. You can still reply here to add an update."
    )


def alert_saved_sending_shortly(report_id: int) -> str:
    return (
        f"Your alert is saved as Report #{report_id} and will be sent to the scheme's chats "
        "shortly. The bot could not count them just now; no need to send it again."
    )


ALERT_EMPTY_CAPTION = (
    "To send this as an alert, send the photo again with a caption: who, what they did, "
    "and which way they went. Nothing was sent."
)


ALERT_EMPTY_COMMAND = (
    "Type /alert followed by what you saw, for example:\n"
    "/alert Male 30s, grey hoodie, took razor blades, heading to Haymarket"
)


def alert_too_long(limit: int) -> str:
    return (
        f"That is too long for an alert: please keep it under {limit} characters and send "
        "it again. Nothing was sent."
    )


def photo_refused(reason: str) -> str:
    return (
        f"Sorry, that photo cannot be used ({reason}). Nothing was stored or sent. Please "
        "send an ordinary photo, or type /alert with a description."
    )


ALERT_NOT_STORED = (
    "Sorry, your alert could not be stored, so it was NOT sent. Please try again in a "
    "minute; if it is urgent, use the radio."
)


def ask_for_update(report_id: int) -> str:
    return (
        f"What happened next on Report #{report_id}? Type it as your answer to this "
        "message (e.g. “left towards Market St”): every copy shows it."
    )


UPDATE_PLACEHOLDER = "What happened next?"


ALERT_LOCATION_NO_REPORT = (
    "To show where an alert is happening, send your location straight after the alert, "
    "or as a reply to it."
)


ALERT_NO_MORE_CHANGES = "That report was withdrawn: it takes no more changes."


ALERT_GONE = "That report is no longer in the log."


def alert_update_added(report_id: int) -> str:
    return f"Update added to report #{report_id}: every copy is being updated."


def alert_location_added(report_id: int) -> str:
    return f"Location added to report #{report_id}: every copy is being updated."


def alert_changed(label: str) -> str:
    """The short answer to a member's tap (at most 200 characters, as Telegram allows)."""
    return f"{label}: every copy is being updated."


TOO_MANY_ALERTS = (
    "That is more than 10 alerts in a minute, so this one was not sent. If the incident "
    "is still going on, add to your last alert by replying to it, or use the radio."
)


def too_many_changes(limit: int) -> str:
    """A press or message past the member's changes a minute: what they read each time."""
    return (
        f"That is more than {limit} changes in a minute, so this one was not made and "
        "nothing was sent. Wait a minute, then try again."
    )


# --- notes: a reply to an alert by someone other than the member who sent it -------------


def note_added(report_id: int) -> str:
    """A shop's note: it is in the log, and the control room has it."""
    return f"Noted on report #{report_id}, with your name and the time. The control room has it."


def note_too_long(limit: int) -> str:
    return (
        f"That is too long for a note on an alert: please keep it under {limit} characters "
        "(where, when, which way) and reply again. Nothing was added."
    )


def note_report_closed(report_id: int) -> str:
    return (
        f"Report #{report_id} is closed, so nothing was added to it. If it has started "
        "again, send a new alert."
    )


def note_report_withdrawn(report_id: int) -> str:
    return (
        f"Report #{report_id} was withdrawn (the wrong person), so nothing was added to it. "
        "Please disregard it."
    )


def note_not_a_member(report_id: int) -> str:
    """A member of a neighbouring scheme replying to its copy: the report is not theirs."""
    return (
        f"Report #{report_id} is another scheme's: only its own members add notes to it, so "
        "nothing was added. Tell your own control room what you saw."
    )


NOTE_POLICE = (
    "The police read alerts here and do not add to them, so nothing was added. Please "
    "call the control room."
)


def alert_not_for_this_chat(report_id: int, scheme: str, *, logged: bool) -> str:
    """A copy whose chat the alert no longer reaches: kept and edited to say so (not
    taken down), so whoever read it knows to stop, and a later change back edits it
    again instead of ringing every phone with a new copy."""
    if logged:
        return (
            f"Report #{report_id} · {scheme}: moved to the log only by the shop that sent "
            "it. Nobody is alerted: nothing to act on."
        )
    return f"Report #{report_id} · {scheme}: no longer shared with this chat. Nothing to act on."
