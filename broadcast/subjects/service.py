"""What a scheme does with the people in its reports, each step authorised and audited.

Every method takes the acting member as the access check found them, refuses what
their role or scheme does not allow (`AccessDeniedError`) and what the scheme's
policy does not (`InvalidInputError` with a reason code), and writes one audit entry
either way, naming records by id. A refusal changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from broadcast.subjects.access import AUDIT_PREFIXES, shape
from broadcast.subjects.letter import LetterIncident, NoticeLetter, privacy_notice, render_letter
from broadcast.subjects.notices import NoticeTerms, plan_notice
from broadcast.subjects.shapes import SubjectAccess
from broadcast.subjects.text import clean_text
from broadcast.texts import subjects as texts
from config.errors import (
    AccessDeniedError,
    InvalidInputError,
    NotFoundError,
    Refusal,
    ShopWatchError,
)
from config.schemes import SchemesFile, SubjectsConfig
from config.vocabulary import (
    AppealOutcome,
    AuditOutcome,
    MemberStatus,
    NoticeStage,
    ReportStatus,
    Role,
    SubjectLinkVia,
    SubjectStatus,
    SuggestionState,
)
from storage.export.files import fresh_dir
from storage.files import create_private
from storage.ids import stored_id
from storage.models import Member, Scheme, utcnow
from storage.outbox import Delivery
from storage.outbox_payloads import DocumentPayload, EditPayload, MessagePayload, read
from storage.photos import PhotoStore
from storage.places import police_place, scheme_prefix
from storage.store import Store
from storage.subject_models import (
    Notice,
    Subject,
    SubjectErasure,
    SubjectIntel,
    SubjectSuggestion,
)
from storage.subjects import Identification, in_force

logger = logging.getLogger(__name__)

MAKERS = frozenset({Role.OPERATOR, Role.COORDINATOR, Role.ADMIN})
"""Who may make a subject from a report: the control room and the coordinators."""
DECIDERS = frozenset({Role.COORDINATOR, Role.ADMIN})
"""Who links, merges, names, issues notices and erases."""
VIEWERS = frozenset({Role.MEMBER, Role.OPERATOR, Role.COORDINATOR, Role.ADMIN})
"""Who sees the galleries (the police see subjects in the export)."""

GALLERY = "subjg"
SUGGESTED = "subjs"
"""Callback prefix of a suggestion's buttons: `subjs:link:<id>` and `subjs:no:<id>`."""
SUGGESTION_KEY = "subject-suggestion"
"""Outbox key of a suggestion's copy to a coordinator: `subject-suggestion:<id>:<chat>`."""
"""Callback prefix of the chat gallery's Previous/Next: `subjg:<position>`."""
INTEL_MAX = 1000
NAME_MAX = 120
BASIS_MAX = 1000
APPEAL_TEXT_MAX = 4000
_LINK = re.compile(r"(https?://|www\.|t\.me/|tg://|\b[\w-]+\.(com|co\.uk|uk|org|net|io)\b)", re.I)


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: their membership row in the scheme acted on."""

    member: Member

    @property
    def telegram_id(self) -> int:
        return self.member.telegram_user_id


@dataclass(frozen=True, slots=True)
class SuggestionDecided:
    """A suggestion as it stands after a press, and whether that press decided it."""

    suggestion: SubjectSuggestion
    changed: bool


@dataclass(frozen=True, slots=True)
class LetterFile:
    """A notice letter made for serving: its file name, the PDF, and what it says."""

    filename: str
    data: bytes
    letter: NoticeLetter


@dataclass(frozen=True, slots=True)
class GalleryCard:
    """One subject of the galleries as a viewer may see it, and where it stands among them."""

    subject: Subject
    photo: str | None
    excluded_until: date | None
    reports: tuple[int, ...] | None
    position: int
    total: int
    neighbour: str | None


@dataclass(frozen=True, slots=True)
class Deployment:
    """Whoever runs the deployment, at its command line: no membership, so no role check.

    Only for the steps a deployment answers for itself (a notice letter, a subject
    access bundle, an erasure, recording service or an appeal); audited with the
    system user who ran the command.
    """

    scheme_id: int
    description: str


Acting = Actor | Deployment
"""Who a step is done by: a member, or the deployment's own hand."""


def _scheme_of(acting: Acting) -> int:
    return acting.member.scheme_id if isinstance(acting, Actor) else acting.scheme_id


def _member_id_of(acting: Acting) -> int | None:
    return stored_id(acting.member) if isinstance(acting, Actor) else None


