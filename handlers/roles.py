"""Per-command role requirements, on top of the access check of group -1.

The access check says who someone is; `requires` says what a command needs. A
refusal is one polite sentence to the person and a line in the audit trail.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable

from telegram import Update

from broadcast import texts
from handlers.context import Membership, ShopWatchContext
from storage.enums import AuditOutcome, Role

logger = logging.getLogger(__name__)

Callback = Callable[[Update, ShopWatchContext], Awaitable[object]]
Guarded = Callable[[Update, ShopWatchContext, Membership], Awaitable[object]]

EVERYONE_ACTIVE = (Role.MEMBER, Role.OPERATOR, Role.COORDINATOR, Role.ADMIN)


async def refuse(update: Update, context: ShopWatchContext, action: str, reason: str) -> None:
    """Tell the person no, in one sentence, and audit it."""
    user = update.effective_user
    scheme = context.viewer.chat_scheme if context.viewer else None
    await context.store.audit.record(
        actor_telegram_id=user.id if user else 0,
        action=action,
        outcome=AuditOutcome.REFUSED,
        scheme_id=scheme.id if scheme else None,
        detail={"reason": reason},
    )
    if update.callback_query is not None:
        await update.callback_query.answer(texts.refusal(reason), show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(texts.refusal(reason))


def requires(*roles: Role, action: str) -> Callable[[Guarded], Callback]:
    """Wrap a callback so it runs only for an active member holding one of `roles`."""

    def decorate(callback: Guarded) -> Callback:
        @functools.wraps(callback)
        async def guarded(update: Update, context: ShopWatchContext) -> object:
            viewer = context.viewer
            membership = viewer.acting_as(roles) if viewer else None
            if membership is None:
                reason = "not_member" if viewer is None or not viewer.active else "wrong_role"
                if viewer is not None and not viewer.active and viewer.memberships:
                    reason = str(viewer.memberships[0].member.status)
                await refuse(update, context, action, reason)
                return None
            return await callback(update, context, membership)

        return guarded

    return decorate
