"""Every sentence a person reads from ShopWatch, in one place.

Kept together so the wording can be reviewed by a scheme (plain English, short,
readable on a phone with one hand) and later translated without hunting through
handlers. Functions take plain values so this module stays free of Telegram.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from storage.places import member_reference, members_place, police_place, reporter_premises

if TYPE_CHECKING:
    from storage.models import Member, Report
    from storage.search import ReportFile, SearchPage

HELP_MEMBER = (
    "How to send an alert:\n"
    "• Send a photo with a short caption (who, what, which way they went), or\n"
    "• type /alert followed by the description.\n"
    "\n"
    "Other commands:\n"
    "/report – a full report, step by step (also for the log only)\n"
    "/whoami – your scheme, role and status\n"
    "/help – this message"
)

HELP_STRANGER = (
    "ShopWatch is a private alert network for member shops of a town's ShopWatch scheme.\n"
    "\n"
    "To join, ask your scheme coordinator for an invite link and open it on this phone. "
    "Once the coordinator approves you, you can send and receive alerts here."
)


def welcome_member(first_name: str, schemes: Iterable[str]) -> str:
    names = ", ".join(schemes)
    return f"Hello {first_name}. You are a member of {names}.\n\n{HELP_MEMBER}"


def welcome_stranger(first_name: str) -> str:
    return f"Hello {first_name}.\n\n{HELP_STRANGER}"


REFUSED_NOT_MEMBER = (
    "Sorry, only approved members of a ShopWatch scheme can do that. "
    "Send /start to find out how to join."
)

SOMETHING_WENT_WRONG = (
    "Sorry, something went wrong on our side and your message was not handled. "
    "Please try again in a minute; if it is urgent, use the radio."
)

LOG_UNAVAILABLE = (
    "Sorry, the bot cannot reach its log just now, so your message was not stored and "
    "nothing was sent: an alert did NOT go out. Please try again in a minute; if it is "
    "urgent, use the radio."
)


def alert_saved_sending_shortly(report_id: int) -> str:
    return (
        f"Your alert is saved as Report #{report_id} and will be sent to the scheme's chats "
        "shortly. The bot could not count them just now; no need to send it again."
    )


BOT_COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "Start or join a scheme"),
    ("help", "How to send an alert"),
    ("report", "A full report, step by step"),
    ("whoami", "Your scheme, role and status"),
    ("search", "Search the log"),
)


WORKER_NEEDS_POSTGRESQL = (
    "shopwatch worker needs PostgreSQL: SQLite is single-process and `shopwatch run` "
    "already sends every message; set SHOPWATCH_DATABASE_URL to a postgresql:// URL "
    "to run more workers"
)


def worker_port_taken(host: str, port: int, reason: str | None) -> str:
    return (
        f"SHOPWATCH_WORKER_PORT: cannot serve health and metrics on {host}:{port} "
        f"({reason or 'address unavailable'}); give each worker on one host its own port"
    )


def chat_unreachable(chat_id: int, error: str) -> str:
    return (
        f"ShopWatch cannot post in chat {chat_id} ({error}). Alerts to that chat are not "
        "being delivered: please add the bot back to the chat as an administrator."
    )


def peer_not_reached(peer: str, report_id: int | None, error: str) -> str:
    """To the coordinators: a neighbouring town on another system did not take an alert."""
    what = f"Report #{report_id}" if report_id is not None else "An alert"
    return (
        f"{what} did not reach {peer}, a neighbouring scheme on another system ({error}). "
        "Please check the link with their coordinator: `shopwatch federation check` "
        "tests it."
    )


_REFUSALS = {
    "not_member": REFUSED_NOT_MEMBER,
    "pending": "Your membership is waiting for the coordinator's approval; you will get a "
    "message as soon as you are approved.",
    "suspended": "Your membership is suspended. Please contact your scheme coordinator.",
    "removed": "You are no longer a member of this scheme. Please contact the coordinator.",
    "wrong_role": "Sorry, your role in the scheme does not allow that.",
    "stale": "This button is out of date. Nothing was changed.",
    "forged": "This button is out of date. Nothing was changed.",
    "not_yours": "Only the member who sent this alert can change it.",
    "other_scheme": "That alert belongs to another scheme.",
}


def refusal(reason: str) -> str:
    return _REFUSALS.get(reason, _REFUSALS["wrong_role"])


# --- Radio: what is said on air, and the radio's messages in the chat ----------------------

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


# --- Membership: invites, joining, approval, managing members, /whoami ---------------------

ROLE_NAMES = {
    "member": "member shop",
    "operator": "CCTV control-room operator",
    "coordinator": "coordinator",
    "police": "police officer",
    "admin": "administrator",
}

STATUS_NAMES = {
    "pending": "waiting for approval",
    "active": "active",
    "suspended": "suspended",
    "removed": "removed",
}


def role_name(role: str) -> str:
    return ROLE_NAMES.get(role, role)


def status_name(status: str) -> str:
    return STATUS_NAMES.get(status, status)


BUTTON_CANCEL = "Cancel"
BUTTON_AGREE = "I agree"
BUTTON_APPROVE = "Approve"
BUTTON_REJECT = "Reject"
BUTTON_SUSPEND = "Suspend"
BUTTON_REINSTATE = "Reinstate"
BUTTON_REMOVE = "Remove"
BUTTON_BACK = "Back to the list"
BUTTON_PREVIOUS = "Previous"
BUTTON_NEXT = "Next"

ONLY_IN_PRIVATE = "Please send that command to me in a private chat, not in the group."


def invite_usage(roles: Iterable[str]) -> str:
    return (
        "To invite someone, send /invite, or /invite followed by their role: "
        f"{', '.join(roles)}. A new shop is a member."
    )


def which_scheme(command: str, slugs: Iterable[str]) -> str:
    choices = ", ".join(f"/{command} {slug}" for slug in slugs)
    return f"You coordinate more than one scheme. Please say which: {choices}"


def invite_link(scheme: str, role: str, link: str, expires: str) -> str:
    return (
        f"Invite link for a new {role_name(role)} of {scheme}:\n"
        f"{link}\n\n"
        f"It works once and until {expires}. Send it to that person only. They answer a few "
        "questions, accept the agreement, and you get a message here to approve them."
    )


INVITE_UNUSABLE = (
    "Sorry, this invite link does not work: it is unknown, has been used already or has "
    "expired. Please ask your scheme coordinator for a new one."
)

INVITE_USED_MEANWHILE = (
    "Sorry, this invite link was used by someone else or expired while you were answering. "
    "Nothing was saved. Please ask your scheme coordinator for a new link."
)


def already_member(scheme: str, status: str) -> str:
    return (
        f"You already belong to {scheme} (status: {status_name(status)}), so this invite was "
        "not used. Send /whoami to see your membership."
    )


def join_welcome(first_name: str, scheme: str, role: str) -> str:
    return (
        f"Hello {first_name}. You have been invited to join {scheme} as a {role_name(role)}.\n\n"
        "Three short questions, then the scheme's agreement. You can cancel at any time.\n\n"
        "First: what is your full name?"
    )


JOIN_ASK_SHOP = "Thanks. What is the name of your shop or business?"
JOIN_ASK_STREET = "And which street is it on?"
JOIN_PRESS_A_BUTTON = "Please press I agree or Cancel under the agreement above."
JOIN_ALREADY_JOINING = (
    "You are in the middle of joining. Please answer the question above, or press Cancel to stop."
)


def answer_too_long(limit: int) -> str:
    return f"Please keep that under {limit} characters and send it again."


def join_agreement(scheme: str, agreement: str) -> str:
    return (
        f"Last step: the information-sharing agreement of {scheme}.\n\n{agreement}\n\n"
        "Press I agree to send your request to the coordinator."
    )


def join_agreed(agreement_text: str, when: str) -> str:
    return f"{agreement_text}\n\nYou agreed to this on {when}."


def join_sent(scheme: str) -> str:
    return (
        f"Thank you. Your request to join {scheme} has gone to the coordinator. You will get "
        "a message here as soon as you are approved; until then you cannot send or receive "
        "alerts."
    )


def join_cancelled(expires: str) -> str:
    return (
        "Joining cancelled; nothing was saved. Your invite link still works until "
        f"{expires} if you change your mind."
    )


JOIN_TIMED_OUT = (
    "Joining stopped because there was no answer for a while; nothing was saved. Open your "
    "invite link again to start afresh."
)


def approval_card(
    *,
    scheme: str,
    name: str,
    shop: str,
    street: str,
    role: str,
    username: str | None,
    user_id: int,
    agreed: str,
) -> str:
    handle = f"@{username}, " if username else ""
    return (
        f"Request to join {scheme} as a {role_name(role)}\n"
        f"Name: {name}\n"
        f"Shop: {shop}, {street}\n"
        f"Telegram: {handle}id {user_id}\n"
        f"Agreement accepted {agreed}"
    )


def card_decided(card: str, status: str, by: str, when: str) -> str:
    verdict = "Approved" if status == "active" else "Rejected"
    return f"{card}\n\n{verdict} by {by} on {when}."


def welcome_approved(scheme: str, role: str) -> str:
    if role in ("member", "coordinator", "admin"):
        then = HELP_MEMBER
    elif role == "operator":
        then = (
            "Alerts reach your control-room chat with buttons to acknowledge them and say "
            "what the cameras see. You can also send alerts yourself:\n\n" + HELP_MEMBER
        )
    else:
        then = "You can read the scheme's log. Send /help to see what you can do."
    return f"You are approved: welcome to {scheme} as a {role_name(role)}.\n\n{then}"


def told_rejected(scheme: str) -> str:
    return (
        f"Your request to join {scheme} was not approved. If you think this is a mistake, "
        "please contact the scheme coordinator."
    )


def told_suspended(scheme: str) -> str:
    return (
        f"Your membership of {scheme} has been suspended: you cannot send or receive alerts "
        "for now. Please contact the scheme coordinator."
    )


def told_reinstated(scheme: str) -> str:
    return f"Your membership of {scheme} is active again.\n\n{HELP_MEMBER}"


def told_removed(scheme: str) -> str:
    return (
        f"You are no longer a member of {scheme}. If you think this is a mistake, please "
        "contact the scheme coordinator."
    )


_DECISIONS_DONE = {
    "approve": "{name} is approved.",
    "reject": "{name}'s request is rejected.",
    "suspend": "{name} is suspended: the bot removes them from the scheme's chats until they "
    "are reinstated.",
    "reinstate": "{name} is active again: the bot sends them fresh links to the chats.",
    "remove": "{name} is removed from the scheme: the bot removes them from the scheme's chats.",
}
_DECISIONS_BY_HAND = _DECISIONS_DONE | {
    "suspend": "{name} is suspended. If they are in the scheme's group chat, remove them "
    "there as well.",
    "reinstate": "{name} is active again.",
    "remove": "{name} is removed from the scheme. If they are in the scheme's group chat, "
    "remove them there as well.",
}


def decision_done(decision: str, name: str, *, guarded: bool = True) -> str:
    """`guarded`: the bot runs the scheme's chats (members-only), else people do by hand."""
    return (_DECISIONS_DONE if guarded else _DECISIONS_BY_HAND)[decision].format(name=name)


