"""The scheme's chats: who the bot lets in or removes, and the rights it needs there."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

GROUP_CHAT = "the group"


CONTROL_ROOM_CHAT = "the control room"


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


def chat_unreachable(chat_id: int, error: str) -> str:
    return (
        f"ShopWatch cannot post in chat {chat_id} ({error}). Alerts to that chat are not "
        "being delivered: please add the bot back to the chat as an administrator."
    )
