"""The sandbox keeps who is in a group as Telegram does: bans, invite links, join requests and
what each administrator may do, over HTTP with the unmodified client."""

from __future__ import annotations

import datetime as dtm

import pytest
import telegram
from telegram import ChatMemberAdministrator, Update
from telegram.error import BadRequest

from sandbox import BotApiSandbox, BotHandle, Group, Person
from tests.sandbox_fixtures import client_fixture, sandbox_fixture, shop_bot_fixture

__all__ = ["client_fixture", "sandbox_fixture", "shop_bot_fixture"]

NORWICH = -1001000000001
EVERY_UPDATE = list(Update.ALL_TYPES)


def norwich(sandbox: BotApiSandbox, bot: BotHandle, *people: Person) -> Group:
    return sandbox.group(NORWICH, "Norwich ShopWatch", members=list(people), bots=[bot])


async def updates(client: telegram.Bot) -> list[Update]:
    """Every update waiting, confirmed as read."""
    got = list(await client.get_updates(allowed_updates=EVERY_UPDATE))
    if got:
        await client.get_updates(offset=got[-1].update_id + 1, allowed_updates=EVERY_UPDATE)
    return got


async def test_a_ban_keeps_someone_out_until_unbanned(
    sandbox: BotApiSandbox, shop_bot: BotHandle, client: telegram.Bot
) -> None:
    eve = sandbox.user(900001, "Eve")
    group = norwich(sandbox, shop_bot, eve)
    await updates(client)

    assert await client.ban_chat_member(NORWICH, eve.id)

    assert group.people()[eve.id] == "kicked"
    assert not group.holds(eve)
    assert (await client.get_chat_member(NORWICH, eve.id)).status == "kicked"
    [change] = [u.chat_member for u in await updates(client) if u.chat_member]
    assert (change.old_chat_member.status, change.new_chat_member.status) == ("member", "kicked")
    assert await client.unban_chat_member(NORWICH, eve.id, only_if_banned=True)
    assert group.people()[eve.id] == "left", "out, and free to come back"


async def test_unban_without_only_if_banned_takes_a_member_out(
    sandbox: BotApiSandbox, shop_bot: BotHandle, client: telegram.Bot
) -> None:
    sam, priya = sandbox.user(900002, "Sam"), sandbox.user(900003, "Priya")
    group = norwich(sandbox, shop_bot, sam, priya)

    assert await client.unban_chat_member(NORWICH, priya.id, only_if_banned=True)
    assert group.holds(priya), "only_if_banned leaves a member alone"
    assert await client.unban_chat_member(NORWICH, sam.id)
    assert group.people()[sam.id] == "left"
    assert await client.ban_chat_member(NORWICH, 900003)
    assert await client.ban_chat_member(NORWICH, sam.id), "someone who already left is banned"
    assert group.people()[sam.id] == "kicked"


async def test_without_the_right_a_ban_is_refused_as_telegram_refuses_it(
    sandbox: BotApiSandbox, shop_bot: BotHandle, client: telegram.Bot
) -> None:
    owner, eve = sandbox.user(900010, "Olive"), sandbox.user(900011, "Eve")
    group = norwich(sandbox, shop_bot, eve)
    sandbox.group(NORWICH, "Norwich ShopWatch", owner=owner)

    group.set_bot_rights(shop_bot, can_restrict_members=False, can_invite_users=False)

    me = await client.get_chat_member(NORWICH, shop_bot.id)
    assert isinstance(me, ChatMemberAdministrator)
    assert (me.can_restrict_members, me.can_invite_users, me.can_delete_messages) == (
        False,
        False,
        True,
    )
    told = [u.my_chat_member for u in await updates(client) if u.my_chat_member]
    assert told
    assert isinstance(told[-1].new_chat_member, ChatMemberAdministrator)
    assert told[-1].new_chat_member.can_restrict_members is False
    with pytest.raises(BadRequest, match=r"(?i)not enough rights to restrict/ban chat member"):
        await client.ban_chat_member(NORWICH, eve.id)
    with pytest.raises(BadRequest, match=r"(?i)not enough rights to manage chat invite link"):
        await client.create_chat_invite_link(NORWICH, creates_join_request=True)
    group.set_bot_rights(shop_bot, can_restrict_members=True)
    with pytest.raises(BadRequest, match=r"(?i)can't remove chat owner"):
        await client.ban_chat_member(NORWICH, owner.id)
    assert group.holds(eve)