def decision_already(name: str, status: str) -> str:
    return f"Nothing changed: {name} is {status_name(status)} already."


def members_overview(scheme: str, counts: dict[str, int], page: int, pages: int) -> str:
    summary = ", ".join(f"{n} {status_name(s)}" for s, n in counts.items() if n) or "nobody yet"
    where = f" (page {page + 1} of {pages})" if pages > 1 else ""
    return f"{scheme} members: {summary}.\nChoose someone to manage{where}:"


def members_none(scheme: str) -> str:
    return f"{scheme} has no members yet. Send /invite to invite the first shop."


def member_button(name: str, shop: str | None, role: str, status: str) -> str:
    icon = {"pending": "⏳", "active": "✅", "suspended": "⛔"}.get(status, "")
    extra = f" ({role_name(role)})" if role != "member" else ""
    label = f"{icon} {name}{extra}" + (f" – {shop}" if shop else "")
    return label if len(label) <= 60 else label[:59] + "…"


def member_details(
    *,
    scheme: str,
    name: str,
    role: str,
    status: str,
    shop: str | None,
    street: str | None,
    username: str | None,
    user_id: int,
) -> str:
    where = ", ".join(part for part in (shop, street) if part) or "not given"
    handle = f"@{username}, " if username else ""
    return (
        f"{name}, {role_name(role)} of {scheme}\n"
        f"Shop: {where}\n"
        f"Telegram: {handle}id {user_id}\n"
        f"Status: {status_name(status)}"
    )


