"""Per-command role requirements, on top of the access check of group -1.

The access check says who someone is; `requires` says what a command needs. A
refusal is one polite sentence to the person and a line in the audit trail.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from telegram import Update

from broadcast.texts import refusals as refusal_texts
from config.errors import Refusal
from config.vocabulary import REPORTERS, AuditOutcome, MemberStatus, Role
from handlers.context import Membership, ShopWatchContext, Viewer
from storage.ids import stored_id

logger = logging.getLogger(__name__)

# Coroutines, as python-telegram-bot's handlers expect of their callbacks.
Callback = Callable[[Update, ShopWatchContext], Coroutine[Any, Any, object]]
Guarded = Callable[[Update, ShopWatchContext, Membership], Coroutine[Any, Any, object]]

EVERYONE_ACTIVE = REPORTERS
_NOT_ACTIVE = {
    MemberStatus.PENDING: Refusal.PENDING,
    MemberStatus.SUSPENDED: Refusal.SUSPENDED,
    MemberStatus.REMOVED: Refusal.REMOVED,
}


async def refuse(
    update: Update,
    context: ShopWatchContext,
    action: str,
    reason: Refusal,
    *,
    scheme_id: int | None = None,
    detail: Mapping[str, Any] | None = None,
    text: str | None = None,
) -> None:
    """Tell the person no, in one sentence, and audit it.

    `scheme_id` and `detail` let a refusal in a private chat name what it was about
    (the member a forged button pointed at), since the chat itself names no scheme;
    `text` replaces the reason's usual sentence when the refusal has more to say.
    """
    user = update.effective_user
    scheme = context.viewer.chat_scheme if context.viewer else None
    if scheme_id is None and scheme is not None:
        scheme_id = stored_id(scheme)
    await context.store.audit.record(
        actor_telegram_id=user.id if user else 0,
        action=action,
        outcome=AuditOutcome.REFUSED,
        scheme_id=scheme_id,
        detail={**(detail or {}), "reason": reason},
    )
    said = text or refusal_texts.refusal(reason)
    if update.callback_query is not None:
        await update.callback_query.answer(said, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(said)


def requires(*roles: Role, action: str) -> Callable[[Guarded], Callback]:
    """Wrap a callback so it runs only for an active member holding one of `roles`."""

    def decorate(callback: Guarded) -> Callback:
        @functools.wraps(callback)
        async def guarded(update: Update, context: ShopWatchContext) -> object:
            viewer = context.viewer
            membership = viewer.acting_as(roles) if viewer else None
            if membership is None:
                await refuse(update, context, action, _refusal_for(viewer))
                return None
            return await callback(update, context, membership)

        return guarded

    return decorate


def _refusal_for(viewer: Viewer | None) -> Refusal:
    """Why someone with no fitting membership is refused: not a member, not active (yet,
    or any more), or active with a role that does not allow it."""
    if viewer is None or not viewer.memberships:
        return Refusal.NOT_MEMBER
    if not viewer.active:
        return not_active(viewer.memberships[0].member.status)
    return Refusal.WRONG_ROLE


def not_active(status: MemberStatus) -> Refusal:
    """Why a member who is not active is refused: waiting, suspended or removed."""
    return _NOT_ACTIVE.get(status, Refusal.NOT_MEMBER)