async def test_a_join_request_link_brings_a_request_the_bot_answers(
    sandbox: BotApiSandbox, shop_bot: BotHandle, client: telegram.Bot
) -> None:
    group = norwich(sandbox, shop_bot)
    priya, mallory = sandbox.user(900020, "Priya"), sandbox.user(900021, "Mallory")
    expires = dtm.datetime.now(dtm.UTC) + dtm.timedelta(hours=1)
    link = await client.create_chat_invite_link(
        NORWICH, name="ShopWatch member 7", expire_date=expires, creates_join_request=True
    )
    assert link.creates_join_request
    assert link.name == "ShopWatch member 7"
    assert link.invite_link.startswith("https://t.me/+")

    assert await priya.ask_to_join(link.invite_link) == "requested"
    assert await mallory.ask_to_join(link.invite_link) == "requested"

    requests = [u.chat_join_request for u in await updates(client) if u.chat_join_request]
    assert [(r.from_user.id, r.invite_link and r.invite_link.name) for r in requests] == [
        (priya.id, "ShopWatch member 7"),
        (mallory.id, "ShopWatch member 7"),
    ]
    assert not group.holds(priya), "a request is not a member"
    assert await client.approve_chat_join_request(NORWICH, priya.id)
    assert await client.decline_chat_join_request(NORWICH, mallory.id)
    assert group.holds(priya)
    assert not group.holds(mallory)
    joined = await updates(client)
    assert [u.chat_member.new_chat_member.user.id for u in joined if u.chat_member] == [priya.id]
    assert [u.message.new_chat_members[0].id for u in joined if u.message] == [priya.id]
    with pytest.raises(BadRequest, match=r"(?i)HIDE_REQUESTER_MISSING"):
        await client.approve_chat_join_request(NORWICH, mallory.id)
    assert await priya.ask_to_join(link.invite_link) == "member"

    await client.revoke_chat_invite_link(NORWICH, link.invite_link)
    assert await mallory.ask_to_join(link.invite_link) == "expired"
    await client.ban_chat_member(NORWICH, priya.id)
    plain = await client.create_chat_invite_link(NORWICH)
    assert await priya.ask_to_join(plain.invite_link) == "banned"


async def test_join_requests_and_member_changes_need_allowed_updates(
    sandbox: BotApiSandbox, shop_bot: BotHandle, client: telegram.Bot
) -> None:
    """Telegram leaves chat_member out unless a bot asks for it."""
    norwich(sandbox, shop_bot, sandbox.user(900030, "Eve"))
    await client.get_updates(allowed_updates=["message"])

    await client.ban_chat_member(NORWICH, 900030)

    assert await client.get_updates(allowed_updates=["message"]) == ()


async def test_another_persons_message_is_deleted_only_with_the_right(
    sandbox: BotApiSandbox, shop_bot: BotHandle, client: telegram.Bot
) -> None:
    priya = sandbox.user(900040, "Priya")
    group = norwich(sandbox, shop_bot, priya)
    first = await priya.send(group, "heads up: grey hoodie")
    second = await priya.send(group, "heading to Market St")

    group.set_bot_rights(shop_bot, can_delete_messages=False)

    with pytest.raises(BadRequest, match=r"(?i)message can't be deleted"):
        await client.delete_message(NORWICH, first.message_id)
    group.set_bot_rights(shop_bot, can_delete_messages=True)
    assert await client.delete_message(NORWICH, second.message_id)
    assert not sandbox.refresh(first).deleted
    assert sandbox.refresh(second).deleted