def whoami(first_name: str, memberships: Iterable[tuple[str, str, str, str | None]]) -> str:
    lines = [
        f"• {scheme}: {role_name(role)}, {status_name(status)}" + (f" ({shop})" if shop else "")
        for scheme, role, status, shop in memberships
    ]
    if not lines:
        return f"{first_name}, you are not a member of any scheme yet.\n\n{HELP_STRANGER}"
    return f"{first_name}, your ShopWatch memberships:\n" + "\n".join(lines)


_LINK_DOT = re.compile(r"(?<=\w)\.(?=\w)")
_DEFANGED = str.maketrans({"@": "\uff20", "#": "\uff03", "/": "\uff0f", "$": "\uff04"})
SELF_NAMED = "their own Telegram name, unchecked"


def inert(text: str, limit: int = 64) -> str:
    """Words someone chose for themselves, made harmless to show: one line, no control or
    formatting character (a right-to-left override turns text round), and nothing a
    Telegram app would make a link, a mention, a command, a tag or a cashtag of (the
    dots of "t.me" become "t[.]me", "@" "/" "#" "$" their full-width look-alikes)."""
    kept = "".join(c for c in text if unicodedata.category(c)[0] != "C" or c in " \t\n")
    one_line = " ".join(kept.split())
    cut = one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"
    return _LINK_DOT.sub("[.]", cut).translate(_DEFANGED)


