"""Every sentence a person reads from ShopWatch, in one place.

Kept together so the wording can be reviewed by a scheme (plain English, short,
readable on a phone with one hand) and later translated without hunting through
handlers. Functions take plain values so this module stays free of Telegram.
"""

from __future__ import annotations

from collections.abc import Iterable

HELP_MEMBER = (
    "How to send an alert:\n"
    "• Send a photo with a short caption (who, what, which way they went), or\n"
    "• type /alert followed by the description.\n"
    "\n"
    "Other commands:\n"
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

BOT_COMMANDS: tuple[tuple[str, str], ...] = (
    ("start", "Start or join a scheme"),
    ("help", "How to send an alert"),
    ("whoami", "Your scheme, role and status"),
)


def chat_unreachable(chat_id: int, error: str) -> str:
    return (
        f"ShopWatch cannot post in chat {chat_id} ({error}). Alerts to that chat are not "
        "being delivered: please add the bot back to the chat as an administrator."
    )


_REFUSALS = {
    "not_member": REFUSED_NOT_MEMBER,
    "pending": "Your membership is waiting for the coordinator's approval; you will get a "
    "message as soon as you are approved.",
    "suspended": "Your membership is suspended. Please contact your scheme coordinator.",
    "removed": "You are no longer a member of this scheme. Please contact the coordinator.",
    "wrong_role": "Sorry, your role in the scheme does not allow that.",
}


def refusal(reason: str) -> str:
    return _REFUSALS.get(reason, _REFUSALS["wrong_role"])
