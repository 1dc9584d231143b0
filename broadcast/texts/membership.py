"""Membership: invites, joining, approval, managing members, /whoami."""

from __future__ import annotations

from collections.abc import Iterable

from broadcast.texts.common import HELP_MEMBER, HELP_STRANGER

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
