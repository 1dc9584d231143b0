"""Who receives which update.

A private message goes to the bot of that chat; a group message goes to every bot that is a
member (privacy mode is assumed off). Bots never receive messages sent by bots, as on Telegram.
"""

from __future__ import annotations

from collections.abc import Callable

from telegram import CallbackQuery, ChatMemberUpdated, Message, Update

from sandbox import render
from sandbox.state import (
    ACTIVE_STATUSES,
    BotRecord,
    CallbackRecord,
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
        new_chat_member=render.member(state, change[1], bot.id),
    )
    state.push_update(bot, "my_chat_member", lambda uid: Update(uid, my_chat_member=changed))
    state.touch()