class SubjectService:
    def __init__(
        self,
        schemes: SchemesFile,
        store: Store,
        photos: PhotoStore,
        *,
        on_linked: Callable[[int], Awaitable[None]] | None = None,
    ) -> None:
        """`on_linked(report_id)` brings a report's chat copies up to date once a subject
        is linked to it or the linked subject's notice changes (the control room's card
        shows an exclusion)."""
        self._schemes = schemes
        self._store = store
        self._photos = photos
        self._on_linked = on_linked

    async def _linked(self, subject_id: int, only: int | None = None) -> None:
        if self._on_linked is None:
            return
        for report in await self._store.subjects.reports(subject_id):
            if only in (None, stored_id(report)):
                await self._on_linked(stored_id(report))

    @property
    def photos(self) -> PhotoStore:
        return self._photos

    def config(self, scheme: Scheme) -> SubjectsConfig:
        try:
            return self._schemes.scheme(scheme.slug).subjects
        except KeyError:
            return self._schemes.defaults.subjects

    async def _audit(
        self,
        actor: Acting | None,
        action: str,
        outcome: AuditOutcome,
        scheme_id: int | None,
        detail: Mapping[str, Any],
    ) -> None:
        if isinstance(actor, Deployment):
            detail = {**detail, "by": actor.description}
        await self._store.audit.record(
            actor_telegram_id=actor.telegram_id if isinstance(actor, Actor) else None,
            actor_member_id=_member_id_of(actor) if actor is not None else None,
            action=action,
            outcome=outcome,
            scheme_id=scheme_id,
            detail=detail,
        )

    async def refused(
        self, actor: Acting, action: str, reason: str, detail: Mapping[str, Any] | None = None
    ) -> None:
        """A step refused before it reached the service (a command's words that are not a
        number, a date or the grounds), audited as the service audits its own refusals:
        the trail shows what a coordinator tried, whichever check said no."""
        await self._audit(
            actor,
            action,
            AuditOutcome.REFUSED,
            _scheme_of(actor),
            {**(detail or {}), "reason": reason},
        )

    async def _guard(
        self,
        actor: Acting,
        action: str,
        roles: Collection[Role],
        scheme_id: int,
        detail: Mapping[str, Any],
    ) -> None:
        if isinstance(actor, Deployment):
            return
        member = actor.member
        if (
            member.status is not MemberStatus.ACTIVE
            or member.scheme_id != scheme_id
            or member.role not in roles
        ):
            await self._audit(
                actor, action, AuditOutcome.REFUSED, scheme_id, {**detail, "reason": "role"}
            )
            raise AccessDeniedError(Refusal.WRONG_ROLE, f"{action} is not open to this member")

    async def _run(
        self,
        actor: Acting,
        action: str,
        roles: Collection[Role],
        detail: Mapping[str, Any],
        step: Any,
    ) -> Any:
        """Guard, do `step()`, and audit the outcome; a refusal is audited with its reason.

        The scheme acted in is the actor's own: a record of another scheme is not found.
        """
        scheme_id = _scheme_of(actor)
        await self._guard(actor, action, roles, scheme_id, detail)
        try:
            result = await step()
        except ShopWatchError as exc:
            reason = getattr(exc, "reason", type(exc).__name__)
            await self._audit(
                actor, action, AuditOutcome.REFUSED, scheme_id, {**detail, "reason": reason}
            )
            raise
        await self._audit(actor, action, AuditOutcome.ALLOWED, scheme_id, detail)
        return result

    # --- subjects -------------------------------------------------------------------------

    async def create_from_report(
        self,
        actor: Actor,
        report_id: int,
        *,
        description: str = "",
        ethnicity_descriptor: str | None = None,
        first_only: bool = False,
    ) -> Subject:
        """A new ID-sought subject from the report; `first_only` (a button pressed by
        two operators at once, or twice) refuses a report some subject already holds."""
        scheme_id = actor.member.scheme_id
        scheme = await self._scheme(scheme_id)
        detail: dict[str, Any] = {"report_id": report_id}

        async def step() -> Subject:
            if ethnicity_descriptor and not self.config(scheme).ethnicity_descriptor:
                raise InvalidInputError("ethnicity_descriptor_off")
            if first_only:
                held = [
                    stored_id(s)
                    for s in await self._store.subjects.of_report(report_id)
                    if s.scheme_id == scheme_id and s.status is SubjectStatus.ACTIVE
                ]
                if held:
                    raise InvalidInputError("report_has_subject", str(held[0]))
            subject = await self._store.subjects.create_from_report(
                report_id,
                scheme_id=scheme_id,
                by_member_id=stored_id(actor.member),
                description=clean_text(description, 2000),
                ethnicity_descriptor=clean_text(ethnicity_descriptor or "", 200) or None,
            )
            detail["subject_id"] = stored_id(subject)
            return subject

        result: Subject = await self._run(actor, "subject.create", MAKERS, detail, step)
        return result

    async def link(
        self,
        actor: Actor,
        subject_id: int,
        report_id: int,
        *,
        via: SubjectLinkVia = SubjectLinkVia.LINKED,
    ) -> bool:
        scheme_id = actor.member.scheme_id
        linked: bool = await self._run(
            actor,
            "subject.link",
            DECIDERS,
            {"subject_id": subject_id, "report_id": report_id},
            lambda: self._store.subjects.link(
                subject_id,
                report_id,
                scheme_id=scheme_id,
                by_member_id=stored_id(actor.member),
                via=via,
            ),
        )
        if linked:
            await self._linked(subject_id, report_id)
        return linked

    async def decide_suggestion(
        self, actor: Actor, suggestion_id: int, *, link: bool
    ) -> SuggestionDecided:
        """A coordinator's Link or Not them on "Possibly Subject #12".

        A press that finds the suggestion decided already (a second press, another
        coordinator's answer) changes nothing and is not audited; the answer says how it
        stands. Link links as `/link` does (with the report's photos, the control room's
        card refreshed); either decision is audited and every coordinator's copy of the
        question is edited to say who answered it.
        """
        scheme_id = actor.member.scheme_id
        action = "subject.link" if link else "subject.dismiss"
        detail: dict[str, Any] = {"suggestion_id": suggestion_id}
        await self._guard(actor, action, DECIDERS, scheme_id, detail)
        store = self._store.subjects
        try:
            found = await store.suggestion(suggestion_id)
            detail |= {"subject_id": found.subject_id, "report_id": found.report_id}
            if link:
                found, changed = await store.take_suggestion(
                    suggestion_id, scheme_id=scheme_id, by_member_id=stored_id(actor.member)
                )
            else:
                report = await self._store.reports.get(found.report_id)
                if report.scheme_id != scheme_id:
                    raise NotFoundError(f"no suggestion {suggestion_id} in this scheme")
                changed = await store.dismiss(suggestion_id, stored_id(actor.member))
                found = await store.suggestion(suggestion_id)
        except ShopWatchError as exc:
            reason = getattr(exc, "reason", type(exc).__name__)
            await self._audit(
                actor, action, AuditOutcome.REFUSED, scheme_id, {**detail, "reason": reason}
            )
            raise
        if changed:
            await self._audit(actor, action, AuditOutcome.ALLOWED, scheme_id, detail)
            await self._decided_copies(found, by=actor.member.display_name)
            if link:
                await self._linked(found.subject_id, found.report_id)
        return SuggestionDecided(found, changed)

    async def _decided_copies(self, suggestion: SubjectSuggestion, *, by: str) -> None:
        """Each coordinator's copy of the question says who answered it, buttons gone."""
        linked = suggestion.state is SuggestionState.LINKED
        asked_key = f"{SUGGESTION_KEY}:{stored_id(suggestion)}:"
        for row in await self._store.outbox.by_dedupe_prefix(asked_key):
            asked = read(row, MessagePayload)
            row_id = stored_id(row)
            await self._store.outbox.enqueue(
                row.scheme_id,
                Delivery(
                    row.chat_id,
                    EditPayload(
                        target=row_id,
                        text=texts.suggestion_decided(asked.text, linked=linked, by=by),
                    ),
                    dedupe_key=f"{SUGGESTION_KEY}-decided:{row_id}",
                ),
            )

    async def merge(self, actor: Actor, keep_id: int, gone_id: int) -> Subject:
        scheme_id = actor.member.scheme_id
        kept: Subject = await self._run(
            actor,
            "subject.merge",
            DECIDERS,
            {"subject_id": keep_id, "merged_subject_id": gone_id},
            lambda: self._store.subjects.merge(
                keep_id, gone_id, scheme_id=scheme_id, by_member_id=stored_id(actor.member)
            ),
        )
        await self._linked(keep_id)
        return kept

    async def identify(
        self,
        actor: Actor,
        subject_id: int,
        *,
        name: str,
        basis: str,
        aliases: Sequence[str] = (),
    ) -> Subject:
        scheme_id = actor.member.scheme_id

        async def step() -> Subject:
            clean_name = clean_text(name, len(name))
            clean_basis = clean_text(basis, len(basis))
            if not clean_name:
                raise InvalidInputError("name_missing")
            if not clean_basis:
                raise InvalidInputError("basis_missing")
            if len(clean_name) > NAME_MAX:
                raise InvalidInputError("name_too_long", str(NAME_MAX))
            if len(clean_basis) > BASIS_MAX:
                raise InvalidInputError("basis_too_long", str(BASIS_MAX))
            identification = Identification(
                name=clean_name,
                aliases=tuple(a for a in (clean_text(a, NAME_MAX) for a in aliases) if a),
                basis=clean_basis,
            )
            return await self._store.subjects.identify(
                subject_id,
                identification,
                scheme_id=scheme_id,
                by_member_id=stored_id(actor.member),
            )

        named: Subject = await self._run(
            actor, "subject.identify", DECIDERS, {"subject_id": subject_id}, step
        )
        return named

    async def tell(self, actor: Actor, subject_id: int, text: str) -> SubjectIntel:
        """A member's "I know who this is": stored for the coordinators, with who said it,
        and queued to each of them privately (the caller wakes the outbox)."""
        scheme_id = actor.member.scheme_id

        async def step() -> SubjectIntel:
            await self._store.subjects.get(subject_id, [scheme_id])
            if len(text) > INTEL_MAX:
                raise InvalidInputError("intel_too_long", str(len(text)))
            if _LINK.search(text):
                raise InvalidInputError("intel_has_link")
            clean = clean_text(text, INTEL_MAX)
            if not clean:
                raise InvalidInputError("intel_empty")
            return await self._store.subjects.add_intel(subject_id, stored_id(actor.member), clean)

        intel: SubjectIntel = await self._run(
            actor, "subject.intel", VIEWERS, {"subject_id": subject_id}, step
        )
        await self._tell_coordinators(actor.member, intel)
        return intel

    async def _tell_coordinators(self, member: Member, intel: SubjectIntel) -> None:
        """The answer to each active coordinator of the scheme, in their private chat only."""
        subject = await self._store.subjects.get(intel.subject_id)
        text = texts.intel_for_coordinators(
            intel.subject_id, subject.kind.value, member.display_name, member.shop_name, intel.text
        )
        active = await self._store.members.list_by_status(subject.scheme_id, MemberStatus.ACTIVE)
        for coordinator in active:
            if coordinator.role is not Role.COORDINATOR:
                continue
            chat_id = coordinator.telegram_user_id
            await self._store.outbox.enqueue(
                subject.scheme_id,
                Delivery(
                    chat_id,
                    MessagePayload(text=text, protect_content=True),
                    dedupe_key=f"subject-intel:{stored_id(intel)}:{chat_id}",
                ),
            )

    async def view(self, actor: Actor, subject_id: int, *, how: str) -> Subject:
        """A subject shown to a member (chat gallery, Mini App page, photo): audited."""
        scheme_ids = await self.visible_schemes(actor.member.scheme_id)

        async def step() -> Subject:
            return await self._store.subjects.get(subject_id, scheme_ids)

        subject: Subject = await self._run(
            actor,
            "subject.view",
            VIEWERS,
            {"subject_id": subject_id, "how": how},
            step,
        )
        return subject

    async def gallery_card(self, actor: Actor, position: int) -> GalleryCard | None:
        """The subject at `position` (from 1) of the galleries the viewer may see, newest
        seen first; None when there are none. Shown is audited as a view ("chat")."""
        scheme_ids = await self.visible_schemes(actor.member.scheme_id)
        subjects = await self._store.subjects.gallery(scheme_ids)
        if not subjects:
            return None
        position = min(max(position, 1), len(subjects))
        chosen = subjects[position - 1]
        subject = await self.view(actor, stored_id(chosen), how="chat")
        subject_id = stored_id(subject)
        scheme = await self._scheme(subject.scheme_id)
        photos = await self._store.subjects.photos(subject_id)
        notice = await self._store.subjects.running_notice(subject_id, local_today(scheme))
        excluded = (
            notice.ends_on
            if notice is not None and notice.stage is NoticeStage.EXCLUSION
            else None
        )
        reports = None
        if actor.member.role in MAKERS and subject.scheme_id == actor.member.scheme_id:
            linked = await self._store.subjects.reports(subject_id)
            reports = tuple(stored_id(r) for r in linked)
        return GalleryCard(
            subject=subject,
            photo=photos[0].relative_path if photos else None,
            excluded_until=excluded,
            reports=reports,
            position=position,
            total=len(subjects),
            neighbour=scheme.name if subject.scheme_id != actor.member.scheme_id else None,
        )

    async def show_gallery(
        self, actor: Actor, chat_id: int, position: int, sign: Callable[..., str]
    ) -> GalleryCard | None:
        """Queue the gallery card at `position` to the viewer's private chat: protected,
        deleted with the scheme's chat TTL, Previous/Next signed with `sign`."""
        card = await self.gallery_card(actor, position)
        if card is None:
            return None
        subject = card.subject
        turns: list[tuple[str, str]] = []
        if card.position > 1:
            turns.append((texts.BUTTON_GALLERY_PREVIOUS, sign(GALLERY, card.position - 1)))
        if card.position < card.total:
            turns.append((texts.BUTTON_GALLERY_NEXT, sign(GALLERY, card.position + 1)))
        scheme = await self._scheme(actor.member.scheme_id)
        payload = MessagePayload(
            text=texts.gallery_card(
                subject_id=stored_id(subject),
                kind=subject.kind.value,
                name=subject.name,
                description=subject.description,
                last_seen=subject.last_seen_at,
                excluded_until=card.excluded_until,
                reports=card.reports,
                position=card.position,
                total=card.total,
                neighbour=card.neighbour,
            ),
            photos=(card.photo,) if card.photo else (),
            buttons=(tuple(turns),) if turns else (),
            protect_content=True,
            delete_after_hours=self._chat_ttl(scheme),
        )
        await self._store.outbox.enqueue(stored_id(scheme), Delivery(chat_id, payload))
        return card

    def _chat_ttl(self, scheme: Scheme) -> int:
        try:
            return self._schemes.scheme(scheme.slug).chat_ttl_hours
        except KeyError:
            return self._schemes.defaults.chat_ttl_hours

    async def erase(self, actor: Acting, subject_id: int, reason: str) -> SubjectErasure:
        scheme_id = _scheme_of(actor)

        async def step() -> SubjectErasure:
            clean = clean_text(reason, BASIS_MAX)
            if not clean:
                raise InvalidInputError("reason_missing")
            erasure, removed = await self._store.subjects.erase(
                subject_id, scheme_id=scheme_id, by_member_id=_member_id_of(actor), reason=clean
            )
            for path in removed.unheld_files:
                self._photos.delete(path)
            return erasure

        erased: SubjectErasure = await self._run(
            actor, "subject.erase", DECIDERS, {"subject_id": subject_id}, step
        )
        return erased

    # --- notices --------------------------------------------------------------------------

    async def issue_notice(
        self,
        actor: Actor,
        subject_id: int,
        terms: NoticeTerms,
        *,
        today: date | None = None,
    ) -> Notice:
        scheme_id = actor.member.scheme_id
        scheme = await self._scheme(scheme_id)
        detail: dict[str, Any] = {"subject_id": subject_id, "stage": terms.stage.value}

        async def step() -> Notice:
            day = today or local_today(scheme)
            planned = plan_notice(self.config(scheme), terms, day)
            premises = await self._premises(scheme_id)
            notice = await self._store.subjects.issue_notice(
                Notice(
                    scheme_id=scheme_id,
                    subject_id=subject_id,
                    stage=terms.stage,
                    decided_by=planned.decided_by,
                    board_decision_ref=planned.board_decision_ref,
                    premises=premises,
                    starts_on=planned.starts_on,
                    ends_on=planned.ends_on,
                    review_on=planned.review_on,
                    conditions=planned.conditions,
                    issued_by_member_id=stored_id(actor.member),
                )
            )
            detail["notice_id"] = stored_id(notice)
            return notice

        notice: Notice = await self._run(actor, "notice.issue", DECIDERS, detail, step)
        await self._linked(subject_id)
        return notice

    async def _premises(self, scheme_id: int) -> list[str]:
        """The scheme's member shops at the time of issue, as the notice records them.

        Everyone who joins answers the shop question, so an operator's control room or an
        officer's station has a "shop" too; the letter forbids only the members' premises."""
        members = await self._store.members.list_by_status(scheme_id, MemberStatus.ACTIVE)
        shops = [
            ", ".join(p for p in (m.shop_name, m.street) if p)
            for m in members
            if m.shop_name and m.role is Role.MEMBER
        ]
        return sorted(set(shops))

    async def record_service(
        self, actor: Acting, notice_id: int, *, served_on: date, how: str
    ) -> Notice:
        """Never served before the notice was issued, counted in the scheme's days as the
        appeal is: a notice issued just after midnight in Norwich is not of the day before."""
        scheme_id = _scheme_of(actor)
        scheme = await self._scheme(scheme_id)

        async def step() -> Notice:
            notice = await self._store.subjects.notice(notice_id, scheme_id)
            clean = clean_text(how, 200)
            if not clean:
                raise InvalidInputError("served_how_missing")
            if served_on < local_today(scheme, notice.issued_at):
                raise InvalidInputError("served_before_issue", served_on.isoformat())
            return await self._store.subjects.update_notice(
                notice_id, scheme_id, served_on=served_on, served_how=clean
            )

        served: Notice = await self._run(
            actor, "notice.serve", DECIDERS, {"notice_id": notice_id}, step
        )
        return served

    async def record_appeal(
        self,
        actor: Acting,
        notice_id: int,
        *,
        received_on: date,
        text: str,
        today: date | None = None,
    ) -> Notice:
        """An appeal as the scheme received it: never before its notice was issued, nor on
        a day still to come (the scheme's days, `today` or its own date now). Grounds too
        long are refused, never cut: the board must decide on what the person said."""
        scheme_id = _scheme_of(actor)
        scheme = await self._scheme(scheme_id)

        async def step() -> Notice:
            notice = await self._store.subjects.notice(notice_id, scheme_id)
            if notice.appeal_received_on is not None:
                raise InvalidInputError("appeal_already_recorded")
            issued_on = local_today(scheme, notice.issued_at)
            if received_on < issued_on:
                raise InvalidInputError("appeal_before_issue", texts.day(issued_on))
            if received_on > (today or local_today(scheme)):
                raise InvalidInputError("appeal_in_future", texts.day(received_on))
            grounds = clean_text(text, len(text))
            if len(grounds) > APPEAL_TEXT_MAX:
                raise InvalidInputError("appeal_text_too_long", str(APPEAL_TEXT_MAX))
            return await self._store.subjects.record_appeal(
                notice_id, scheme_id, received_on, grounds
            )

        appealed: Notice = await self._run(
            actor, "notice.appeal", DECIDERS, {"notice_id": notice_id}, step
        )
        return appealed

    async def decide_appeal(
        self,
        actor: Acting,
        notice_id: int,
        *,
        outcome: AppealOutcome,
        decided_on: date,
        decision_ref: str,
        new_end: date | None = None,
    ) -> Notice:
        """The board's decision on the appeal; once overturned or varied, the linked
        reports' cards are brought up to date, so none still says EXCLUDED, or the old end."""
        scheme_id = _scheme_of(actor)

        async def step() -> Notice:
            notice = await self._store.subjects.notice(notice_id, scheme_id)
            if notice.appeal_received_on is None:
                raise InvalidInputError("no_appeal")
            if notice.appeal_outcome is not None:
                raise InvalidInputError("appeal_already_decided")
            if decided_on < notice.appeal_received_on:
                raise InvalidInputError(
                    "decided_before_appeal", texts.day(notice.appeal_received_on)
                )
            ref = clean_text(decision_ref, 120)
            if not ref:
                raise InvalidInputError("decision_ref_missing")
            changes: dict[str, object] = {
                "appeal_outcome": outcome,
                "appeal_decided_on": decided_on,
                "appeal_decision_ref": ref,
            }
            if outcome is AppealOutcome.VARIED:
                if new_end is None or not notice.starts_on <= new_end < notice.ends_on:
                    raise InvalidInputError("varied_end_invalid")
                changes["ends_on"] = new_end
                changes["review_on"] = min(notice.review_on, new_end)
            return await self._store.subjects.update_notice(notice_id, scheme_id, **changes)

        decided: Notice = await self._run(
            actor,
            "notice.appeal_decided",
            DECIDERS,
            {"notice_id": notice_id, "outcome": outcome.value},
            step,
        )
        if outcome is not AppealOutcome.UPHELD:
            await self._linked(decided.subject_id)
        return decided

    async def notice_letter(self, actor: Acting, notice_id: int) -> LetterFile:
        """The letter to serve for a notice in force, as a PDF: audited as a disclosure."""
        scheme_id = _scheme_of(actor)
        scheme = await self._scheme(scheme_id)
        detail: dict[str, Any] = {"notice_id": notice_id}

        async def step() -> LetterFile:
            notice = await self._store.subjects.notice(notice_id, scheme_id)
            detail["subject_id"] = notice.subject_id
            if not in_force(notice):
                raise InvalidInputError("notice_not_in_force", str(notice_id))
            policy = self.config(scheme)
            if not policy.address.strip():
                raise InvalidInputError("letter_address_missing", scheme.slug)
            subject = await self._store.subjects.get(notice.subject_id, [scheme_id])
            zone = ZoneInfo(scheme.timezone)
            incidents = tuple(
                LetterIncident(
                    when=report.occurred_at.astimezone(zone).date(),
                    category=report.category.value,
                    place=police_place(report),
                )
                for report in await self._store.subjects.reports(notice.subject_id)
                if report.status is not ReportStatus.WITHDRAWN
            )
            reference = texts.notice_reference(scheme_prefix(scheme.slug), stored_id(notice))
            letter = NoticeLetter(
                scheme_name=scheme.name,
                reference=reference,
                issued_on=notice.issued_at.astimezone(zone).date(),
                name=subject.name or f"Subject #{stored_id(subject)}",
                aliases=tuple(subject.aliases),
                stage=notice.stage,
                decided_by=notice.decided_by,
                board_decision_ref=notice.board_decision_ref,
                premises=tuple(notice.premises),
                starts_on=notice.starts_on,
                ends_on=notice.ends_on,
                review_on=notice.review_on,
                conditions=notice.conditions,
                served_on=notice.served_on,
                served_how=notice.served_how,
                incidents=incidents,
                appeal=policy.appeal,
                address=policy.address,
                privacy_notice=privacy_notice(policy, scheme.retention_days),
            )
            data = await asyncio.to_thread(render_letter, letter)
            return LetterFile(f"{scheme.slug}-notice-{reference}.pdf", data, letter)

        made: LetterFile = await self._run(actor, "notice.letter", DECIDERS, detail, step)
        return made

    async def send_letter(
        self, actor: Actor, notice_id: int, *, chat_id: int, data_dir: Path
    ) -> LetterFile:
        """The notice letter as a PDF document to `chat_id` (the coordinator's own chat),
        through the outbox, protected. The file is written under the scheme's exports
        (`data_dir/exports/<scheme>/`, owner-only), so the nightly retention takes it
        away with the exports after their keeping period."""
        made = await self.notice_letter(actor, notice_id)
        scheme = await self._scheme(actor.member.scheme_id)
        stamp = utcnow().strftime("%Y%m%dT%H%M%S%f")
        folder = fresh_dir(data_dir / "exports" / scheme.slug / f"letter-{notice_id}-{stamp}")
        path = folder / made.filename
        with create_private(path) as handle:
            handle.write(made.data)
        letter = made.letter
        await self._store.outbox.enqueue(
            stored_id(scheme),
            Delivery(
                chat_id,
                DocumentPayload(
                    path=str(path.relative_to(data_dir)),
                    filename=made.filename,
                    caption=texts.letter_caption(
                        letter.reference, letter.name, served=letter.served_on is not None
                    ),
                    protect_content=True,
                ),
            ),
        )
        return made

    # --- the weekly digest -----------------------------------------------------------------

    async def set_digest(
        self, actor: Acting, *, on: bool, telegram_user_id: int | None = None
    ) -> Member:
        """Stop or restart a member's Monday digest: their own, or (a coordinator, the
        command line) another member's of the scheme."""
        scheme_id = _scheme_of(actor)
        detail: dict[str, Any] = {"on": on}

        async def step() -> Member:
            if telegram_user_id is None:
                if not isinstance(actor, Actor):
                    raise NotFoundError("whose digest? give a member")
                target = actor.member
            else:
                found = await self._store.members.get(scheme_id, telegram_user_id)
                if found is None:
                    raise NotFoundError(f"no member {telegram_user_id} in this scheme")
                target = found
                if (
                    isinstance(actor, Actor)
                    and stored_id(target) != stored_id(actor.member)
                    and actor.member.role not in DECIDERS
                ):
                    raise AccessDeniedError(
                        Refusal.WRONG_ROLE, "only a coordinator changes another's digest"
                    )
            target_id = stored_id(target)
            detail["member_id"] = target_id
            return await self._store.members.set_weekly_digest(target_id, on)

        changed: Member = await self._run(actor, "member.digest", VIEWERS, detail, step)
        return changed

    # --- subject access -------------------------------------------------------------------

    async def subject_access(
        self, actor: Acting, subject_id: int, *, received: date | None = None
    ) -> SubjectAccess:
        """Everything held about a subject and every disclosure of it, for the person's request.

        A subject merged into another is answered with the one it became (the same
        person); an erased subject's request is refused with that answer, audited.
        """
        scheme_id = _scheme_of(actor)
        scheme = await self._scheme(scheme_id)
        detail: dict[str, Any] = {"subject_id": subject_id}

        async def step() -> SubjectAccess:
            store = self._store.subjects
            erasure = await store.erasure(subject_id)
            if erasure is not None and erasure.scheme_id == scheme_id:
                when = texts.day(local_today(scheme, erasure.erased_at))
                raise InvalidInputError("subject_erased", f"{subject_id} on {when}")
            subject = await store.get(subject_id, [scheme_id])
            while subject.merged_into_id is not None:
                subject = await store.get(subject.merged_into_id, [scheme_id])
            kept_id = stored_id(subject)
            merged = await self._merged_into(scheme_id, kept_id)
            day = received or local_today(scheme)
            entries = await self._store.audit.of_actions(None, AUDIT_PREFIXES)
            slugs = {stored_id(s): s.slug for s in await self._store.schemes.list_all()}
            people: dict[int, tuple[Member, str]] = {}
            for other in sorted({scheme_id, *(e.scheme_id for e in entries if e.scheme_id)}):
                for status in MemberStatus:
                    for m in await self._store.members.list_by_status(other, status):
                        people[stored_id(m)] = (m, slugs.get(other, scheme.slug))
            members = [m for m, _ in people.values() if m.scheme_id == scheme_id]
            bundle = shape(
                scheme=scheme,
                address=self.config(scheme).address,
                subject=subject,
                merged_ids=merged,
                notices=await store.notices(kept_id),
                reports=await store.reports(kept_id),
                intel=await store.intel(kept_id),
                photos=await store.photos(kept_id),
                members=members,
                people=people,
                entries=entries,
                received=day,
            )
            detail.update(
                {
                    "answered_as": kept_id,
                    "received": day.isoformat(),
                    "deadline": bundle.deadline.isoformat(),
                    "disclosures": len(bundle.disclosures),
                }
            )
            return bundle

        bundle: SubjectAccess = await self._run(actor, "subject.access", DECIDERS, detail, step)
        return bundle

    async def _merged_into(self, scheme_id: int, kept_id: int) -> tuple[int, ...]:
        """Every subject folded into this one, directly or through another."""
        merged = await self._store.subjects.of_scheme(scheme_id, [SubjectStatus.MERGED])
        found: list[int] = []
        targets = {kept_id}
        while True:
            more = [
                stored_id(s)
                for s in merged
                if s.merged_into_id in targets and stored_id(s) not in found
            ]
            if not more:
                return tuple(sorted(found))
            found.extend(more)
            targets = set(more)

    # --- reading --------------------------------------------------------------------------

    async def visible_schemes(self, scheme_id: int) -> list[int]:
        """The viewer's scheme and every neighbour whose rule shares its galleries with it."""
        schemes = await self._store.schemes.list_all()
        by_slug = {s.slug: s for s in schemes}
        mine = next((s for s in schemes if s.id == scheme_id), None)
        if mine is None:
            raise NotFoundError(f"no scheme {scheme_id}")
        visible = [scheme_id]
        for config in self._schemes.schemes:
            if config.slug == mine.slug or config.slug not in by_slug:
                continue
            if any(rule.slug == mine.slug and rule.galleries for rule in config.neighbours):
                visible.append(stored_id(by_slug[config.slug]))
        return visible

    async def _scheme(self, scheme_id: int) -> Scheme:
        for scheme in await self._store.schemes.list_all():
            if scheme.id == scheme_id:
                return scheme
        raise NotFoundError(f"no scheme {scheme_id}")

    async def excluded_until(self, report_id: int, today: date) -> date | None:
        """The end of the exclusion in force for any subject linked to the report."""
        found = await exclusion_of(self._store, report_id, today)
        return found[1] if found else None


async def exclusion_of(store: Store, report_id: int, today: date) -> tuple[int, date] | None:
    """The subject linked to the report whose exclusion in force runs longest, and its end:
    what the control room's card warns of."""
    found: list[tuple[date, int]] = []
    for subject in await store.subjects.of_report(report_id):
        subject_id = stored_id(subject)
        notice = await store.subjects.running_notice(subject_id, today)
        if notice is not None and notice.stage is NoticeStage.EXCLUSION:
            found.append((notice.ends_on, subject_id))
    if not found:
        return None
    ends, subject_id = max(found)
    return subject_id, ends


def local_today(scheme: Scheme, now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(ZoneInfo(scheme.timezone)).date()
