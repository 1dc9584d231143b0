"""Words many features share: the help, the welcome, what goes wrong on our side."""

from __future__ import annotations

from collections.abc import Iterable

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


SOMETHING_WENT_WRONG = (
    "Sorry, something went wrong on our side and your message was not handled. "
    "Please try again in a minute; if it is urgent, use the radio."
)


LOG_UNAVAILABLE = (
    "Sorry, the bot cannot reach its log just now, so your message was not stored and "
    "nothing was sent: an alert did NOT go out. Please try again in a minute; if it is "
    "urgent, use the radio."
)


ONLY_IN_PRIVATE = "Please send that command to me in a private chat, not in the group."
