"""The Telegram senders of the outbox rows that guard a scheme's chats.

Bans, unbans, a member's personal join links, the answer to a join request and
a member's own alert message taken down: `broadcast.chat_guard` decides and
queues them, these carry them out. Telegram's "not enough rights" is told to the
scheme's coordinators (once a chat and kind) and the row given up: nothing is
retried that cannot succeed until a person changes the chat's settings.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import Bot
from telegram.error import BadRequest

from broadcast.chat_guard import ChatGuard, chat_label
from broadcast.outbox import OutboxWorker, RetryLaterError, UndeliverableError
from broadcast.texts import chats as chat_texts
from broadcast.texts import formats
from config.schemes import SchemesFile
from storage.enums import AuditOutcome, OutboxKind, OutboxState
from storage.models import ChatLink, OutboxRow, Scheme, utcnow
from storage.store import Store

logger = logging.getLogger(__name__)

GONE = ("user not found", "participant_id_invalid", "user_not_participant")
ANSWERED = ("hide_requester_missing", "user_already_participant")
"""A join request already answered (or withdrawn): answering it again is done, not failed."""
NOT_FOUND = ("message to delete not found",)


def _lacks_rights(error: BadRequest) -> bool:
    message = error.message.lower()
    return any(
        words in message
        for words in ("not enough rights", "message can't be deleted", "chat_admin_required")
    )


class ChatSenders:
    """Registered on the outbox worker by the composition root, one method per kind."""

    def __init__(self, bot: Bot, store: Store, schemes: SchemesFile) -> None:
        self.bot = bot
        self.store = store
        self.guard = ChatGuard(store, schemes)

    def register(self, outbox: OutboxWorker) -> None:
        outbox.senders[OutboxKind.BAN] = self.ban
        outbox.senders[OutboxKind.UNBAN] = self.unban
        outbox.senders[OutboxKind.JOIN_LINK] = self.join_link
        outbox.senders[OutboxKind.JOIN_ANSWER] = self.join_answer
        outbox.senders[OutboxKind.DELETE_MESSAGE] = self.delete_message

    async def _scheme(self, row: OutboxRow) -> Scheme:
        return await self.store.schemes.get(row.scheme_id)

    async def _refused(self, row: OutboxRow, error: BadRequest, right: str) -> UndeliverableError:
        """The bot lacks a right: the coordinators hear which, once; the row is given up."""
        scheme = await self._scheme(row)
        chat = chat_label(scheme, row.chat_id)
        await self.guard.tell_coordinators(
            scheme,
            chat_texts.rights_missing(scheme.name, chat, row.chat_id, [right]),
            key=f"rights:{row.chat_id}:{row.kind}:{right}",
        )
        return UndeliverableError(f"not enough rights ({right}): {error.message}")

    async def _audit(self, row: OutboxRow, action: str, **detail: object) -> None:
        await self.store.audit.record(
            None,
            action,
            AuditOutcome.ALLOWED,
            scheme_id=row.scheme_id,
            detail={"chat_id": row.chat_id, "outbox_id": row.id, **detail},
        )

    async def _was(self, chat_id: int, user_id: int) -> str:
        try:
            return str((await self.bot.get_chat_member(chat_id, user_id)).status)
        except BadRequest:
            return "unknown"

    async def ban(self, row: OutboxRow) -> int | None:
        """Out of the chat (and with `release`, free to be invited back); the member's
        links to that chat stop working first, so a stale link admits nobody."""
        user_id = int(row.payload["user_id"])
        release = bool(row.payload.get("release"))
        was = await self._was(row.chat_id, user_id)
        revoked = await self._revoke_links(row, user_id)
        try:
            await self.bot.ban_chat_member(row.chat_id, user_id)
            if release:
                await self.bot.unban_chat_member(row.chat_id, user_id, only_if_banned=True)
        except BadRequest as exc:
            if _lacks_rights(exc):
                raise await self._refused(row, exc, "can_restrict_members") from None
            raise
        await self._audit(
            row,
            "chat_remove" if release else "chat_ban",
            user_id=user_id,
            was=was,
            links_revoked=revoked,
        )
        return None

    async def _revoke_links(self, row: OutboxRow, user_id: int) -> int:
        member = await self.store.members.get(row.scheme_id, user_id)
        if member is None or member.id is None:
            return 0
        links = await self.store.chats.open_links(member.id, row.chat_id, utcnow())
        for link in links:
            try:
                await self.bot.revoke_chat_invite_link(row.chat_id, link.invite_link)
            except BadRequest as exc:  # expired meanwhile, or made by hand and gone
                logger.info("join link %s not revoked: %s", link.id, exc.message)
        await self.store.chats.mark_revoked([link.id for link in links if link.id])
        return len(links)

    async def unban(self, row: OutboxRow) -> int | None:
        user_id = int(row.payload["user_id"])
        try:
            await self.bot.unban_chat_member(row.chat_id, user_id, only_if_banned=True)
        except BadRequest as exc:
            if _lacks_rights(exc):
                raise await self._refused(row, exc, "can_restrict_members") from None
            raise
        await self._audit(row, "chat_unban", user_id=user_id)
        return None

    async def join_link(self, row: OutboxRow) -> int | None:
        """Make the member's links (reusing those an earlier attempt made) and send them."""
        assert row.id is not None
        payload = row.payload
        hours = int(payload["hours"])
        made = {link.chat_id: link for link in await self.store.chats.links_made_by(row.id)}
        expires = utcnow() + timedelta(hours=hours)
        for chat in payload["chats"]:
            chat_id = int(chat["chat_id"])
            if chat_id in made:
                continue
            try:
                link = await self.bot.create_chat_invite_link(
                    chat_id,
                    expire_date=expires,
                    name=f"ShopWatch member {payload['member_id']}",
                    creates_join_request=True,
                )
            except BadRequest as exc:
                if _lacks_rights(exc):
                    raise await self._refused(row, exc, "can_invite_users") from None
                raise
            made[chat_id] = await self.store.chats.add_link(
                ChatLink(
                    scheme_id=row.scheme_id,
                    member_id=int(payload["member_id"]),
                    chat_id=chat_id,
                    invite_link=link.invite_link,
                    outbox_id=row.id,
                    expires_at=link.expire_date or expires,
                )
            )
        shown = [(str(c["label"]), made[int(c["chat_id"])].invite_link) for c in payload["chats"]]
        until = min(link.expires_at for link in made.values())
        text = chat_texts.join_links(
            str(payload["scheme"]), shown, formats.moment(until, str(payload["timezone"]))
        )
        sent = await self.bot.send_message(
            row.chat_id, text, protect_content=True, disable_web_page_preview=True
        )
        return sent.message_id

    async def join_answer(self, row: OutboxRow) -> int | None:
        user_id = int(row.payload["user_id"])
        approve = bool(row.payload["approve"])
        try:
            if approve:
                await self.bot.approve_chat_join_request(row.chat_id, user_id)
            else:
                await self.bot.decline_chat_join_request(row.chat_id, user_id)
        except BadRequest as exc:
            message = exc.message.lower()
            if any(word in message for word in ANSWERED):
                return None
            if _lacks_rights(exc):
                raise await self._refused(row, exc, "can_invite_users") from None
            raise
        return None

    async def delete_message(self, row: OutboxRow) -> int | None:
        """A member's own message, once the bot's copy (`after`) is in the chat."""
        after = row.payload.get("after_key")
        if after is not None:
            copies = [
                copy
                for copy in await self.store.outbox.by_dedupe_prefix(str(after))
                if copy.dedupe_key == after
            ]
            if not copies or all(copy.state == OutboxState.FAILED for copy in copies):
                raise UndeliverableError(
                    "the bot's copy never reached the chat: the member's message stays"
                )
            if not any(copy.state == OutboxState.SENT for copy in copies):
                raise RetryLaterError("the bot's copy is not in the chat yet")
        message_id = int(row.payload["message_id"])
        try:
            await self.bot.delete_message(row.chat_id, message_id)
        except BadRequest as exc:
            message = exc.message.lower()
            if any(word in message for word in NOT_FOUND):
                return None
            if _lacks_rights(exc):
                raise await self._refused(row, exc, "can_delete_messages") from None
            raise
        await self._audit(row, "member_message_deleted", message_id=message_id)
        return None
