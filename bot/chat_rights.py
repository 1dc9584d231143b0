"""At start-up: the bot looks at its own rights in every scheme chat, and whoever the
schemes file no longer names as coordinator leaves the chats their new role does not
belong in."""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.error import TelegramError

from broadcast.chat_guard import ChatGuard, missing_rights
from config.schemes import SchemesFile
from handlers.chat_guard import rights_from
from storage.models import BotRights, Member, Scheme, utcnow
from storage.store import Store

logger = logging.getLogger(__name__)


async def rights_in(bot: Bot, chat_id: int) -> BotRights:
    """`getChatMember` on the bot itself; a chat it cannot see counts as one it is not in."""
    try:
        member = await bot.get_chat_member(chat_id, bot.id)
    except TelegramError as exc:
        logger.warning("the bot cannot see chat %s: %s", chat_id, exc.message)
        return BotRights(chat_id=chat_id, status="left", checked_at=utcnow())
    return rights_from(chat_id, member)


async def check_rights(bot: Bot, store: Store, schemes: SchemesFile) -> dict[int, list[str]]:
    """Record the bot's rights in each scheme chat; returns what it lacks, by chat.

    The coordinators of a scheme hear of a missing right once (not at every start).
    """
    guard = ChatGuard(store, schemes)
    listed = {s.slug for s in schemes.schemes}
    lacking: dict[int, list[str]] = {}
    for scheme in await store.schemes.list_all():
        if scheme.slug not in listed:
            continue
        for chat_id in (scheme.group_chat_id, scheme.control_room_chat_id):
            rights = await rights_in(bot, chat_id)
            missing = await guard.rights_checked(scheme, rights)
            if missing:
                lacking[chat_id] = missing
                logger.warning(
                    "the bot lacks %s in chat %s of %s",
                    ", ".join(missing_rights(rights)),
                    chat_id,
                    scheme.slug,
                )
    return lacking


async def roles_withdrawn(store: Store, schemes: SchemesFile, demoted: list[Member]) -> int:
    """Out of the chats their new role does not belong in; returns how many chats."""
    guard = ChatGuard(store, schemes)
    rows: dict[int, Scheme] = {}
    out = 0
    for member in demoted:
        if member.scheme_id not in rows:
            rows[member.scheme_id] = await store.schemes.get(member.scheme_id)
        out += await guard.role_changed(member, rows[member.scheme_id], utcnow())
    return out
