"""The door of the scheme's chats: join requests, and what Telegram says of the bot's rights.

A join request is answered through `broadcast.chat_guard` (approve an active
member coming by their own link, decline everyone else); a change of the bot's
own status in a scheme chat (`my_chat_member`) is recorded, and a right it lost
told to the coordinators.
"""

from __future__ import annotations

from typing import Any

from telegram import ChatMember, ChatMemberAdministrator, Update
from telegram.ext import BaseHandler, ChatJoinRequestHandler, ChatMemberHandler

from broadcast.chat_guard import ChatGuard, Person
from handlers.context import ShopWatchContext
from storage.models import BotRights, utcnow


def rights_from(chat_id: int, member: ChatMember) -> BotRights:
    """What Telegram says the bot may do in a chat, as the log keeps it."""
    admin = member if isinstance(member, ChatMemberAdministrator) else None
    owner = member.status == ChatMember.OWNER
    return BotRights(
        chat_id=chat_id,
        status=str(member.status),
        can_invite_users=owner or bool(admin and admin.can_invite_users),
        can_restrict_members=owner or bool(admin and admin.can_restrict_members),
        can_delete_messages=owner or bool(admin and admin.can_delete_messages),
        checked_at=utcnow(),
    )


def _guard(context: ShopWatchContext) -> ChatGuard:
    return ChatGuard(context.store, context.services.schemes)


async def join_requested(update: Update, context: ShopWatchContext) -> None:
    request = update.chat_join_request
    viewer = context.viewer
    if request is None or viewer is None or viewer.chat_scheme is None:
        return
    user = request.from_user
    link = request.invite_link.invite_link if request.invite_link else None
    verdict = await _guard(context).join_request(
        viewer.chat_scheme,
        request.chat.id,
        Person(user.id, user.full_name, user.username),
        link,
        utcnow(),
    )
    if verdict is not None:
        context.services.outbox.wake()


async def bot_status_changed(update: Update, context: ShopWatchContext) -> None:
    change = update.my_chat_member
    viewer = context.viewer
    if change is None or viewer is None or viewer.chat_scheme is None:
        return
    rights = rights_from(change.chat.id, change.new_chat_member)
    if await _guard(context).rights_checked(viewer.chat_scheme, rights):
        context.services.outbox.wake()


def chat_guard_handlers() -> list[BaseHandler[Update, ShopWatchContext, Any]]:
    return [
        ChatJoinRequestHandler(join_requested),
        ChatMemberHandler(bot_status_changed, ChatMemberHandler.MY_CHAT_MEMBER),
    ]
