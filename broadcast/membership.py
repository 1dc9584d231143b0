"""Membership as a scheme runs it: invites, join requests, approvals, suspensions, notices.

Handlers authorise and parse, then make one call here. Whatever another chat must
hear (an approval card for every coordinator, "you are approved" for the
newcomer, a stranger in the group) is queued in the outbox, never sent from the
handler: a handler only answers the chat it was called from, and a queued notice
survives a restart. Free of Telegram: buttons are `[label, callback data]` pairs
that the outbox (or the handler's own reply) renders.
"""

from __future__ import annotations

import math
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from broadcast.callbacks import CallbackSigner
from broadcast.chat_guard import ChatGuard, MissingRightError, stamp
from broadcast.texts import formats
from broadcast.texts import membership as membership_texts
from config.errors import AccessDeniedError, DuplicateError, NotFoundError, Refusal, ShopWatchError
from config.schemes import SchemesFile
from config.vocabulary import MANAGERS, AuditOutcome, MemberStatus, OutboxKind, Role, RoleOrigin
from storage.ids import stored_id
from storage.members import Applicant
from storage.models import Invite, Member, Scheme
from storage.outbox import Delivery
from storage.outbox_payloads import EditPayload, MessagePayload, as_buttons
from storage.store import Store

INVITE_LIFETIME = timedelta(days=7)
INVITE_CODE_BYTES = 16
"""`secrets.token_urlsafe(16)`: 22 characters of A-Za-z0-9_-, inside a deep link's 64."""

CODE_SHAPE = re.compile(r"[A-Za-z0-9_-]{1,64}")
"""What Telegram lets a deep-link payload be; anything else is refused before a lookup."""

INVITABLE_ROLES = (Role.MEMBER, Role.OPERATOR, Role.POLICE, Role.COORDINATOR)
"""Administrators serve every scheme, so they are made by whoever runs the deployment."""

PAGE_SIZE = 8

LISTED = (MemberStatus.PENDING, MemberStatus.ACTIVE, MemberStatus.SUSPENDED)

Buttons = list[list[list[str]]]

# Callback data prefixes: the first part of every signed button of this module.
LIST = "ml"
VIEW = "mv"
DECIDE = "mb"
FROM_CARD = "c"
FROM_VIEW = "v"


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"
    REMOVE = "remove"


@dataclass(frozen=True, slots=True)
class Rule:
    allowed_from: frozenset[MemberStatus]
    to: MemberStatus
    label: str


RULES: dict[Decision, Rule] = {
    Decision.APPROVE: Rule(
        frozenset({MemberStatus.PENDING}), MemberStatus.ACTIVE, membership_texts.BUTTON_APPROVE
    ),
    Decision.REJECT: Rule(
        frozenset({MemberStatus.PENDING}), MemberStatus.REMOVED, membership_texts.BUTTON_REJECT
    ),
    Decision.SUSPEND: Rule(
        frozenset({MemberStatus.ACTIVE}), MemberStatus.SUSPENDED, membership_texts.BUTTON_SUSPEND
    ),
    Decision.REINSTATE: Rule(
        frozenset({MemberStatus.SUSPENDED}), MemberStatus.ACTIVE, membership_texts.BUTTON_REINSTATE
    ),
    Decision.REMOVE: Rule(
        frozenset({MemberStatus.ACTIVE, MemberStatus.SUSPENDED}),
        MemberStatus.REMOVED,
        membership_texts.BUTTON_REMOVE,
    ),
}

_OFFERED: dict[MemberStatus, tuple[Decision, ...]] = {
    MemberStatus.PENDING: (Decision.APPROVE, Decision.REJECT),
    MemberStatus.ACTIVE: (Decision.SUSPEND, Decision.REMOVE),
    MemberStatus.SUSPENDED: (Decision.REINSTATE, Decision.REMOVE),
    MemberStatus.REMOVED: (),
}