def self_named(name: str, username: str | None) -> str:
    """A Telegram name as the coordinators read it: quoted, made inert and marked as the
    person's own choice, so "ShopWatch Security: re-verify at t.me/…" cannot read as
    the bot speaking. The @username (letters, digits and _ only) is Telegram's own."""
    handle = f"; @{username}" if username else ""
    return f"“{inert(name)}” ({SELF_NAMED}{handle})"


def stranger_joined(scheme: str, chat: str, name: str, username: str | None, user_id: int) -> str:
    return (
        f"Someone who is not an approved member of {scheme} joined {chat}: "
        f"{self_named(name, username)}, "
        f"Telegram id {user_id}. The bot ignores their messages; remove them from the chat if "
        "they should not be there, or send them an invite."
    )


def stranger_removed(scheme: str, chat: str, name: str, username: str | None, user_id: int) -> str:
    return (
        f"Someone who is not an approved member of {scheme} joined {chat}: "
        f"{self_named(name, username)}, "
        f"Telegram id {user_id}. The bot removed them from the chat. If they should be there, "
        "send them an invite: once approved, the bot lets them in."
    )


def join_declined(
    scheme: str, chat: str, name: str, username: str | None, user_id: int, *, why: str
) -> str:
    return (
        f"The bot declined a request to join {chat} of {scheme}: {self_named(name, username)}, "
        "Telegram id "
        f"{user_id} ({JOIN_DECLINED_WHY.get(why, why)}). You are told once a day per person."
    )


JOIN_DECLINED_WHY = {
    "not_member": "not a member of the scheme",
    "pending": "waiting for approval",
    "suspended": "suspended",
    "removed": "removed from the scheme",
    "wrong_role": "their role does not belong in that chat",
    "not_their_link": "the link was made for someone else",
    "stale_link": "the link is no longer valid",
}


def join_links(scheme: str, links: Iterable[tuple[str, str]], expires: str) -> str:
    """To a member: their personal join links, one per chat their role belongs in."""
    lines = "\n".join(f"{chat}: {link}" for chat, link in links)
    return (
        f"Your personal links to join the chats of {scheme}:\n{lines}\n\nOpen each link and "
        f"ask to join; the bot lets you in. The links are for you alone and work until "
        f"{expires}: someone else who uses them is turned away."
    )


RIGHT_NAMES = {
    "administrator": "be an administrator",
    "can_invite_users": "invite users via link",
    "can_restrict_members": "ban users",
    "can_delete_messages": "delete messages",
}


