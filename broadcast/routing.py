"""Who hears an alert: the routing rules of the schemes file, applied as data.

A live alert goes to its own scheme's group and control room, and to each
neighbour whose rule wants that category and urgency. A log-only report goes
nowhere: it is stored and searchable, not broadcast.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from config.schemes import SchemesFile
from config.vocabulary import Category, Urgency


class Audience(StrEnum):
    """Why a chat receives an alert; rendering and status edits differ by audience."""

    GROUP = "group"
    CONTROL_ROOM = "control_room"
    NEIGHBOUR_GROUP = "neighbour_group"
    NEIGHBOUR_CONTROL_ROOM = "neighbour_control_room"


@dataclass(frozen=True)
class Recipient:
    scheme_slug: str
    chat_id: int
    audience: Audience


def recipients(
    schemes: SchemesFile,
    scheme_slug: str,
    category: Category,
    urgency: Urgency,
    *,
    from_peer: bool = False,
) -> list[Recipient]:
    """The chats one report from `scheme_slug` must reach, in delivery order.

    A report that came from a peer on another deployment (`from_peer`) reaches the
    scheme's own chats only: a peer's alert is never passed on to our neighbours,
    whose agreements are with us, not with the peer.
    """
    if urgency is not Urgency.NOW:
        return []
    own = schemes.scheme(scheme_slug)
    out = [
        Recipient(own.slug, own.control_room_chat_id, Audience.CONTROL_ROOM),
        Recipient(own.slug, own.group_chat_id, Audience.GROUP),
    ]
    if from_peer:
        return out
    local = {s.slug for s in schemes.schemes}
    for rule in own.neighbours:
        if rule.slug not in local or not rule.wants(category, urgency):
            continue  # remote peers are reached over federation, not by chat
        neighbour = schemes.scheme(rule.slug)
        out.append(
            Recipient(
                neighbour.slug, neighbour.control_room_chat_id, Audience.NEIGHBOUR_CONTROL_ROOM
            )
        )
        out.append(Recipient(neighbour.slug, neighbour.group_chat_id, Audience.NEIGHBOUR_GROUP))
    return out
