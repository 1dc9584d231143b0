"""The scheme's chats hold only the people they should: the bot admits, removes and checks.

Everything lawful about a scheme (vetted members, protected copies, copies gone
within 48 hours) rests on its group and control room holding only its active
members. This module decides, free of Telegram, what must happen in a chat:
a ban, an unban, a member's personal join links, the answer to a join request,
a member's own alert message taken down. Each is an outbox row of its own kind
(sent by `bot/senders.py`), queued with the decision that causes it.

A scheme whose `chat_policy` is `notify-only` runs its chats by hand: the bot
then only tells the coordinators of strangers, as it always did.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from broadcast.notices import tell_coordinators
from broadcast.texts import chats as chat_texts
from config.errors import AccessDeniedError, Refusal
from config.schemes import SchemeConfig, SchemesFile
from config.vocabulary import CONTROL_ROOM, AuditOutcome, MemberStatus, Role
from storage.ids import stored_id
from storage.models import BotRights, Member, Scheme
from storage.outbox import Delivery
from storage.outbox_payloads import (
    BanPayload,
    DeleteMessagePayload,
    JoinAnswerPayload,
    JoinChat,
    JoinLinkPayload,
    UnbanPayload,
)
from storage.store import Store

"""Who belongs in the control room besides the group; everyone active belongs in the group."""

INVITE = "can_invite_users"
RESTRICT = "can_restrict_members"
DELETE = "can_delete_messages"
ADMINISTRATOR = "administrator"
ADMIN_STATUSES = frozenset({"administrator", "creator"})

STRANGER_NOTICE_WINDOW = timedelta(minutes=10)
"""Telegram reports one arrival twice (a service message and a chat_member update), and
someone may hop in and out: within this window the coordinators hear of a person once."""


@dataclass(frozen=True, slots=True)
class Person:
    """Someone Telegram names in a scheme chat: joining, asking to join, or writing."""

    user_id: int
    name: str
    username: str | None


@dataclass(frozen=True, slots=True)
class JoinVerdict:
    approve: bool
    reason: str | None
    member: Member | None


class MissingRightError(AccessDeniedError):
    """The bot may not do what a decision needs in one of the scheme's chats.

    Raised before anything changes, so a decision is taken whole or not at all;
    `text` names the chat and the right for the person who asked.
    """

    def __init__(self, scheme: Scheme, chat_id: int, right: str) -> None:
        super().__init__(Refusal.BOT_LACKS_RIGHTS)
        self.chat_id = chat_id
        self.right = right
        self.text = chat_texts.bot_lacks_right(scheme.name, chat_label(scheme, chat_id), right)


def chats_for(scheme: Scheme, role: Role) -> list[int]:
    """The scheme chats a member of `role` belongs in: the group, and for the control
    room's people the control room too."""
    chats = [scheme.group_chat_id]
    if role in CONTROL_ROOM:
        chats.append(scheme.control_room_chat_id)
    return chats


def chat_label(scheme: Scheme, chat_id: int) -> str:
    return (
        chat_texts.CONTROL_ROOM_CHAT
        if chat_id == scheme.control_room_chat_id
        else chat_texts.GROUP_CHAT
    )


def missing_rights(rights: BotRights) -> list[str]:
    """What the bot lacks in a chat, by the Bot API's names; [] when it has all it needs."""
    if rights.status not in ADMIN_STATUSES:
        return [ADMINISTRATOR]
    if rights.status == "creator":
        return []
    return [name for name in (INVITE, RESTRICT, DELETE) if not getattr(rights, name)]


def lacking(config: SchemeConfig, rights: BotRights) -> list[str]:
    """What the bot lacks of what this scheme needs of it in a chat.

    A scheme that runs its chats by hand (`notify-only`) needs the bot only to delete
    members' alert messages, and only when it replaces them.
    """
    missing = missing_rights(rights)
    if config.guards_chats:
        return missing
    needed = {ADMINISTRATOR, DELETE} if config.replace_member_alerts else set()
    return [m for m in missing if m in needed]


def stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y%m%d%H%M%S%f")


# --- the deliveries, one kind each ----------------------------------------------------------


def ban(chat_id: int, user_id: int, *, release: bool, key: str) -> Delivery:
    """Out of the chat; `release` unbans at once (removed, may be invited back later),
    otherwise they stay banned until an unban (suspended)."""
    return Delivery(chat_id, BanPayload(user_id=user_id, release=release), dedupe_key=key)


def unban(chat_id: int, user_id: int, *, key: str) -> Delivery:
    return Delivery(chat_id, UnbanPayload(user_id=user_id), dedupe_key=key)


