"""At the token's limit, the member and the control room hear first.

A county's worth of group copies is going out at Telegram's 30 messages a second
(the sandbox enforcing Telegram's limits), the groups' next copies waiting for the
token, when Alice in Norwich raises a theft. Her confirmation and the control
rooms' copies (Norwich's, and Wymondham's as the neighbour that wants thefts) go
before most of what was still to go; the groups' copies of her alert come after
them, in their turn among the groups, and nobody is refused a message. Told by the
order in which the sandbox took the messages, never by time. Which waiting call the
token lets go first is `tests/test_rate_limit.py`'s.
"""

from __future__ import annotations

from pathlib import Path

from config.vocabulary import Category, MemberStatus, Role, Urgency
from sandbox import MessageView, SandboxLimits
from storage.models import Member, Report
from storage.outbox import Delivery
from storage.outbox_payloads import AlertPayload
from tests.town import Town, running_town

NORWICH_GROUP = -1001000000001
NORWICH_CONTROL_ROOM = -1001000000002
WYMONDHAM_GROUP = -1001000000011
WYMONDHAM_CONTROL_ROOM = -1001000000012
THEFT = "Male 30s, grey hoodie, black joggers, took 6 packs of razor blades, heading to Haymarket"

BACKLOG_GROUPS = 20
"""Groups with copies waiting: fewer than the 24 of the outbox's 32 chats in hand that
groups may take (8 are kept for private chats and control rooms), so the alert's four
chats find room at once and wait only for the token."""
COPIES_EACH = 6
"""Within a group's 20 a minute: the backlog waits for the token, not for the groups."""


async def a_county_backlog(town: Town) -> list[int]:
    """Group copies of an older report for many groups, queued round by round as a busy
    county's would be; the groups, as the sandbox holds them."""
    groups = [-1002000000000 - n for n in range(1, BACKLOG_GROUPS + 1)]
    for n, chat_id in enumerate(groups, start=1):
        town.sandbox.group(chat_id, f"Town {n}", bots=[town.bot])
    scheme = await town.runtime.store.schemes.get_by_slug("norwich")
    assert scheme.id is not None
    report = Report(
        scheme_id=scheme.id,
        category=Category.SUSPICIOUS,
        urgency=Urgency.NOW,
        description="Earlier today, a man trying door handles along the arcade",
    )
    deliveries = [
        Delivery(chat_id, AlertPayload(text=f"Town {n} copy {copy}"))
        for copy in range(1, COPIES_EACH + 1)
        for n, chat_id in enumerate(groups, start=1)
    ]
    await town.runtime.store.reports.create(report, deliveries)
    town.runtime.outbox.wake()
    return groups


def bot_messages(town: Town, chats: list[int]) -> list[MessageView]:
    return [m for chat in chats for m in town.sandbox.chat_messages(town.bot, chat) if m.from_bot]


async def test_at_the_tokens_limit_the_member_and_the_control_rooms_hear_before_the_backlog(
    tmp_path: Path,
) -> None:
    async with running_town(tmp_path, limits=SandboxLimits()) as town:
        scheme = await town.runtime.store.schemes.get_by_slug("norwich")
        assert scheme.id is not None
        await town.runtime.store.members.add(
            Member(
                scheme_id=scheme.id,
                telegram_user_id=5_000_000_101,
                display_name="Alice",
                shop_name="Boots",
                street="Haymarket",
                role=Role.MEMBER,
                status=MemberStatus.ACTIVE,
            )
        )
        alice = town.person(5_000_000_101, "Alice")
        backlog = await a_county_backlog(town)
        await town.sandbox.wait_for(
            lambda: bot_messages(town, backlog), message="the backlog going out"
        )

        raised = await alice.send(town.bot, f"/alert {THEFT}")

        confirmation = await alice.next_reply(town.bot)
        assert "Alert sent" in confirmation.body
        alerts = [NORWICH_CONTROL_ROOM, WYMONDHAM_CONTROL_ROOM, NORWICH_GROUP, WYMONDHAM_GROUP]
        everything = len(backlog) * COPIES_EACH

        def all_sent() -> dict[int, MessageView] | None:
            copies = {chat: bot_messages(town, [chat]) for chat in alerts}
            if len(bot_messages(town, backlog)) < everything or not all(copies.values()):
                return None
            return {chat: shown[0] for chat, shown in copies.items()}

        heard = await town.sandbox.wait_for(all_sent, timeout=60, message="everything sent")
        assert town.sandbox.flood_refusals == 0, "the bot kept to Telegram's limits itself"
        backlog_orders = [m.order for m in bot_messages(town, backlog)]

    rest = [order for order in backlog_orders if order > raised.order]
    first_lane = [
        confirmation.order,
        heard[NORWICH_CONTROL_ROOM].order,
        heard[WYMONDHAM_CONTROL_ROOM].order,
    ]
    after_first_lane = [order for order in rest if order > max(first_lane)]
    assert len(after_first_lane) >= len(rest) // 2, (
        f"of the {len(rest)} backlog copies still to go when Alice raised her alert, "
        f"{len(rest) - len(after_first_lane)} went before her confirmation and the control rooms"
    )
    # Her own alert's group copies are not compared with its control-room copies: the lane
    # orders calls waiting together, and on a loaded machine a group's row may be claimed
    # and let go a moment before the control room's is claimed at all.
    groups = [heard[NORWICH_GROUP].order, heard[WYMONDHAM_GROUP].order]
    assert max(groups) < max(rest), "and in their turn among the groups, before the backlog ends"
