"""The one access check every update passes before any feature sees it.

Runs as a `TypeHandler` in group -1: it works out who sent the update and which
scheme's chat it came from, records that on the context for the handlers, and
stops the update (`ApplicationHandlerStop`) when nobody should act on it. Doing
this once, first, means a feature cannot forget to check.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ApplicationHandlerStop, BaseHandler, TypeHandler

from broadcast.chat_guard import ChatGuard, Person
from broadcast.texts import refusals as refusal_texts
from config.errors import Refusal
from config.vocabulary import AuditOutcome
from handlers.context import Membership, ShopWatchContext, Viewer
from handlers.roles import not_active
from storage.ids import stored_id
from storage.models import utcnow
from storage.schemes import COORDINATOR_PLACEHOLDER_NAME

logger = logging.getLogger(__name__)

ACCESS_GROUP = -1
TELEGRAM_ID_LIMIT = 2**52
"""Telegram's ids have at most 52 significant bits; a user's id is positive."""


async def identify(update: Update, context: ShopWatchContext) -> None:
    """Attach a `Viewer` to the context, or stop updates nobody should act on."""
    user = update.effective_user
    chat = update.effective_chat
    if user is None or chat is None or user.is_bot:
        logger.debug("update %s has no human sender; ignored", update.update_id)
        raise ApplicationHandlerStop
    if not _plausible(user.id, chat.id):
        # Not from Telegram: no database column holds such an id, and no chat has it.
        logger.warning("update %s with impossible ids ignored", update.update_id)
        raise ApplicationHandlerStop
    store = context.store
    found = await store.members.for_user(user.id)
    if any(member.display_name == COORDINATOR_PLACEHOLDER_NAME for member, _ in found):
        # A coordinator the schemes file listed is named as Telegram names them.
        await store.members.name_placeholders(user.id, user.full_name)
        found = await store.members.for_user(user.id)
    memberships = tuple(Membership(member, scheme) for member, scheme in found)
    chat_scheme = None
    if chat.type != ChatType.PRIVATE:
        chat_scheme = await store.schemes.get_by_chat_id(chat.id)
        if chat_scheme is None:
            logger.info(
                "update %s from chat %s that is no scheme's; ignored", update.update_id, chat.id
            )
            raise ApplicationHandlerStop
    viewer = Viewer(
        user_id=user.id,
        first_name=user.first_name,
        memberships=memberships,
        chat_scheme=chat_scheme,
    )
    if chat_scheme is not None and not any(m.scheme.id == chat_scheme.id for m in viewer.active):
        if _is_chat_event(update):
            # Someone joining or asking to join, or the bot's own status changed by the
            # chat's owner: handlers/membership and handlers/chat_guard decide.
            context.viewer = viewer
            return
        query = update.callback_query
        if query is not None:
            # A press on one of the bot's own cards by someone no longer active here (a
            # suspended operator still in a chat run by hand): answered, so the spinner
            # stops, audited, and nothing else happens.
            here = [m.member for m in memberships if m.scheme.id == chat_scheme.id]
            reason = not_active(here[0].status) if here else Refusal.NOT_MEMBER
            await store.audit.record(
                actor_telegram_id=user.id,
                action="group_press",
                outcome=AuditOutcome.REFUSED,
                scheme_id=stored_id(chat_scheme),
                detail={"chat_id": chat.id, "reason": reason},
            )
            await query.answer(refusal_texts.refusal(reason), show_alert=True)
            raise ApplicationHandlerStop
        # Non-members in a scheme's group are never relayed or answered, and are removed.
        await store.audit.record(
            actor_telegram_id=user.id,
            action="group_message",
            outcome=AuditOutcome.REFUSED,
            scheme_id=stored_id(chat_scheme),
            detail={"chat_id": chat.id, "reason": "not an active member"},
        )
        message = update.effective_message
        if message is not None:
            guard = ChatGuard(store, context.services.schemes)
            stranger = Person(user.id, user.full_name, user.username)
            title = chat.title or chat_scheme.name
            cause = f"msg{message.message_id}"
            if await guard.strangers(
                chat_scheme, chat.id, title, [stranger], cause=cause, now=utcnow()
            ):
                context.services.outbox.wake()
        raise ApplicationHandlerStop
    context.viewer = viewer


def _plausible(user_id: object, chat_id: object) -> bool:
    return (
        type(user_id) is int
        and type(chat_id) is int
        and 0 < user_id < TELEGRAM_ID_LIMIT
        and 0 < abs(chat_id) < TELEGRAM_ID_LIMIT * 1000
    )


def _is_chat_event(update: Update) -> bool:
    return (
        update.chat_member is not None
        or update.my_chat_member is not None
        or update.chat_join_request is not None
        or bool(update.message is not None and update.message.new_chat_members)
    )


def access_handlers() -> list[BaseHandler[Update, ShopWatchContext, None]]:
    return [TypeHandler(Update, identify)]
