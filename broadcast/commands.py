"""The bot's commands: who may use each, where it works, and what /help says of it.

One table serves the help each role reads, the command menu Telegram shows each
person (set per chat with scopes), the answer to a command sent in the wrong chat
("/report works in your private chat with me") and the suggestion for a typo
("/alret": "Did you mean /alert?"). Plain data and sentences, free of Telegram.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from config.vocabulary import EVERY_ROLE, MANAGERS, READERS, REPORTERS, Role


class Where(StrEnum):
    """The kinds of chat a command works in."""

    PRIVATE = "private"
    GROUP = "group"
    CONTROL_ROOM = "control_room"


PRIVATE = frozenset({Where.PRIVATE})


@dataclass(frozen=True)
class Command:
    name: str
    menu: str
    """The command menu's line: a few words."""
    help: str
    """The help's line, after the command: what it does, with an example where one helps."""
    roles: frozenset[Role]
    """Who may use it; empty: anyone at all, a stranger included."""
    where: frozenset[Where] = PRIVATE


COMMANDS: tuple[Command, ...] = (
    Command(
        "alert",
        "Send an alert now",
        "man in red coat took 2 bottles of whisky, heading to Market St – an alert to "
        "every shop and the control room (a photo with a caption does the same)",
        REPORTERS,
        frozenset({Where.PRIVATE, Where.GROUP}),
    ),
    Command(
        "report",
        "A full report, step by step",
        "a report step by step, live or for the log only",
        REPORTERS,
    ),
    Command(
        "search",
        "Search the log",
        "grey hoodie since:7d – search the log (a member shop: its own reports)",
        READERS,
    ),
    Command(
        "show",
        "Open one report",
        "1234 – open report 1234 with its photos and timeline",
        READERS,
    ),
    Command(
        "gallery",
        "The scheme's galleries",
        "– the people sought, known and excluded, one card at a time",
        REPORTERS,
    ),
    Command(
        "link",
        "Link a report to a subject",
        "12 40 – report 40 is (also) Subject #12",
        MANAGERS,
    ),
    Command(
        "merge",
        "Merge two subjects",
        "12 15 – Subject #15 is the same person as Subject #12 and folds into it",
        MANAGERS,
    ),
    Command(
        "identify",
        "Record who a subject is",
        "12 Dean Smith aka Deano | Named by PCSO Hale – Subject #12 is Known, on that basis",
        MANAGERS,
    ),
    Command(
        "notice",
        "Issue a warning or exclusion",
        "12 exclusion | by The board | ref BD-2026-31 – a notice, its letter as a PDF",
        MANAGERS,
    ),
    Command(
        "served",
        "Record a notice served",
        "7 2026-12-03 by hand, PCSO Hale – when and how notice 7 was served",
        MANAGERS,
    ),
    Command(
        "noticeletter", "A notice's letter", "7 – notice 7's letter again, as a PDF", MANAGERS
    ),
    Command(
        "appeal",
        "Record an appeal against a notice",
        "7 received 03/12/2026 I was at work that day – the person's appeal against notice 7",
        MANAGERS,
    ),
    Command(
        "decide",
        "Record the board's decision on an appeal",
        "7 varied ref BD-2027-02 until 02/06/2027 – upheld, varied (with the new end) or "
        "overturned (the notice ends)",
        MANAGERS,
    ),
    Command(
        "sar",
        "A subject access request",
        "12 – everything held about Subject #12 and who saw it, as one zip, with the deadline "
        "(/sar 12 received 02/12/2026 for a request that came earlier)",
        MANAGERS,
    ),
    Command(
        "erase",
        "Erase a wrongly identified subject",
        "12 wrong identification – Subject #12 leaves the galleries, notices and suggestions; "
        "a record of the erasure is kept",
        MANAGERS,
    ),
    Command(
        "export",
        "The log for the police",
        "– last week's log as CSV, XLSX, PDF and JSON; /export 23/11/2026 29/11/2026 for "
        "other days",
        MANAGERS | {Role.POLICE},
    ),
    Command(
        "grade",
        "Grade a report",
        "1234 – set report 1234's intelligence grading",
        MANAGERS,
    ),
    Command(
        "invite",
        "Invite a shop or operator",
        "– a one-time link for a new shop (/invite operator, /invite police, /invite coordinator)",
        MANAGERS,
    ),
    Command("members", "The scheme's members", "– approve, suspend or remove members", MANAGERS),
    Command(
        "whoami", "Your scheme, role and status", "– your scheme, role and status", EVERY_ROLE
    ),
    Command("help", "What you can do here", "– this message", frozenset()),
    Command(
        "start", "Start or join a scheme", "– start, or join with an invite link", frozenset()
    ),
)
_BY_NAME = {command.name: command for command in COMMANDS}


