"""Who receives which update.

A private message goes to the bot of that chat; a group message goes to every bot that is a
member (privacy mode is assumed off). Bots never receive messages sent by bots, as on Telegram.
"""

from __future__ import annotations

from collections.abc import Callable

from telegram import CallbackQuery, ChatJoinRequest, ChatMemberUpdated, Message, Update

from sandbox import render
from sandbox.state import (
    ACTIVE_STATUSES,
    AdminRights,
    BotRecord,
    CallbackRecord,
    GroupRecord,
    InviteLinkRecord,
    MessageRecord,
    SandboxState,
)


def recipients(state: SandboxState, record: MessageRecord) -> list[BotRecord]:
    if record.sender_is_bot:
        return []
    bot_id, chat_id = record.key
    if bot_id:
        bot = state.bots.get(bot_id)
        return [bot] if bot is not None else []
    group = state.groups[chat_id]
    return [
        bot
        for member_id, status in group.members.items()
        if status in ACTIVE_STATUSES and (bot := state.bots.get(member_id)) is not None
    ]


def message_posted(state: SandboxState, record: MessageRecord, *, edited: bool = False) -> None:
    """Deliver a person's new (or edited) message to the bots that see it."""
    kind = "edited_message" if edited else "message"
    for bot in recipients(state, record):
        state.push_update(
            bot, kind, _message_update(render.message(state, record, bot.id), edited)
        )
    state.touch()


def _message_update(shown: Message, edited: bool) -> Callable[[int], Update]:
    def build(update_id: int) -> Update:
        if edited:
            return Update(update_id, edited_message=shown)
        return Update(update_id, message=shown)

    return build


def callback_pressed(state: SandboxState, callback: CallbackRecord, record: MessageRecord) -> None:
    bot = state.bots[callback.bot_id]
    conv = state.conversations[record.key]
    query = CallbackQuery(
        id=callback.id,
        from_user=render.user(state.users[callback.user_id]),
        chat_instance=conv.chat_instance,
        message=render.message(state, record, bot.id),
        data=callback.data,
    )
    state.push_update(bot, "callback_query", lambda uid: Update(uid, callback_query=query))
    state.touch()


def membership_changed(
    state: SandboxState,
    bot: BotRecord,
    *,
    chat_id: int,
    by_user_id: int,
    change: tuple[str, str],
) -> None:
    """Tell ``bot`` its own status in a chat changed: ``change`` is (old, new) status."""
    changed = ChatMemberUpdated(
        chat=render.chat(state, chat_id),
        from_user=render.user(state.users[by_user_id]),
        date=render.timestamp(state.now()),
        old_chat_member=render.member(state, change[0], bot.id),
        new_chat_member=render.member(state, change[1], bot.id, _rights(state, chat_id, bot.id)),
    )
    state.push_update(bot, "my_chat_member", lambda uid: Update(uid, my_chat_member=changed))
    state.touch()


def _rights(state: SandboxState, chat_id: int, member_id: int) -> AdminRights | None:
    group = state.groups.get(chat_id)
    return group.rights.get(member_id) if group is not None else None


def _administrator_bots(
    state: SandboxState, group: GroupRecord, right: str | None = None
) -> list[BotRecord]:
    """The group's bots that are administrators (holding `right`, if named): Telegram tells
    only them of other people's membership and join requests."""
    out = []
    for member_id in group.members:
        bot = state.bots.get(member_id)
        rights = group.rights_of(member_id)
        if bot is None or rights is None:
            continue
        if right is None or getattr(rights, right):
            out.append(bot)
    return out


def member_changed(
    state: SandboxState,
    group: GroupRecord,
    user_id: int,
    *,
    by_user_id: int,
    change: tuple[str, str],
    link: InviteLinkRecord | None = None,
) -> None:
    """A `chat_member` update about someone else, to the group's administrator bots."""
    changed = ChatMemberUpdated(
        chat=render.group_chat(group),
        from_user=render.user(state.users[by_user_id]),
        date=render.timestamp(state.now()),
        old_chat_member=render.member(state, change[0], user_id),
        new_chat_member=render.member(state, change[1], user_id),
        invite_link=render.invite_link(state, link) if link is not None else None,
    )
    for bot in _administrator_bots(state, group):
        if bot.id != user_id:
            state.push_update(bot, "chat_member", lambda uid: Update(uid, chat_member=changed))
    state.touch()


def joined(
    state: SandboxState, group: GroupRecord, user_id: int, link: InviteLinkRecord | None
) -> None:
    """Someone joins (by a link, or approved): the chat_member update, then the service
    message every bot in the group sees."""
    old = group.members.get(user_id, "left")
    group.members[user_id] = "member"
    member_changed(state, group, user_id, by_user_id=user_id, change=(old, "member"), link=link)
    conv = state.conversation(state.group_key(group.id))
    record = state.new_message(conv, state.users[user_id])
    record.new_chat_members = (user_id,)
    message_posted(state, record)


def join_requested(
    state: SandboxState, group: GroupRecord, user_id: int, link: InviteLinkRecord
) -> None:
    """A `chat_join_request` update to the administrator bots that may answer it."""
    request = ChatJoinRequest(
        chat=render.group_chat(group),
        from_user=render.user(state.users[user_id]),
        date=render.timestamp(state.now()),
        user_chat_id=user_id,
        invite_link=render.invite_link(state, link),
    )
    for bot in _administrator_bots(state, group, "can_invite_users"):
        state.push_update(
            bot, "chat_join_request", lambda uid: Update(uid, chat_join_request=request)
        )
    state.touch()
