"""Routing rules are data: each row is one report and the chats it must reach."""

from __future__ import annotations

from pathlib import Path

import pytest

from broadcast.routing import Audience, recipients
from config.schemes import load_schemes
from config.vocabulary import Category, Urgency

SCHEMES = load_schemes(Path(__file__).resolve().parent.parent / "schemes.example.toml")

NORWICH = {-1001000000002: Audience.CONTROL_ROOM, -1001000000001: Audience.GROUP}
WYMONDHAM = {
    -1001000000012: Audience.NEIGHBOUR_CONTROL_ROOM,
    -1001000000011: Audience.NEIGHBOUR_GROUP,
}
YARMOUTH = {
    -1001000000022: Audience.NEIGHBOUR_CONTROL_ROOM,
    -1001000000021: Audience.NEIGHBOUR_GROUP,
}
NORWICH_AS_NEIGHBOUR = {
    -1001000000002: Audience.NEIGHBOUR_CONTROL_ROOM,
    -1001000000001: Audience.NEIGHBOUR_GROUP,
}
WYMONDHAM_OWN = {-1001000000012: Audience.CONTROL_ROOM, -1001000000011: Audience.GROUP}


@pytest.mark.parametrize(
    ("scheme", "category", "urgency", "expected"),
    [
        ("norwich", Category.THEFT, Urgency.NOW, NORWICH | WYMONDHAM),
        ("norwich", Category.VIOLENCE, Urgency.NOW, NORWICH | WYMONDHAM | YARMOUTH),
        ("norwich", Category.FRAUD, Urgency.NOW, NORWICH | WYMONDHAM),
        ("norwich", Category.ASB, Urgency.NOW, NORWICH),
        ("norwich", Category.SUSPICIOUS, Urgency.NOW, NORWICH),
        ("norwich", Category.THEFT, Urgency.LOG, {}),
        ("wymondham", Category.SUSPICIOUS, Urgency.NOW, WYMONDHAM_OWN | NORWICH_AS_NEIGHBOUR),
        ("wymondham", Category.DAMAGE, Urgency.NOW, WYMONDHAM_OWN),
        (
            "kings-lynn",
            Category.VIOLENCE,
            Urgency.NOW,
            {-1001000000032: Audience.CONTROL_ROOM, -1001000000031: Audience.GROUP},
        ),
    ],
)
def test_a_report_reaches_exactly_the_chats_its_rules_name(
    scheme: str, category: Category, urgency: Urgency, expected: dict[int, Audience]
) -> None:
    routed = recipients(SCHEMES, scheme, category, urgency)

    assert {r.chat_id: r.audience for r in routed} == expected
    assert len(routed) == len(expected), "no chat receives a report twice"


def test_the_control_room_hears_first() -> None:
    routed = recipients(SCHEMES, "norwich", Category.THEFT, Urgency.NOW)
    assert routed[0].audience is Audience.CONTROL_ROOM