def roles_of(name: str) -> frozenset[Role]:
    """Who may use a command: its handler authorises on the very set its help and menu show,
    so nobody is offered a command they are then refused."""
    return _BY_NAME[name].roles


KNOWN = frozenset(_BY_NAME) | {"cancel"}
"""Every command a handler answers; `cancel` belongs to a question in progress."""

OPERATOR_REPLIES = (
    "Reply to an alert's copy with the police's reference (“ref 36/12345/26”, “CAD 1234”) "
    "to put it on the report; right after Police informed the bare number will do."
)

_WHERE_WORDS = {
    Where.PRIVATE: "in your private chat with me",
    Where.GROUP: "in the scheme's group",
    Where.CONTROL_ROOM: "in the control room",
}


def commands_for(roles: Iterable[Role]) -> list[Command]:
    """The commands someone holding `roles` may use (anyone's, if they hold none)."""
    held = set(roles)
    return [c for c in COMMANDS if not c.roles or held & c.roles]


def menu_for(roles: Iterable[Role]) -> list[tuple[str, str]]:
    """The command menu of a private chat: (command, description) as setMyCommands takes."""
    return [(c.name, c.menu) for c in commands_for(roles)]


GROUP_MENU: tuple[tuple[str, str], ...] = tuple(
    (c.name, c.menu) for c in COMMANDS if Where.GROUP in c.where
)
"""The command menu every scheme group shows."""

STRANGER_HELP = (
    "ShopWatch is a private alert network for member shops of a town's ShopWatch scheme.\n"
    "\n"
    "To join, ask your scheme coordinator for an invite link and open it on this phone. "
    "Once the coordinator approves you, you can send and receive alerts here."
)


def help_for(roles: Iterable[Role]) -> str:
    """The help a person reads in their private chat: their role's commands only."""
    held = set(roles)
    if not held:
        return STRANGER_HELP
    lines = []
    if held & REPORTERS:
        lines += [
            "How to send an alert:",
            "• Send a photo with a short caption (who, what, which way they went), or",
            "• type /alert followed by the description.",
            "",
        ]
    lines.append("What you can do:")
    lines += [f"/{c.name} {c.help}" for c in commands_for(held) if c.name != "start"]
    if held & {Role.OPERATOR, Role.COORDINATOR, Role.ADMIN}:
        lines += ["", OPERATOR_REPLIES]
    return "\n".join(lines)


def wrong_chat(name: str) -> str:
    """A command sent where it does not work: where it does."""
    command = _BY_NAME.get(name)
    places = sorted(command.where if command else PRIVATE)
    where = " or ".join(_WHERE_WORDS[p] for p in places)
    return f"/{name} works {where}: send it there and I will answer."


def suggestion(name: str) -> str | None:
    """The command someone most likely meant by `/name` ("alret": "alert"), if any."""
    found = difflib.get_close_matches(name.lower(), sorted(KNOWN - {"cancel"}), n=1, cutoff=0.6)
    return found[0] if found else None


def unknown_command(name: str, rest: str) -> str:
    meant = suggestion(name)
    if meant is None:
        return f"I don't know /{name}. Send /help to see what you can do."
    return f"I don't know /{name}. Did you mean /{meant}{' ' + rest if rest else ''}?"


JOINING_HELP = (
    "You are joining a ShopWatch scheme: answer the question above to go on, "
    "or send /cancel to stop (your invite link keeps working)."
)
