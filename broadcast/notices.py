"""Notices to a scheme's coordinators: a chat the bot cannot post in, a peer town that
will never get an alert, a right the bot lacks in a chat."""

from __future__ import annotations

from config.vocabulary import MemberStatus, Role
from storage.outbox import Delivery
from storage.outbox_payloads import MessagePayload
from storage.store import Store


async def tell_coordinators(store: Store, scheme_id: int, text: str, *, key: str) -> int:
    """A notice to every active coordinator, once per `key` (one row each); returns how
    many were queued for. The caller wakes the outbox worker."""
    active = await store.members.list_by_status(scheme_id, MemberStatus.ACTIVE)
    coordinators = [m for m in active if m.role == Role.COORDINATOR]
    for coordinator in coordinators:
        await store.outbox.enqueue(
            scheme_id,
            Delivery(
                coordinator.telegram_user_id,
                MessagePayload(text=text),
                dedupe_key=f"{key}:{coordinator.telegram_user_id}",
            ),
        )
    return len(coordinators)
