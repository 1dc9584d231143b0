"""Who is in a group: bans, invite links and join requests, as Telegram does them.

Every method needs the bot to be an administrator holding the right Telegram asks
for (`can_restrict_members` to ban, `can_invite_users` for links and join
requests) and answers Telegram's 400 otherwise. Changes reach the group's
administrator bots as `chat_member` updates, which they get only when their
`allowed_updates` ask for them.
"""

from __future__ import annotations

import secrets

from telegram import ChatInviteLink

from sandbox import dispatch, render
from sandbox.api.context import CallContext, open_chat
from sandbox.errors import ApiError
from sandbox.params import Params
from sandbox.state import ACTIVE_STATUSES, GroupRecord, InviteLinkRecord

NOT_ENOUGH_TO_BAN = "not enough rights to restrict/ban chat member"
NOT_ENOUGH_FOR_LINKS = "not enough rights to manage chat invite link"
ADMIN_REQUIRED = "CHAT_ADMIN_REQUIRED"
MAX_LINK_NAME = 32
MAX_MEMBER_LIMIT = 99_999


def _group(ctx: CallContext, params: Params, *, private: str) -> GroupRecord:
    conv = open_chat(ctx, params.chat_id(), sending=False)
    group = ctx.state.groups.get(conv.chat_id)
    if group is None:
        raise ApiError.bad_request(private)
    return group


def _need(ctx: CallContext, group: GroupRecord, right: str, refusal: str) -> None:
    rights = group.rights_of(ctx.bot.id)
    if rights is None or not getattr(rights, right):
        raise ApiError.bad_request(refusal)


def _user(ctx: CallContext, params: Params) -> int:
    user_id = params.integer("user_id")
    if user_id is None or user_id not in ctx.state.users:
        raise ApiError.bad_request("user not found")
    return user_id


def _change(ctx: CallContext, group: GroupRecord, user_id: int, new: str) -> None:
    old = group.members.get(user_id, "left")
    if old == new:
        return
    group.members[user_id] = new
    if new not in ACTIVE_STATUSES:
        group.rights.pop(user_id, None)
    dispatch.member_changed(ctx.state, group, user_id, by_user_id=ctx.bot.id, change=(old, new))


async def ban_chat_member(ctx: CallContext, params: Params) -> bool:
    group = _group(ctx, params, private="chat member status can't be changed in private chats")
    _need(ctx, group, "can_restrict_members", NOT_ENOUGH_TO_BAN)
    user_id = _user(ctx, params)
    if user_id == ctx.bot.id:
        raise ApiError.bad_request("can't remove self")
    status = group.members.get(user_id, "left")
    if status == "creator":
        raise ApiError.bad_request("can't remove chat owner")
    if status == "administrator":
        raise ApiError.bad_request("user is an administrator of the chat")
    _change(ctx, group, user_id, "kicked")
    ctx.state.touch()
    return True


async def unban_chat_member(ctx: CallContext, params: Params) -> bool:
    """Afterwards the user is out of the chat and free to join again; with
    `only_if_banned`, someone who is not banned is left where they are."""
    group = _group(ctx, params, private="chat member status can't be changed in private chats")
    _need(ctx, group, "can_restrict_members", NOT_ENOUGH_TO_BAN)
    user_id = _user(ctx, params)
    status = group.members.get(user_id, "left")
    if status in ("creator", "administrator"):
        raise ApiError.bad_request("user is an administrator of the chat")
    if status == "kicked" or (status in ACTIVE_STATUSES and not params.flag("only_if_banned")):
        _change(ctx, group, user_id, "left")
    ctx.state.touch()
    return True


async def create_chat_invite_link(ctx: CallContext, params: Params) -> ChatInviteLink:
    group = _group(ctx, params, private="can't invite to a private chat")
    _need(ctx, group, "can_invite_users", NOT_ENOUGH_FOR_LINKS)
    name = params.string("name")
    if name is not None and len(name) > MAX_LINK_NAME:
        raise ApiError.bad_request("INVITE_LINK_NAME_INVALID")
    expire = params.integer("expire_date")
    if expire is not None and expire <= ctx.state.now():
        raise ApiError.bad_request("EXPIRE_DATE_INVALID")
    limit = params.integer("member_limit")
    join_request = params.flag("creates_join_request")
    if limit is not None and not 1 <= limit <= MAX_MEMBER_LIMIT:
        raise ApiError.bad_request("USAGE_LIMIT_INVALID")
    if limit is not None and join_request:
        raise ApiError.bad_request("member limit can't be specified for join request links")
    record = InviteLinkRecord(
        invite_link=f"https://t.me/+{secrets.token_urlsafe(12)}",
        chat_id=group.id,
        creator_id=ctx.bot.id,
        name=name,
        expire_date=expire,
        member_limit=limit,
        creates_join_request=join_request,
    )
    group.links[record.invite_link] = record
    ctx.state.touch()
    return render.invite_link(ctx.state, record)


async def revoke_chat_invite_link(ctx: CallContext, params: Params) -> ChatInviteLink:
    group = _group(ctx, params, private="can't invite to a private chat")
    _need(ctx, group, "can_invite_users", NOT_ENOUGH_FOR_LINKS)
    record = group.links.get(params.string("invite_link") or "")
    if record is None:
        raise ApiError.bad_request("INVITE_HASH_INVALID")
    if record.creator_id != ctx.bot.id and group.members.get(ctx.bot.id) != "creator":
        raise ApiError.bad_request(ADMIN_REQUIRED)
    record.revoked = True
    ctx.state.touch()
    return render.invite_link(ctx.state, record)


def _request(ctx: CallContext, params: Params) -> tuple[GroupRecord, int]:
    group = _group(ctx, params, private="HIDE_REQUESTER_MISSING")
    _need(ctx, group, "can_invite_users", ADMIN_REQUIRED)
    user_id = _user(ctx, params)
    if user_id not in group.join_requests:
        raise ApiError.bad_request("HIDE_REQUESTER_MISSING")
    return group, user_id


async def approve_chat_join_request(ctx: CallContext, params: Params) -> bool:
    """The requester joins: the group's bots see the chat_member change and the service
    message, as when someone joins by a plain link."""
    group, user_id = _request(ctx, params)
    link = group.links.get(group.join_requests.pop(user_id) or "")
    if link is not None:
        link.joined += 1
    dispatch.joined(ctx.state, group, user_id, link)
    return True


async def decline_chat_join_request(ctx: CallContext, params: Params) -> bool:
    group, user_id = _request(ctx, params)
    group.join_requests.pop(user_id)
    ctx.state.touch()
    return True
