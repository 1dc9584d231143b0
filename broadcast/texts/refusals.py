"""Why a person may not do something, one sentence for each `Refusal`."""

from __future__ import annotations

from config.errors import Refusal

REFUSED_NOT_MEMBER = (
    "Sorry, only approved members of a ShopWatch scheme can do that. "
    "Send /start to find out how to join."
)
_OUT_OF_DATE = "This button is out of date. Nothing was changed."

_REFUSALS: dict[Refusal, str] = {
    Refusal.NOT_MEMBER: REFUSED_NOT_MEMBER,
    Refusal.PENDING: "Your membership is waiting for the coordinator's approval; you will get "
    "a message as soon as you are approved.",
    Refusal.SUSPENDED: "Your membership is suspended. Please contact your scheme coordinator.",
    Refusal.REMOVED: "You are no longer a member of this scheme. Please contact the coordinator.",
    Refusal.WRONG_ROLE: "Sorry, your role in the scheme does not allow that.",
    Refusal.WRONG_SCHEME: "Sorry, you do not manage that scheme.",
    Refusal.NOT_YOUR_SCHEME: "Sorry, you can only export the log of a scheme where you are a "
    "coordinator or police contact.",
    Refusal.OTHER_SCHEME: "That alert belongs to another scheme.",
    Refusal.NOT_YOURS: "Only the member who sent this alert can change it.",
    Refusal.STALE: _OUT_OF_DATE,
    Refusal.FORGED: _OUT_OF_DATE,
    Refusal.FORGED_BUTTON: "That button is not valid any more. Please start again.",
    Refusal.OWN_MEMBERSHIP: "You cannot decide about your own membership.",
    Refusal.NEEDS_ADMIN: "Only an administrator, or a coordinator named in the schemes file, "
    "can suspend, reinstate or remove a coordinator.",
    Refusal.LAST_COORDINATOR: "This is the scheme's last active coordinator: appoint another "
    "before suspending or removing them.",
    Refusal.WITNESS_CONTACT: "Only a scheme coordinator can ask for members' contact details.",
    Refusal.BOT_LACKS_RIGHTS: "The bot lacks a right it needs in one of the scheme's chats, so "
    "nothing was changed. Ask the chat's owner to make the bot an administrator.",
}


def refusal(reason: Refusal) -> str:
    return _REFUSALS[reason]