def bot_lacks_right(scheme: str, chat: str, right: str) -> str:
    """Short enough for a button's answer (Telegram shows at most 200 characters)."""
    return (
        f"The bot cannot do that: it may not {RIGHT_NAMES.get(right, right)} in {chat} of "
        f"{scheme}. Nothing was changed. Ask the chat's owner to give the bot that right."
    )


def rights_missing(scheme: str, chat: str, chat_id: int, missing: Iterable[str]) -> str:
    """To the coordinators, once: what the bot may not do in one of the scheme's chats."""
    named = ", ".join(RIGHT_NAMES.get(r, r) for r in missing)
    return (
        f"The bot lacks rights in {chat} of {scheme} (chat {chat_id}): it may not {named}. "
        "Until then it cannot let members in, remove those who should not be there or replace "
        "members' alert messages with protected copies. Please make it an administrator with "
        "the rights to invite users via link, ban users and delete messages."
    )


GROUP_CHAT = "the group"
CONTROL_ROOM_CHAT = "the control room"

MEMBER_ALERT_REPLACED = (
    "Your message in the group is replaced by the bot's protected copy, so it cannot be "
    "forwarded or saved and leaves the chat with the rest."
)

_REFUSALS.update(
    {
        "own_membership": "You cannot decide about your own membership.",
        "needs_admin": "Only an administrator, or a coordinator named in the schemes file, can "
        "suspend, reinstate or remove a coordinator.",
        "last_coordinator": "This is the scheme's last active coordinator: appoint another "
        "before suspending or removing them.",
        "wrong_scheme": "Sorry, you do not manage that scheme.",
    }
)


# --- Alerts: the card every chat shows, the member's confirmation, operators' statuses ------

ALERT_SIREN = "🚨"
TRUNCATION_MARK = "…"

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
CHOSEN_MARK = "✓ "
BUTTON_ADD_UPDATE = "Add update"
BUTTON_STAND_DOWN = "Stood down"
BUTTON_WRONG_PERSON = "Wrong person"


def category_name(category: str) -> str:
    return CATEGORY_NAMES.get(category, category)


def operator_status_name(status: str) -> str:
    return OPERATOR_STATUS_NAMES.get(status, status)


def alert_headline(category: str, urgency: str, state: str) -> str:
    """The first line, what a phone's notification shows: what, and whether it is live."""
    name = category_name(category)
    if state == "withdrawn":
        return f"WITHDRAWN: {name} – please disregard this alert"
    if state == "closed":
        return f"{name} – stood down"
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
    pounds, rest = divmod(pence, 100)
    return f"Value: £{pounds:,}" + (f".{rest:02d}" if rest else "")


def alert_police_reference(reference: str) -> str:
    return f"Police ref: {reference}"


def alert_when(time: str) -> str:
    return f"When: {time}"


def alert_reference(report_id: int, scheme: str, *, neighbour: bool) -> str:
    if neighbour:
        return f"Report #{report_id} from {scheme}, a neighbouring scheme"
    return f"Report #{report_id} · {scheme}"


ALERT_STATUS_WAITING = "Status: waiting for the control room"


def alert_status(status: str, by: str | None, time: str) -> str:
    who = f"{by}, {time}" if by else time
    return f"Status: {operator_status_name(status)} ({who})"


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
        "or send your location. Wrong category? Tap it below."
    )