def told(decision: Decision, scheme: str, role: str) -> str:
    """What the member hears of a decision about them."""
    if decision is Decision.APPROVE:
        return membership_texts.welcome_approved(scheme, role)
    if decision is Decision.REINSTATE:
        return membership_texts.told_reinstated(scheme)
    if decision is Decision.SUSPEND:
        return membership_texts.told_suspended(scheme)
    if decision is Decision.REJECT:
        return membership_texts.told_rejected(scheme)
    return membership_texts.told_removed(scheme)


class InviteRefusedError(ShopWatchError):
    """A code that cannot (or can no longer) make this person a member; `str()` says why."""


@dataclass(frozen=True, slots=True)
class OpenInvite:
    invite: Invite
    scheme: Scheme


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a decision left behind; `changed` is False for a replayed or overtaken press."""

    member: Member
    scheme: Scheme
    changed: bool


def _stamp(when: datetime | None) -> str:
    return stamp(when or datetime.min.replace(tzinfo=UTC))


def card_prefix(member: Member) -> str:
    """Dedupe-key prefix of one join request's approval cards.

    The acceptance moment tells a second request (after a removal) from the first,
    so its cards are new messages and deciding it edits only its own cards.
    """
    return f"approval:{stored_id(member)}:{_stamp(member.agreement_accepted_at)}:"


def manager_for(actors: Iterable[Member], scheme_id: int) -> Member:
    """The membership under which someone manages `scheme_id`, or `AccessDeniedError(reason)`.

    Coordinators manage their own scheme, administrators every scheme.
    """
    active = [a for a in actors if a.status == MemberStatus.ACTIVE]
    if not active:
        raise AccessDeniedError(Refusal.NOT_MEMBER)
    own = [a for a in active if a.scheme_id == scheme_id and a.role in MANAGERS]
    admins = [a for a in active if a.role == Role.ADMIN]
    actor = next(iter(own + admins), None)
    if actor is None:
        managing = any(a.role == Role.COORDINATOR for a in active)
        raise AccessDeniedError(Refusal.WRONG_SCHEME if managing else Refusal.WRONG_ROLE)
    return actor


REVOKING = (Decision.SUSPEND, Decision.REINSTATE, Decision.REMOVE)


def may_revoke(actor: Member, target: Member) -> bool:
    """Who may suspend, reinstate or remove a coordinator (or administrator).

    An administrator may; so may a coordinator the schemes file names, about a
    coordinator who came by invite. A coordinator by invite may not revoke
    another: whoever runs the deployment (the file) stays above the invited.
    """
    if target.role not in MANAGERS:
        return True
    if actor.role == Role.ADMIN:
        return True
    return (
        actor.role == Role.COORDINATOR
        and actor.role_origin == RoleOrigin.FILE
        and target.role == Role.COORDINATOR
        and target.role_origin == RoleOrigin.INVITE
    )


def authorise(actors: Iterable[Member], target: Member, decision: Decision) -> Member:
    """The membership a person decides about `target` under, or `AccessDeniedError(reason)`.

    Checked at every press, whatever the button says: nobody decides about
    themselves, and suspending, reinstating or removing a coordinator takes an
    administrator or a coordinator from the schemes file (`may_revoke`).
    """
    actor = manager_for(actors, target.scheme_id)
    if actor.telegram_user_id == target.telegram_user_id:
        raise AccessDeniedError(Refusal.OWN_MEMBERSHIP)
    if decision in REVOKING and not may_revoke(actor, target):
        raise AccessDeniedError(Refusal.NEEDS_ADMIN)
    return actor


SYSTEM = Member(
    id=None,
    scheme_id=0,
    telegram_user_id=0,
    display_name="the system",
    role=Role.ADMIN,
    role_origin=RoleOrigin.FILE,
    status=MemberStatus.ACTIVE,
)
"""Whoever runs the deployment, at its command line: audited with no Telegram id."""


class MembershipDesk:
    """The coordinator's desk: one instance per call is fine, it holds no state of its own."""

    def __init__(self, store: Store, signer: CallbackSigner, schemes: SchemesFile) -> None:
        self.store = store
        self.signer = signer
        self.guard = ChatGuard(store, schemes)

    # --- invites and joining -------------------------------------------------------------

    async def invite(
        self, scheme: Scheme, role: Role, by: int, now: datetime
    ) -> tuple[str, Invite]:
        """A fresh one-time code; only its hash is stored, so it is shown once, here."""
        scheme_id = stored_id(scheme)
        code = secrets.token_urlsafe(INVITE_CODE_BYTES)
        invite = await self.store.invites.create(scheme_id, code, role, by, now + INVITE_LIFETIME)
        await self.store.audit.record(
            by,
            "invite",
            AuditOutcome.ALLOWED,
            scheme_id=scheme_id,
            detail={"invite_id": stored_id(invite), "role": str(role)},
        )
        return code, invite

    async def open_invite(self, code: str, user_id: int, now: datetime) -> OpenInvite:
        """Check a code at the start of joining without using it up."""
        invite = (
            await self.store.invites.find_usable(code, now) if CODE_SHAPE.fullmatch(code) else None
        )
        if invite is None:
            await self._refuse_join(user_id, None, "invite_unusable")
            raise InviteRefusedError(membership_texts.INVITE_UNUSABLE)
        scheme = await self.store.schemes.get(invite.scheme_id)
        existing = await self.store.members.get(invite.scheme_id, user_id)
        if existing is not None and existing.status != MemberStatus.REMOVED:
            await self._refuse_join(user_id, invite.scheme_id, "already_member")
            raise InviteRefusedError(membership_texts.already_member(scheme.name, existing.status))
        return OpenInvite(invite, scheme)

    async def join(
        self, invite_id: int, scheme_id: int, applicant: Applicant, now: datetime
    ) -> tuple[Member, Scheme]:
        """Redeem the invite into a pending membership and queue every coordinator's card."""
        scheme = await self.store.schemes.get(scheme_id)
        user_id = applicant.telegram_user_id
        try:
            member = await self.store.members.join(invite_id, applicant, now)
        except NotFoundError:
            await self._refuse_join(user_id, scheme_id, "invite_used_meanwhile")
            raise InviteRefusedError(membership_texts.INVITE_USED_MEANWHILE) from None
        except DuplicateError:
            await self._refuse_join(user_id, scheme_id, "already_member")
            existing = await self.store.members.get(scheme_id, user_id)
            status = existing.status if existing else MemberStatus.PENDING
            raise InviteRefusedError(
                membership_texts.already_member(scheme.name, status)
            ) from None
        member_id = stored_id(member)
        await self.store.audit.record(
            user_id,
            "join_request",
            AuditOutcome.ALLOWED,
            scheme_id=scheme_id,
            actor_member_id=member_id,
            detail={"invite_id": invite_id, "member_id": member_id, "role": str(member.role)},
        )
        await self._send_cards(member, scheme)
        return member, scheme

    async def _refuse_join(self, user_id: int, scheme_id: int | None, reason: str) -> None:
        await self.store.audit.record(
            user_id, "join", AuditOutcome.REFUSED, scheme_id=scheme_id, detail={"reason": reason}
        )

    def card_text(self, member: Member, scheme: Scheme) -> str:
        agreed = member.agreement_accepted_at
        return membership_texts.approval_card(
            scheme=scheme.name,
            name=member.display_name,
            shop=member.shop_name or "",
            street=member.street or "",
            role=member.role,
            username=member.username,
            user_id=member.telegram_user_id,
            agreed=formats.moment(agreed, scheme.timezone) if agreed else "",
        )

    async def _coordinators(self, scheme_id: int) -> list[Member]:
        active = await self.store.members.list_by_status(scheme_id, MemberStatus.ACTIVE)
        return [m for m in active if m.role == Role.COORDINATOR]

    async def _send_cards(self, member: Member, scheme: Scheme) -> None:
        scheme_id = stored_id(scheme)
        buttons: Buttons = [
            [
                [RULES[d].label, self.signer.sign(DECIDE, d, stored_id(member), FROM_CARD)]
                for d in (Decision.APPROVE, Decision.REJECT)
            ]
        ]
        text = self.card_text(member, scheme)
        prefix = card_prefix(member)
        for coordinator in await self._coordinators(scheme_id):
            await self.store.outbox.enqueue(
                scheme_id,
                Delivery(
                    chat_id=coordinator.telegram_user_id,
                    payload=MessagePayload(text=text, buttons=as_buttons(buttons)),
                    dedupe_key=f"{prefix}{coordinator.telegram_user_id}",
                ),
            )

    # --- decisions -----------------------------------------------------------------------

    async def decide(
        self,
        actors: Sequence[Member],
        member_id: int,
        decision: Decision,
        by_name: str,
        now: datetime,
    ) -> Outcome:
        """Approve, reject, suspend, reinstate or remove, once, and tell whoever must know.

        `NotFoundError` for a member who is not in the log; `AccessDeniedError` when
        the presser may not decide this (`MissingRightError` when the bot may not do
        in the scheme's chats what it takes). A press that finds the decision already
        made (two coordinators, or one pressing twice) changes nothing. The bans and
        links the decision brings are queued with it, in one transaction.
        """
        target = await self.store.members.get_by_id(member_id)
        actor = authorise(actors, target, decision)
        return await self._decide(actor, target, decision, by_name, now)

    async def decide_as_system(
        self, scheme: Scheme, telegram_user_id: int, decision: Decision, now: datetime, who: str
    ) -> Outcome:
        """The deployment's own decision (`shopwatch member`): every rule but who decides.

        Audited with no Telegram id, naming `who` (the system user and host) instead.
        """
        scheme_id = stored_id(scheme)
        target = await self.store.members.get(scheme_id, telegram_user_id)
        if target is None:
            detail = {"telegram_id": telegram_user_id, "by": who}
            await self._refused(scheme_id, decision, detail, Refusal.NOT_MEMBER)
            raise NotFoundError(f"{telegram_user_id} is not a member of {scheme.slug}")
        system = SYSTEM.model_copy(update={"display_name": who})
        try:
            return await self._decide(system, target, decision, who, now)
        except MissingRightError as missing:
            detail = {
                "member_id": stored_id(target),
                "chat_id": missing.chat_id,
                "right": missing.right,
                "by": who,
            }
            await self._refused(scheme_id, decision, detail, missing.reason)
            raise
        except AccessDeniedError as denied:
            detail = {"member_id": stored_id(target), "by": who}
            await self._refused(scheme_id, decision, detail, denied.reason)
            raise

    async def _refused(
        self, scheme_id: int, decision: Decision, detail: Mapping[str, object], reason: Refusal
    ) -> None:
        """A refusal at the command line, audited as the system's (no Telegram id)."""
        await self.store.audit.record(
            None,
            f"member_{decision}",
            AuditOutcome.REFUSED,
            scheme_id=scheme_id,
            detail={**detail, "reason": reason},
        )

    async def _decide(
        self, actor: Member, target: Member, decision: Decision, by_name: str, now: datetime
    ) -> Outcome:
        member_id = stored_id(target)
        scheme = await self.store.schemes.get(target.scheme_id)
        rule = RULES[decision]
        if (
            decision in (Decision.SUSPEND, Decision.REMOVE)
            and target.role == Role.COORDINATOR
            and target.status == MemberStatus.ACTIVE
            and len(await self._coordinators(target.scheme_id)) <= 1
        ):
            raise AccessDeniedError(Refusal.LAST_COORDINATOR)
        then = (
            [
                self._telling(target, scheme, decision, now),
                *await self.guard.for_decision(target, scheme, decision, now),
            ]
            if target.status in rule.allowed_from
            else []
        )
        member, changed = await self.store.members.transition(
            member_id,
            rule.to,
            allowed_from=rule.allowed_from,
            by=actor.telegram_user_id,
            now=now,
            then=then,
        )
        await self.store.audit.record(
            actor.telegram_user_id or None,
            f"member_{decision}",
            AuditOutcome.ALLOWED if changed else AuditOutcome.REFUSED,
            scheme_id=member.scheme_id,
            actor_member_id=actor.id,
            detail=(
                {"member_id": member_id, "from": str(target.status), "to": str(member.status)}
                if changed
                else {"member_id": member_id, "reason": f"already {member.status}"}
            )
            | ({"by": actor.display_name} if actor.id is None else {}),
        )
        if changed and decision in (Decision.APPROVE, Decision.REJECT):
            await self._close_cards(member, scheme, by_name, now)
        return Outcome(member, scheme, changed)

    def _telling(
        self, member: Member, scheme: Scheme, decision: Decision, now: datetime
    ) -> Delivery:
        """What the member hears of it; queued with the decision, before any join links."""
        return Delivery(
            chat_id=member.telegram_user_id,
            payload=MessagePayload(text=told(decision, scheme.name, member.role)),
            dedupe_key=f"member:{stored_id(member)}:{decision}:{_stamp(now)}",
        )

    async def _close_cards(
        self, member: Member, scheme: Scheme, by_name: str, now: datetime
    ) -> None:
        """Every coordinator's copy of the card shows the decision and loses its buttons."""
        text = membership_texts.card_decided(
            self.card_text(member, scheme),
            member.status,
            by_name,
            formats.moment(now, scheme.timezone),
        )
        for card in await self.store.outbox.by_dedupe_prefix(card_prefix(member)):
            if card.kind != OutboxKind.MESSAGE:
                continue
            card_id = stored_id(card)
            await self.store.outbox.enqueue(
                member.scheme_id,
                Delivery(
                    chat_id=card.chat_id,
                    payload=EditPayload(target=card_id, text=text),
                    dedupe_key=f"approval-closed:{card_id}",
                ),
            )

    # --- the coordinator's list ----------------------------------------------------------

    async def overview(self, scheme: Scheme, page: int) -> tuple[str, Buttons]:
        """Everyone who is not removed, those waiting first, a page of buttons at a time."""
        scheme_id = stored_id(scheme)
        listed = {s: await self.store.members.list_by_status(scheme_id, s) for s in LISTED}
        everyone = [m for status in LISTED for m in listed[status]]
        if not everyone:
            return membership_texts.members_none(scheme.name), []
        pages = math.ceil(len(everyone) / PAGE_SIZE)
        page = min(max(page, 0), pages - 1)
        buttons: Buttons = [
            [
                [
                    membership_texts.member_button(m.display_name, m.shop_name, m.role, m.status),
                    self.signer.sign(VIEW, stored_id(m)),
                ]
            ]
            for m in everyone[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
        ]
        turn: list[list[str]] = []
        if page > 0:
            turn.append(
                [membership_texts.BUTTON_PREVIOUS, self.signer.sign(LIST, scheme_id, page - 1)]
            )
        if page < pages - 1:
            turn.append(
                [membership_texts.BUTTON_NEXT, self.signer.sign(LIST, scheme_id, page + 1)]
            )
        if turn:
            buttons.append(turn)
        counts = {str(status): len(listed[status]) for status in LISTED}
        return membership_texts.members_overview(scheme.name, counts, page, pages), buttons

    def details(
        self, actors: Sequence[Member], member: Member, scheme: Scheme
    ) -> tuple[str, Buttons]:
        """One member with the decisions this person may take about them now."""
        text = membership_texts.member_details(
            scheme=scheme.name,
            name=member.display_name,
            role=member.role,
            status=member.status,
            shop=member.shop_name,
            street=member.street,
            username=member.username,
            user_id=member.telegram_user_id,
        )
        actions: list[list[str]] = []
        for decision in _OFFERED[member.status]:
            try:
                authorise(actors, member, decision)
            except AccessDeniedError:
                continue
            actions.append(
                [
                    RULES[decision].label,
                    self.signer.sign(DECIDE, decision, stored_id(member), FROM_VIEW),
                ]
            )
        buttons: Buttons = [actions] if actions else []
        buttons.append(
            [[membership_texts.BUTTON_BACK, self.signer.sign(LIST, stored_id(scheme), 0)]]
        )
        return text, buttons