def join_link(member: Member, scheme: Scheme, hours: int, *, key: str) -> Delivery:
    """The member's personal links (one per chat their role belongs in), in their chat."""
    chats = tuple(
        JoinChat(chat_id=chat, label=chat_label(scheme, chat))
        for chat in chats_for(scheme, member.role)
    )
    payload = JoinLinkPayload(
        member_id=stored_id(member),
        scheme=scheme.name,
        timezone=scheme.timezone,
        chats=chats,
        hours=hours,
    )
    return Delivery(member.telegram_user_id, payload, dedupe_key=key)


def join_answer(chat_id: int, user_id: int, *, approve: bool, key: str) -> Delivery:
    return Delivery(chat_id, JoinAnswerPayload(user_id=user_id, approve=approve), dedupe_key=key)


def delete_message(chat_id: int, message_id: int, *, after_key: str | None = None) -> Delivery:
    """A member's own message taken down; `after_key` is the dedupe key of the outbox row
    (the bot's copy) that must be in the chat first. One per message, however often asked."""
    return Delivery(
        chat_id,
        DeleteMessagePayload(message_id=message_id, after_key=after_key),
        dedupe_key=f"original:{chat_id}:{message_id}",
    )


class ChatGuard:
    """What the bot does in a scheme's chats; one instance per call is fine."""

    def __init__(self, store: Store, schemes: SchemesFile) -> None:
        self.store = store
        self.schemes = schemes

    def config(self, scheme: Scheme) -> SchemeConfig | None:
        try:
            return self.schemes.scheme(scheme.slug)
        except KeyError:
            return None

    def guards(self, scheme: Scheme) -> bool:
        config = self.config(scheme)
        return config is not None and config.guards_chats

    async def require(self, scheme: Scheme, chats: Iterable[int], right: str) -> None:
        """`MissingRightError` if the bot is known to lack `right` in one of `chats`.

        A chat the bot has not looked at yet (start-up looks at every one) is taken
        on trust: the delivery then fails with Telegram's own reason.
        """
        for chat_id in chats:
            rights = await self.store.chats.rights(chat_id)
            if rights is None:
                continue
            missing = missing_rights(rights)
            if ADMINISTRATOR in missing:
                raise MissingRightError(scheme, chat_id, ADMINISTRATOR)
            if right in missing:
                raise MissingRightError(scheme, chat_id, right)

    async def for_decision(
        self, member: Member, scheme: Scheme, decision: str, now: datetime
    ) -> list[Delivery]:
        """What the scheme's chats must see of a decision about `member`, checked first.

        Approve: personal join links. Suspend: banned from both chats until reinstated.
        Reinstate: unbanned, and fresh links. Remove: banned and at once unbanned, so
        they are out now and may be invited back later.
        """
        if not self.guards(scheme):
            return []
        config = self.config(scheme)
        assert config is not None
        both = [scheme.group_chat_id, scheme.control_room_chat_id]
        user = member.telegram_user_id
        when = stamp(now)
        hours = config.join_link_hours
        if decision == "approve":
            await self.require(scheme, chats_for(scheme, member.role), INVITE)
            return [join_link(member, scheme, hours, key=f"link:{stored_id(member)}:{when}")]
        if decision in ("suspend", "remove"):
            await self.require(scheme, both, RESTRICT)
            release = decision == "remove"
            return [
                ban(chat, user, release=release, key=f"ban:{chat}:{user}:{when}") for chat in both
            ]
        if decision == "reinstate":
            await self.require(scheme, both, RESTRICT)
            await self.require(scheme, chats_for(scheme, member.role), INVITE)
            return [unban(chat, user, key=f"unban:{chat}:{user}:{when}") for chat in both] + [
                join_link(member, scheme, hours, key=f"link:{stored_id(member)}:{when}")
            ]
        return []

    async def role_changed(self, member: Member, scheme: Scheme, now: datetime) -> int:
        """After the schemes file took a role away: out of every chat the member no longer
        belongs in (the control room for a coordinator made a member shop, both chats for
        an administrator who was never one). Returns how many chats they leave."""
        if not self.guards(scheme):
            return 0
        belongs = (
            set(chats_for(scheme, member.role)) if member.status == MemberStatus.ACTIVE else set()
        )
        user, when = member.telegram_user_id, stamp(now)
        out = [
            ban(chat, user, release=True, key=f"ban:{chat}:{user}:{when}")
            for chat in (scheme.group_chat_id, scheme.control_room_chat_id)
            if chat not in belongs
        ]
        return await self._queue(scheme, out)

    async def _queue(self, scheme: Scheme, deliveries: Sequence[Delivery]) -> int:
        for delivery in deliveries:
            await self.store.outbox.enqueue(stored_id(scheme), delivery)
        return len(deliveries)

    # --- people at the door, and people already inside ------------------------------------------

    async def join_request(
        self, scheme: Scheme, chat_id: int, person: Person, invite_link: str | None, now: datetime
    ) -> JoinVerdict | None:
        """Approve an active member of this scheme whose role belongs in the chat, coming by
        their own link; decline everyone else and tell the coordinators, once a day a person.

        None for a scheme that runs its chats by hand: its people answer requests.
        """
        if not self.guards(scheme):
            return None
        scheme_id = stored_id(scheme)
        member = await self.store.members.get(scheme_id, person.user_id)
        link = await self.store.chats.find_link(invite_link) if invite_link else None
        reason: str | None = None
        if link is not None and (member is None or link.member_id != member.id):
            reason = "not_their_link"
        elif member is None:
            reason = "not_member"
        elif member.status != MemberStatus.ACTIVE:
            reason = str(member.status)
        elif chat_id not in chats_for(scheme, member.role):
            reason = "wrong_role"
        elif link is not None and (link.revoked_at is not None or link.chat_id != chat_id):
            reason = "stale_link"
        approve = reason is None
        when = stamp(now)
        await self._queue(
            scheme,
            [
                join_answer(
                    chat_id,
                    person.user_id,
                    approve=approve,
                    key=f"join:{chat_id}:{person.user_id}:{when}",
                )
            ],
        )
        await self.store.audit.record(
            person.user_id,
            "chat_join",
            AuditOutcome.ALLOWED if approve else AuditOutcome.REFUSED,
            scheme_id=scheme_id,
            actor_member_id=stored_id(member) if member else None,
            detail={
                "chat_id": chat_id,
                "reason": reason or "active member",
                "link": stored_id(link) if link else None,
            },
        )
        if not approve:
            assert reason is not None
            day = now.astimezone(ZoneInfo(scheme.timezone)).strftime("%Y%m%d")
            text = chat_texts.join_declined(
                scheme.name,
                chat_label(scheme, chat_id),
                person.name,
                person.username,
                person.user_id,
                why=reason,
            )
            await self.tell_coordinators(
                scheme, text, key=f"declined:{chat_id}:{person.user_id}:{day}"
            )
        return JoinVerdict(approve, reason, member)

    async def tell_coordinators(self, scheme: Scheme, text: str, *, key: str) -> int:
        """A notice to every active coordinator of the scheme, once per `key`."""
        return await tell_coordinators(self.store, stored_id(scheme), text, key=key)

    async def rights_checked(self, scheme: Scheme, rights: BotRights) -> list[str]:
        """Record what the bot may do in one of the scheme's chats; returns what it lacks.

        The coordinators are told once for each set of missing rights, not at every
        start-up; a chat run by hand needs only the right to delete members' alerts
        (when the scheme replaces them).
        """
        await self.store.chats.record_rights(rights)
        config = self.config(scheme)
        missing = missing_rights(rights) if config is None else lacking(config, rights)
        if missing:
            chat = chat_label(scheme, rights.chat_id)
            await self.tell_coordinators(
                scheme,
                chat_texts.rights_missing(scheme.name, chat, rights.chat_id, missing),
                key=f"rights:{rights.chat_id}:{'+'.join(missing)}",
            )
        return missing

    async def strangers(
        self,
        scheme: Scheme,
        chat_id: int,
        chat_title: str,
        people: Iterable[Person],
        *,
        cause: str,
        now: datetime,
    ) -> int:
        """People in a scheme chat who are not its active members: removed (members-only)
        and the coordinators told, or only told (notify-only). Returns how many.

        `cause` names what showed them (an update, a message), so the same sighting
        delivered twice removes once; the coordinators hear of a person once within
        `STRANGER_NOTICE_WINDOW` however often they are seen.
        """
        scheme_id = stored_id(scheme)
        guarded = self.guards(scheme)
        found = 0
        for person in people:
            member = await self.store.members.get(scheme_id, person.user_id)
            if member is not None and member.status == MemberStatus.ACTIVE:
                continue
            found += 1
            if guarded:  # a suspended member stays banned; anyone else may come back invited
                release = member is None or member.status != MemberStatus.SUSPENDED
                key = f"stranger-out:{chat_id}:{person.user_id}:{cause}"
                await self._queue(scheme, [ban(chat_id, person.user_id, release=release, key=key)])
            prefix = f"stranger:{chat_id}:{person.user_id}:"
            earlier = await self.store.outbox.by_dedupe_prefix(prefix)
            if any(now - row.created_at < STRANGER_NOTICE_WINDOW for row in earlier):
                continue
            await self.store.audit.record(
                person.user_id,
                "group_join",
                AuditOutcome.REFUSED,
                scheme_id=scheme_id,
                detail={
                    "chat_id": chat_id,
                    "reason": "not an active member",
                    "removed": guarded,
                },
            )
            notice = chat_texts.stranger_removed if guarded else chat_texts.stranger_joined
            text = notice(scheme.name, chat_title, person.name, person.username, person.user_id)
            await self.tell_coordinators(scheme, text, key=f"{prefix}{stamp(now)}")
        return found