def alert_logged(report_id: int) -> str:
    return (
        f"Report #{report_id} is in the log only: nobody is alerted, and any copies already "
        "sent are being taken down. Tap Happening now to alert everyone after all."
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
ALERT_HOW_TO_UPDATE = (
    "Reply to your alert, or to the message with these buttons, with what happened next "
    "(e.g. “left towards Market St”). You can also send your location."
)
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


# --- The guided /report --------------------------------------------------------
# One question per message, answered with a tap where a tap will do.

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


def money(pence: int) -> str:
    pounds, rest = divmod(pence, 100)
    return f"£{pounds:,}" if rest == 0 else f"£{pounds:,}.{rest:02d}"


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


# --- Search: /search and /show -------------------------------------------------------------

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


_SEARCH_CATEGORIES = {
    "theft": "Theft",
    "suspicious": "Suspicious",
    "violence": "Violence or abuse to staff",
    "asb": "Anti-social behaviour",
    "fraud": "Fraud",
    "damage": "Damage",
    "other": "Other",
}
_TIMELINE_KINDS = {"status": "status", "note": "note", "update": "update", "radio_call": "radio"}
_SEARCH_ROLES = {
    "operator": "control room",
    "coordinator": "coordinator",
    "police": "police",
    "admin": "administrator",
}
REPORT_CARD_LIMIT = 4000  # Telegram allows 4096 characters in a message


def _local(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).strftime("%a %d %b %Y %H:%M")


def _shortened(text: str, limit: int) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= limit else one_line[: limit - 1] + "…"


def _who(member: Member | None, police: str | None, report: Report | None = None) -> str:
    """Shops by their name and street, staff by their role: the log names no private person.

    For the police (`police` is the scheme's slug) a shop is its scheme reference and
    street, never its name: the source is protected in everything they see. A report's
    own reporter reads as the report keeps the shop (`storage.places`).
    """
    if member is None:
        return "radio or another scheme"
    shop, street = (
        reporter_premises(report, member) if report else (member.shop_name, member.street)
    )
    if shop:
        if police is not None and member.id is not None:
            shop = member_reference(police, member.id)
        return f"{shop}, {street}" if street else shop
    return _SEARCH_ROLES.get(str(member.role), "member shop")


def search_results(page: SearchPage, timezone: str, *, police: str | None = None) -> str:
    """`police`: the scheme's slug when the reader is police (sources by reference)."""
    if not page.hits:
        if page.has_previous:
            return f"No more results for “{page.query.text}”."
        return f"Nothing in the log matches “{page.query.text}”."
    last = page.first_number + len(page.hits) - 1
    lines = [f"Search: {page.query.text}", f"Results {page.first_number}–{last}, newest first:"]
    for hit in page.hits:
        report = hit.report
        photos = f" · {hit.photos} photo{'s' if hit.photos != 1 else ''}" if hit.photos else ""
        lines += [
            "",
            f"{report.id} · {_local(report.occurred_at, timezone)} · "
            f"{_SEARCH_CATEGORIES.get(report.category, report.category)} · "
            f"{_who(hit.reporter, police, report)}{photos}",
            _shortened(report.description, 160),
        ]
    return "\n".join(lines)


def report_card(file: ReportFile, timezone: str, *, police: str | None = None) -> str:
    """The whole report; the oldest timeline entries give way if it would not fit.

    `police`: the scheme's slug when the reader is police (sources by reference)."""
    report = file.report
    head = [
        f"Report {report.id} · {_SEARCH_CATEGORIES.get(report.category, report.category)} · "
        f"{report.status}",
        f"Seen: {_local(report.occurred_at, timezone)}"
        + (
            f" (logged {_local(report.created_at, timezone)})"
            if abs(report.created_at - report.occurred_at).total_seconds() > 300
            else ""
        ),
        f"Reported by: {_who(file.reporter, police, report)}",
    ]
    place = police_place(report) if police is not None else members_place(report)
    where = ", ".join(p for p in (place, report.direction) if p)
    if where:
        head.append(f"Where: {where}")
    if report.police_reference:
        head.append(f"Police reference: {report.police_reference}")
    grading = "".join(
        str(g)
        for g in (report.source_evaluation, report.intelligence_assessment, report.handling_code)
        if g
    )
    if grading:
        head.append(f"Grading: {grading}")
    body = ["", _shortened(report.description, 1500)]
    if report.subject_description:
        body.append(f"Subject: {_shortened(report.subject_description, 500)}")
    if report.value_pence:
        body.append(f"Value: £{report.value_pence / 100:.2f}")
    if file.photos:
        body.append(f"Photos: {len(file.photos)} (below)")
    timeline = [
        f"{_local(entry.event.created_at, timezone)} · "
        f"{_TIMELINE_KINDS.get(entry.event.kind, entry.event.kind)}"
        + (f" {entry.event.status.replace('_', ' ')}" if entry.event.status else "")
        + f" · {_who(entry.by, police)}"
        + (f": {_shortened(entry.event.text, 300)}" if entry.event.text else "")
        for entry in file.timeline
    ]
    fixed = "\n".join(head + body)
    if not timeline:
        return f"{fixed}\n\nTimeline: nothing since it was reported."
    dropped = 0
    while True:
        shown = timeline[dropped:]
        note = [f"({dropped} earlier entries not shown)"] if dropped else []
        text = "\n".join([fixed, "", "Timeline:", *note, *shown])
        if len(text) <= REPORT_CARD_LIMIT or len(shown) <= 1:
            return text[:REPORT_CARD_LIMIT]
        dropped += 1


# --- Exports for the police and the 3x5x2 grading (/export, /grade, weekly job) -----------

EXPORT_USAGE = (
    "To export the log for the police:\n"
    "/export – last week (Monday to Sunday)\n"
    "/export 2026-11-01 2026-11-15 – the days you name (at most 92)\n"
    "/export norwich … – name the scheme if you belong to several\n"
    "/export witness … – include the reporting members' contact details (coordinators "
    "only; this is recorded)"
)
EXPORT_IN_PRIVATE = "For safety, exports are only sent in a private chat: message me directly."
EXPORT_FAILED = (
    "Sorry, the export could not be made. Nothing was sent. Please try again later; if "
    "it keeps failing, tell your administrator."
)

_EXPORT_PERIOD_PROBLEMS = {
    "not_a_date": "“{value}” is not a date. Use the form YYYY-MM-DD, e.g. 2026-11-01.",
    "reversed": "The period ends before it starts ({value}). Put the first day first.",
    "too_long": "That is {value} days: one export covers at most 92. Please split it up.",
    "usage": "Name both the first and the last day, e.g. /export 2026-11-01 2026-11-15.",
}

_REFUSALS.update(
    {
        "not_your_scheme": "Sorry, you can only export the log of a scheme where you are a "
        "coordinator or police contact.",
        "witness_contact": "Only a scheme coordinator can ask for members' contact details.",
        "forged_button": "That button is not valid any more. Please start again.",
    }
)


def export_bad_period(reason: str, value: str) -> str:
    problem = _EXPORT_PERIOD_PROBLEMS.get(reason, _EXPORT_PERIOD_PROBLEMS["usage"])
    return f"{problem.format(value=value)}\n\n{EXPORT_USAGE}"


def export_choose_scheme(slugs: Iterable[str]) -> str:
    choices = "\n".join(f"/export {slug}" for slug in slugs)
    return f"You can export more than one scheme. Which one?\n{choices}"


def export_preparing(scheme_name: str, first: str, last: str, *, witness_contact: bool) -> str:
    extra = (
        "\nThis copy includes the reporting members' contact details: keep it safe."
        if witness_contact
        else ""
    )
    return (
        f"Preparing the export of {scheme_name} for {first} to {last}. The files will "
        f"arrive here in a moment.{extra}"
    )


_EXPORT_FILE_NAMES = {
    "csv": "CSV, one row per report",
    "xlsx": "spreadsheet: reports and events",
    "pdf": "PDF with photos, timelines and grading",
    "json": "JSON for police systems",
    "manifest": "manifest: SHA-256 of every file and photo (the evidence chain)",
}


def export_caption(
    kind: str, scheme_name: str, first: str, last: str, reports: int, *, weekly: bool
) -> str:
    what = "Weekly export" if weekly else "Export"
    noun = "report" if reports == 1 else "reports"
    return (
        f"{what}, {scheme_name}, {first} to {last}: {reports} {noun}. "
        f"{_EXPORT_FILE_NAMES.get(kind, kind)}."
    )


def export_too_large(filename: str, megabytes: float) -> str:
    return (
        f"{filename} is {megabytes:.0f} MB, more than Telegram lets a bot send (50 MB). "
        "Ask your administrator to run `shopwatch export` for this period, or export "
        "fewer days at a time."
    )


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


TOO_MANY_ALERTS = (
    "That is more than 10 alerts in a minute, so this one was not sent. If the incident "
    "is still going on, add to your last alert by replying to it, or use the radio."
)
TOO_MANY_CHANGES = (
    "That is more than 20 changes in a minute, so this one was not made and nothing was "
    "sent. Wait a minute, then try again."
)
