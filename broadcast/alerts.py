"""The alert service: what handlers call to make, change and take back a report.

Handlers (the quick photo alert, `/alert`, the guided `/report`, the operators'
buttons) parse and authorise; this decides what the log and the chats must
say. Every change is one transaction: the report, its event and the outbox
rows that carry it to every chat are stored together, and only then is the
outbox worker woken. So a member is told "Alert sent" only for an alert that is
in the log and on its way, and an operator's "On camera" is either on every
copy or nowhere.

Copies follow the routing rules as the report changes: a new category may
reach a neighbour that did not get it before (a new copy) or one that no
longer wants it (its copy is deleted); a report moved to log-only is taken out
of every chat, since log reports are never broadcast. A withdrawn report
stays, edited to say WITHDRAWN, so whoever acted on it knows to stop; the
scheme's chat TTL removes it with the rest.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import unicodedata
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from broadcast.calls import is_final, open_calls
from broadcast.descriptors import FIELDS as DESCRIPTOR_FIELDS
from broadcast.descriptors import Descriptors, described, subject_summary
from broadcast.fanout import FanOut, MessageRef, NewReport, ReportChanged
from broadcast.metrics import Metrics
from broadcast.posting_limit import MEMBER_ACTIONS_PER_MINUTE, PostingLimit
from broadcast.render import AlertView, StatusMark, UpdateMark
from broadcast.routing import Recipient, recipients
from broadcast.subjects.service import exclusion_of
from broadcast.texts import alerts as alert_texts
from broadcast.texts import control_room as control_room_texts
from broadcast.texts import formats
from config.errors import (
    AccessDeniedError,
    DuplicateError,
    InvalidInputError,
    NotFoundError,
    Refusal,
    ReportClosedError,
    StorageError,
    TooManyAlertsError,
)
from config.schemes import SchemeConfig, SchemesFile
from config.vocabulary import (
    CONTROL_ROOM,
    ENDING_CALLS,
    OPERATOR_STATUSES,
    AuditOutcome,
    Category,
    EventKind,
    MemberStatus,
    OperatorStatus,
    OutboxKind,
    ReportChange,
    ReportSource,
    ReportStatus,
    Role,
    Urgency,
)
from storage.ids import stored_id
from storage.models import Member, Photo, Report, ReportEvent, Scheme, utcnow
from storage.outbox import Delivery
from storage.outbox_payloads import MessagePayload
from storage.photos import CleanPhoto, PhotoStore, StoredPhoto
from storage.places import members_place, premises_of
from storage.store import Store

logger = logging.getLogger(__name__)

MAX_TEXT = 4000
"""Descriptions and updates longer than this are refused: a card must stay readable."""
MAX_NOTE = 1000
"""A note is a line or two ("seen him by Boots"); it also goes, quoted, into a control
room message, which must stay under Telegram's 4,096 characters."""
_INVISIBLE = frozenset("CZ")
"""Unicode's other (controls, format marks such as zero-width joiners) and separators."""
_KEPT_CONTROLS = frozenset("\n\t")
_DROPPED = frozenset({"Cc", "Cs"})

LOCATION_WINDOW = timedelta(minutes=10)
"""A location sent within this long after an alert belongs to that alert."""

AMENDABLE = DESCRIPTOR_FIELDS | {"description", "direction", "value_pence", "police_reference"}

_OPERATOR_ROLES = (Role.OPERATOR, Role.COORDINATOR, Role.ADMIN)
ACTION_LIMIT = "member_action_limit"
"""The audit's word for a burst of a member's changes refused (`AlertService.may_act`)."""


class UnchangedError(Exception):
    """A press that would change nothing: the call already stands, or the report is
    closed. Nothing is recorded and nobody told; `answer` is the truth for the presser."""

    def __init__(self, report_id: int, answer: str) -> None:
        super().__init__(f"report {report_id}: {answer}")
        self.report_id = report_id
        self.answer = answer


_STATUS_CALLS = frozenset({*OperatorStatus, ReportChange.STOOD_DOWN})


@dataclass(frozen=True)
class ReportDraft:
    """A report as a handler parsed it, not yet stored; photos are the bytes as received,
    or made clean already (`PhotoStore.clean_async`, to look for a double by them)."""

    scheme_id: int
    member_id: int | None
    category: Category
    urgency: Urgency
    description: str
    subject_description: str | None = None
    location_text: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    direction: str | None = None
    value_pence: int | None = None
    police_reference: str | None = None
    photos: tuple[bytes | CleanPhoto, ...] = ()
    source: ReportSource = ReportSource.CHAT
    origin_scheme: str | None = None
    occurred_at: datetime | None = None
    descriptors: Descriptors = dataclasses.field(default_factory=Descriptors)
    """The guided report's structured answers; `subject_description` is made from them
    when it is not given."""


@dataclass(frozen=True)
class Submitted:
    """A stored report and the chats its copies go to.

    `shops` (the scheme's other active member shops) and `neighbours` (names of
    neighbouring schemes reached) are what the member's confirmation says.
    """

    report: Report
    recipients: tuple[Recipient, ...]
    shops: int = 0
    neighbours: tuple[str, ...] = ()
    counted: bool = True
    """False when the report is stored and queued but the log went away before `shops`
    and `neighbours` could be read: the member is told it is saved, without the counts."""
    replaced: bool = False
    """The member's own message in a scheme chat goes once the bot's protected copy is there."""


@dataclass(frozen=True)
class Noted:
    """A note stored on a report; `shop` when a member shop wrote it, so the control room
    was told."""

    report: Report
    event: ReportEvent
    shop: bool


def text_problem(text: str) -> str | None:
    """Why a description or update cannot be taken: "empty", "too_long", or None.

    Zero-width characters, direction marks and spaces alone show nothing: empty.
    """
    if not any(unicodedata.category(char)[0] not in _INVISIBLE for char in text):
        return "empty"
    if len(text) > MAX_TEXT:
        return "too_long"
    return None


def note_problem(text: str) -> str | None:
    """Why words cannot be a note on a report: "empty", "too_long", or None."""
    problem = text_problem(text)
    if problem is None and len(text) > MAX_NOTE:
        return "too_long"
    return problem


def member_text(text: str) -> str:
    """A member's words as a chat shows them, trimmed: control characters (NUL, terminal
    escapes, carriage returns) and lone surrogates (JSON can name one, UTF-8 cannot hold
    it) dropped. No screen shows them, and PostgreSQL refuses NUL in text, so keeping them
    would lose the alert on one database and not the other."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(
        char
        for char in text
        if char in _KEPT_CONTROLS or unicodedata.category(char) not in _DROPPED
    ).strip()


def one_line(text: str) -> str:
    """Text for one line of a card (a place, a name): line breaks become spaces."""
    return " ".join(text.split())


def _member_text_or_none(text: str | None) -> str | None:
    return None if text is None else member_text(text) or None


class AlertService:
    """Reports in, copies out; see the module docstring for the promises it keeps."""

    def __init__(
        self,
        schemes: SchemesFile,
        store: Store,
        photos: PhotoStore,
        *,
        fan_outs: Sequence[FanOut],
        wake: Callable[[], None],
        metrics: Metrics,
        posting_limit: PostingLimit,
    ) -> None:
        """`fan_outs` are the ways out a report takes (the chats first), in the order their
        rows are queued; `wake` tells the outbox worker that rows are waiting."""
        self.posting_limit = posting_limit
        self.action_limit = PostingLimit(MEMBER_ACTIONS_PER_MINUTE)
        """Presses, replies, locations and calls on alerts: a member's, a minute, at most
        their scheme's `member_actions_per_minute`."""
        self.schemes = schemes
        self.store = store
        self.photos = photos
        self.metrics = metrics
        self._wake = wake
        self.fan_outs = tuple(fan_outs)
        self._rows: dict[int, Scheme] = {}
        self._recording: weakref.WeakValueDictionary[int, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    # --- how fast a member may act ----------------------------------------------------

    async def may_act(self, by: Member) -> str | None:
        """Count one change to alerts for the member (a press, a reply, a location, a
        call, a question asked for them); None when it is within their scheme's
        `member_actions_per_minute`, else the answer that tells them to wait, and then
        nothing is to be stored or sent.

        Each press of Log only and Happening now edits the alert in every chat it
        reaches, neighbours included, so a stuck phone or a misuse would crowd every
        other shop's alert out of Telegram's limits. The first refusal of a burst is
        audited, the rest only counted (`broadcast.posting_limit`).
        """
        member_id = stored_id(by)
        scheme = await self._scheme(by.scheme_id)
        limit = self.schemes.scheme(scheme.slug).member_actions_per_minute
        if self.action_limit.allow(member_id, limit):
            return None
        left_out = self.action_limit.first_of_burst(member_id)
        if left_out is not None:
            logger.warning("member %s is over %d changes a minute", member_id, limit)
            await self.store.audit.record(
                by.telegram_user_id,
                ACTION_LIMIT,
                AuditOutcome.REFUSED,
                scheme_id=by.scheme_id,
                actor_member_id=member_id,
                detail={"per_minute": limit, "left_out_before": left_out},
            )
        return alert_texts.too_many_changes(limit)

    # --- making a report -------------------------------------------------------------

    async def submit(
        self,
        draft: ReportDraft,
        *,
        source: MessageRef | None = None,
        also: Sequence[Delivery] = (),
    ) -> Submitted:
        """Store the report with its photos and a copy for every chat it must reach.

        `source` is the member's own message: a second delivery of that same
        message (a retried webhook) returns the report already stored instead of
        alerting twice, and a reply to it later finds the report. Raises
        `InvalidPhotoError` (nothing stored) for a photo that is not one.
        """
        problem = text_problem(draft.description)
        if problem is not None:
            raise ValueError(f"the description is {problem}")
        if draft.member_id is not None and not self.posting_limit.allow(draft.member_id):
            raise TooManyAlertsError(f"member {draft.member_id} is over the posting limit")
        scheme = await self._scheme(draft.scheme_id)
        config = self.schemes.scheme(scheme.slug)
        location_text = draft.location_text
        premises_shop: str | None = None
        at_premises = False
        if location_text is None and draft.latitude is None and draft.member_id is not None:
            # Sent from the shop: the place is its street; its name is kept apart, so
            # what the police see never names the source (storage.places).
            premises_shop, location_text = premises_of(
                await self.store.members.get_by_id(draft.member_id)
            )
            at_premises = premises_shop is not None or location_text is not None
        details = _descriptor_columns(draft.descriptors, config)
        subject = draft.subject_description or subject_summary(details)
        stored = [await self.photos.ingest_async(data) for data in draft.photos]
        report = Report(
            **details,
            scheme_id=draft.scheme_id,
            member_id=draft.member_id,
            category=draft.category,
            urgency=draft.urgency,
            description=member_text(draft.description),
            subject_description=_member_text_or_none(subject),
            location_text=one_line(member_text(location_text)) or None if location_text else None,
            at_premises=at_premises,
            premises_shop=premises_shop,
            latitude=draft.latitude,
            longitude=draft.longitude,
            direction=_member_text_or_none(draft.direction),
            value_pence=draft.value_pence,
            police_reference=_member_text_or_none(draft.police_reference),
            source=draft.source,
            origin_scheme=draft.origin_scheme,
            occurred_at=draft.occurred_at or utcnow(),
        )
        routed = tuple(
            recipients(
                self.schemes,
                config.slug,
                draft.category,
                draft.urgency,
                from_peer=draft.origin_scheme is not None,
            )
        )
        replaced = (
            source is not None
            and config.replace_member_alerts
            and any(r.chat_id == source.chat_id for r in routed)
        )

        def copies(saved: Report) -> list[Delivery]:
            view = AlertView(saved, self._name_of(saved, config))
            new = NewReport(saved, config, view, tuple(stored), source, bool(replaced))
            out = [row for fan_out in self.fan_outs for row in fan_out.new_report(new)]
            return [*out, *also]

        try:
            report = await self.store.reports.create(
                report, copies, [_photo_row(photo) for photo in stored]
            )
        except StorageError as exc:
            existing = None
            if isinstance(exc, DuplicateError) and source is not None:
                existing = await self.store.reports.for_message(source.chat_id, source.message_id)
            if existing is None:
                # Not stored: a photo left on disk with no report would outlive every
                # retention period, since retention finds photos through their reports.
                for photo in stored:
                    if photo.new:
                        self.photos.delete(photo.relative_path)
                raise
            logger.info("message %s came again: report %s already stored", source, existing.id)
            return await self._submitted(existing, exclude_member=draft.member_id)
        logger.info("report %s queued to %d chats", report.id, len(routed))
        self.metrics.alerts_received.labels(config.slug, str(draft.urgency)).inc()
        self._wake()
        try:
            submitted = await self._submitted(report, exclude_member=draft.member_id)
            return dataclasses.replace(submitted, replaced=replaced)
        except StorageError:
            # Telling the member "not stored" now would be false, and a second try a
            # second alert: it is stored and on its way, only the counts are missing.
            logger.warning("report %s stored; the log went away before it was counted", report.id)
            return Submitted(report, routed, counted=False, replaced=replaced)

    # --- the control room ------------------------------------------------------------

    async def set_status(self, report_id: int, status: OperatorStatus, *, by: Member) -> Submitted:
        """An operator's call ("On camera"), shown with their name on every copy.

        A call that would change nothing (the one that stands, pressed again; any call
        once the report is closed; an older copy's button after a later call) raises
        `UnchangedError`: one event and one notice to the shop per change, never two.
        """
        report = await self._open_report(report_id, by)
        if by.role not in _OPERATOR_ROLES:
            raise AccessDeniedError(
                Refusal.WRONG_ROLE, "only the control room sets an alert's status"
            )
        event = ReportEvent(
            report_id=report_id, member_id=stored_id(by), kind=EventKind.STATUS, status=status
        )
        changes = {"status": ReportStatus.CLOSED} if status == OperatorStatus.CLOSED else None
        told = await self._tell_reporter(report, status, by)
        return await self._record(report, event, changes, also=told, unless_unchanged=True)

    async def _unchanged(
        self, report: Report, pressed: str, history: Sequence[ReportEvent]
    ) -> str | None:
        """Why the call `pressed` would change nothing now, or None when it would."""
        calls = [e for e in history if e.kind == EventKind.STATUS and e.status in _STATUS_CALLS]
        current = calls[-1] if calls else None
        status = current.status if current is not None else None
        if pressed == ReportChange.STOOD_DOWN:
            if report.status == ReportStatus.OPEN:
                return None
        elif pressed in open_calls(status) and not (
            report.status == ReportStatus.CLOSED and status is None
        ):
            return None
        report_id = stored_id(report)
        if current is None:  # closed with no call on record (a peer's, say)
            return control_room_texts.report_closed(report_id)
        scheme = await self._scheme(report.scheme_id)
        time = formats.time_of_day(current.created_at, self.schemes.scheme(scheme.slug).timezone)
        by = await self._name(current.member_id) or current.text
        if status == pressed:
            return control_room_texts.call_already_marked(str(status), by, time)
        if is_final(status) or report.status == ReportStatus.CLOSED:
            return control_room_texts.report_already_closed(report_id, str(status), by, time)
        return control_room_texts.call_no_longer_applies(report_id, str(status), by, time)

    async def _name(self, member_id: int | None) -> str | None:
        if member_id is None:
            return None
        try:
            return (await self.store.members.get_by_id(member_id)).display_name
        except NotFoundError:
            return None

    async def _tell_reporter(
        self, report: Report, status: OperatorStatus, by: Member
    ) -> list[Delivery]:
        """A private note to the shopkeeper who sent it: the control room has it.

        Copies are edited silently, and a member who alerted from a private chat
        has no copy at all; with the suspect still in the shop, "On camera" is the
        news they are waiting for, so it comes as a message their phone rings for.
        """
        if report.member_id is None or report.member_id == by.id:
            return []
        reporter = await self.store.members.get_by_id(report.member_id)
        if reporter.status != MemberStatus.ACTIVE:
            return []
        last_seen = None
        if status == OperatorStatus.LOST:
            last_seen = await self._last_seen(report)
        text = control_room_texts.reporter_status_note(
            stored_id(report), status, by.display_name, last_seen=last_seen
        )
        return [Delivery(reporter.telegram_user_id, MessagePayload(text=text))]

    async def _last_seen(self, report: Report) -> str | None:
        """Where the person was last known to be: the member's latest update, else the way
        they went, else the place of the alert."""
        updates = [
            e.text
            for e in await self.store.reports.events(stored_id(report))
            if e.kind == EventKind.UPDATE and e.status is None and e.text
        ]
        if updates:
            return one_line(updates[-1])
        if report.direction:
            return one_line(report.direction)
        return members_place(report)

    async def raise_unheard(
        self,
        report_id: int,
        after: timedelta,
        told: Callable[[Report, SchemeConfig], Sequence[Delivery]],
        now: datetime,
    ) -> bool:
        """Raise again a live alert no operator has answered within `after`: an event in the
        log (so it happens once, restart or not) with the messages `told` makes.

        Checked under the report's lock, so an operator's call landing just before wins
        and nothing is raised. The control room's card is edited with the event to say
        it was raised again, so the fresh message and the card agree; no other copy is
        edited, since the group's and a neighbour's cards show no acknowledgement (it
        is this control room's state) and an edit there would change nothing. False
        when it was heard, or raised, after all.
        """
        lock = self._recording.setdefault(report_id, asyncio.Lock())
        async with lock:
            report = await self.store.reports.get(report_id)
            history = await self.store.reports.events(report_id)
            heard = any(
                e.status in OPERATOR_STATUSES or e.status == ReportChange.ESCALATED
                for e in history
            ) or await self._noted_by_control_room(history)
            if (
                heard
                or report.status != ReportStatus.OPEN
                or report.urgency != Urgency.NOW
                or now - report.created_at < after
            ):
                return False
            scheme = await self._scheme(report.scheme_id)
            event = ReportEvent(
                report_id=report_id, kind=EventKind.NOTE, status=ReportChange.ESCALATED
            )
            config = self.schemes.scheme(scheme.slug)
            deliveries = list(told(report, config))
            view = await self._view(report, config, [*history, event])
            for fan_out in self.fan_outs:
                deliveries += [
                    edit
                    for edit in await fan_out.refreshed(view, config)
                    if edit.chat_id == config.control_room_chat_id
                ]
            await self.store.reports.add_event(event, deliveries)
        logger.info("report %s: not acknowledged in time, raised again", report_id)
        self._wake()
        return True

    async def _noted_by_control_room(self, history: Sequence[ReportEvent]) -> bool:
        """Whether someone of the control room wrote a note on the report: heard, for
        escalation, though not a call (`broadcast.escalation` says why)."""
        for event in history:
            if event.kind == EventKind.NOTE and event.status is None and event.member_id:
                try:
                    writer = await self.store.members.get_by_id(event.member_id)
                except NotFoundError:
                    continue
                if writer.role in CONTROL_ROOM:
                    return True
        return False

    async def set_police_reference(
        self, report_id: int, reference: str, *, by: Member
    ) -> Submitted:
        """The police's reference for the report, from the control room, on every copy.

        It goes into the log with who gave it and when, and into the police export,
        so the weekly intelligence links to the force's own record.
        """
        report = await self._open_report(report_id, by)
        if by.role not in _OPERATOR_ROLES:
            raise AccessDeniedError(
                Refusal.WRONG_ROLE, "only the control room gives the police reference"
            )
        if report.police_reference == reference:
            return await self._submitted(report, exclude_member=None)
        event = ReportEvent(
            report_id=report_id,
            member_id=stored_id(by),
            kind=EventKind.NOTE,
            status=ReportChange.POLICE_REFERENCE,
            text=reference,
        )
        return await self._record(report, event, {"police_reference": reference})

    # --- everyone else: notes -------------------------------------------------------

    async def note(
        self, report_id: int, text: str, *, by: Member, source: MessageRef, answer: str
    ) -> Noted:
        """Someone other than the member who sent it adds their words to a report: an
        operator's reply to the control room's copy ("Lost him at the Forum, PCSO 123
        attending"), another shop's to the group's ("I saw him earlier too, by Boots").

        The note is in the log with who and when, so the timeline, the search and the
        police export have it; it changes nothing else about the report: no field, no
        call, no copy is edited. A shop's note is news for the control room, which does
        not see the group: it gets the words as a message under its own copy's card,
        since an operator follows a live incident by what arrives in the chat, and a
        line added to a card higher up would go unseen (an edit does not notify). An
        operator's note is already in the control room, where it was written.

        No note goes to peer towns. A shop's words about another shop's alert are this
        scheme's intelligence and its members', shared with a neighbour only through the
        calls the agreement names; an operator's note is the control room's working
        record (officers' numbers, camera positions), not a call a peer's cards follow.

        `source` is the reply itself and `answer` what its writer is told (queued as a
        reply to it, in the same transaction): the same message delivered again fails as
        a duplicate (`DuplicateError`), so it is noted once and answered once. Raises
        `ReportClosedError` for a closed or withdrawn report, `AccessDeniedError` for
        the police (who read and do not post) and anyone not an active member of the
        report's scheme, `ValueError` for empty or over-long words.
        """
        problem = note_problem(text)
        if problem is not None:
            raise ValueError(f"the note is {problem}")
        report = await self._open_report(report_id, by)
        if by.role == Role.POLICE:
            raise AccessDeniedError(Refusal.WRONG_ROLE, "the police do not add to reports")
        if report.status != ReportStatus.OPEN:
            raise ReportClosedError(f"report {report_id} is closed")
        words = member_text(text)
        event = ReportEvent(
            report_id=report_id, member_id=stored_id(by), kind=EventKind.NOTE, text=words
        )
        key = f"note:{source.chat_id}:{source.message_id}"
        told = [
            Delivery(
                source.chat_id,
                MessagePayload(text=answer, reply_to=source.message_id),
                dedupe_key=key,
            )
        ]
        shop = by.role == Role.MEMBER
        if shop:
            told.append(await self._shop_note(report, by, words, key))
        await self.store.reports.add_event(event, told)
        logger.info("report %s: a note from member %s", report_id, by.id)
        self._wake()
        return Noted(report, event, shop)

    async def _shop_note(self, report: Report, by: Member, words: str, key: str) -> Delivery:
        """The shop's words for the scheme's control room, under its copy of the alert
        when that is there; gone after the chat TTL, as the copy is."""
        report_id = stored_id(report)
        scheme = await self._scheme(report.scheme_id)
        config = self.schemes.scheme(scheme.slug)
        room = config.control_room_chat_id
        copies = await self.store.outbox.for_report(report_id, kind=OutboxKind.ALERT)
        card = next(
            (
                row.telegram_message_id
                for row in reversed(copies)
                if row.chat_id == room and row.telegram_message_id is not None
            ),
            None,
        )
        shop = ", ".join(part for part in (by.shop_name, by.street) if part) or by.display_name
        text = control_room_texts.shop_note(
            report_id, alert_texts.category_name(report.category), one_line(shop), words
        )
        payload = MessagePayload(
            text=text,
            reply_to=card,
            protect_content=config.protect_content,
            delete_after_hours=config.chat_ttl_hours,
        )
        return Delivery(room, payload, dedupe_key=f"{key}:control_room")

    # --- the member who sent it ------------------------------------------------------

    async def update(self, report_id: int, text: str, *, by: Member) -> Submitted:
        """What happened next ("left towards Market St"), added under every copy."""
        problem = text_problem(text)
        if problem is not None:
            raise ValueError(f"the update is {problem}")
        report = await self._own_report(report_id, by)
        event = ReportEvent(
            report_id=report_id,
            member_id=stored_id(by),
            kind=EventKind.UPDATE,
            text=member_text(text),
        )
        return await self._record(report, event)

    async def amend(self, report_id: int, changes: Mapping[str, Any], *, by: Member) -> Submitted:
        """The member's further answers to a guided report whose alert is already out.

        `changes` names report columns: the description, direction, value, police
        reference and the descriptors (`broadcast.descriptors`). Every copy is edited to
        show them, and the compact person line follows. An answer that changes nothing
        records nothing.
        """
        unknown = set(changes) - AMENDABLE
        if unknown:
            raise ValueError(f"a guided answer cannot change {sorted(unknown)}")
        report = await self._own_report(report_id, by)
        scheme = await self._scheme(report.scheme_id)
        config = self.schemes.scheme(scheme.slug)
        wanted = dict(changes)
        description = wanted.pop("description", None)
        if description is not None:
            problem = text_problem(description)
            if problem is not None:
                raise ValueError(f"the description is {problem}")
            wanted["description"] = member_text(description)
        for name in ("direction", "police_reference"):
            if name in wanted:
                wanted[name] = _member_text_or_none(wanted[name])
        details = {name: wanted.pop(name) for name in list(wanted) if name in DESCRIPTOR_FIELDS}
        now = report.model_dump(include=set(DESCRIPTOR_FIELDS))
        now.update(_descriptor_columns(Descriptors(**{**now, **details}), config, only=details))
        wanted.update({name: now[name] for name in details})
        if details:
            wanted["subject_description"] = subject_summary(now)
        changed = {name: value for name, value in wanted.items() if getattr(report, name) != value}
        if not changed:
            return await self._submitted(report, exclude_member=stored_id(by))
        event = ReportEvent(
            report_id=report_id,
            member_id=stored_id(by),
            kind=EventKind.UPDATE,
            status=ReportChange.DESCRIBED,
            text=described({k: v for k, v in changed.items() if k != "subject_description"}),
        )
        return await self._record(report, event, changed)

    async def add_photo(self, report_id: int, data: bytes, *, by: Member) -> Submitted:
        """A photo for the member's alert that is out already (the guided report's, sent
        after its words): kept with the report and sent under every copy, since a card
        sent as text cannot become a photo, nor can a photo card take another."""
        report = await self._own_report(report_id, by)
        stored = await self.photos.ingest_async(data)
        event = ReportEvent(
            report_id=report_id,
            member_id=stored_id(by),
            kind=EventKind.UPDATE,
            status=ReportChange.PHOTO_ADDED,
        )
        try:
            return await self._record(report, event, photos=(stored,))
        except StorageError:
            if stored.new:  # as in `submit`: no photo on disk without its report
                self.photos.delete(stored.relative_path)
            raise

    async def locate(
        self, report_id: int, latitude: float, longitude: float, *, by: Member
    ) -> Submitted:
        """A Telegram location for the report: every copy gets a map link."""
        report = await self._own_report(report_id, by)
        event = ReportEvent(
            report_id=report_id,
            member_id=stored_id(by),
            kind=EventKind.UPDATE,
            status=ReportChange.LOCATED,
            text=f"{latitude:.5f},{longitude:.5f}",
        )
        changes = {"latitude": latitude, "longitude": longitude}
        return await self._record(report, event, changes)

    async def reclassify(
        self,
        report_id: int,
        *,
        by: Member,
        category: Category | None = None,
        urgency: Urgency | None = None,
    ) -> Submitted:
        """A new category or urgency; the copies follow the routing rules for it."""
        report = await self._own_report(report_id, by)
        changes: dict[str, Any] = {}
        if category is not None and category != report.category:
            changes["category"] = category
        if urgency is not None and urgency != report.urgency:
            changes["urgency"] = urgency
        if not changes:
            return await self._submitted(report, exclude_member=stored_id(by))
        before = f"{report.category}/{report.urgency}"
        after = (
            f"{changes.get('category', report.category)}/{changes.get('urgency', report.urgency)}"
        )
        event = ReportEvent(
            report_id=report_id,
            member_id=stored_id(by),
            kind=EventKind.NOTE,
            status=ReportChange.RECLASSIFIED,
            text=f"{before} -> {after}",
        )
        return await self._record(report, event, changes)

    async def stand_down(self, report_id: int, *, by: Member) -> Submitted:
        """The member says it is over: the report is closed, every copy says stood down.

        On a report already closed it changes nothing and raises `UnchangedError`."""
        report = await self._own_report(report_id, by)
        event = ReportEvent(
            report_id=report_id,
            member_id=stored_id(by),
            kind=EventKind.STATUS,
            status=ReportChange.STOOD_DOWN,
        )
        return await self._record(
            report, event, {"status": ReportStatus.CLOSED}, unless_unchanged=True
        )

    async def withdraw(
        self, report_id: int, *, by: Member, reason: str = "wrong person"
    ) -> Submitted:
        """The member takes it back (the wrong person): every copy says WITHDRAWN.

        The description and the person's details leave every copy; the report stays
        in the log, marked withdrawn, for the record.
        """
        report = await self._own_report(report_id, by)
        event = ReportEvent(
            report_id=report_id,
            member_id=stored_id(by),
            kind=EventKind.STATUS,
            status=ReportChange.WITHDRAWN,
            text=reason,
        )
        return await self._record(report, event, {"status": ReportStatus.WITHDRAWN})

    # --- finding reports -------------------------------------------------------------

    async def find(self, message: MessageRef) -> Report | None:
        """The report a message belongs to: a copy of it, or the member's own alert."""
        return await self.store.reports.for_message(message.chat_id, message.message_id)

    async def latest_of(
        self, member: Member, within: timedelta = LOCATION_WINDOW
    ) -> Report | None:
        """The member's alert of the last few minutes, e.g. for a location sent after it."""
        return await self.store.reports.latest_by_member(stored_id(member), utcnow() - within)

    # --- inside ----------------------------------------------------------------------

    async def _scheme(self, scheme_id: int) -> Scheme:
        if scheme_id not in self._rows:
            self._rows = {stored_id(row): row for row in await self.store.schemes.list_all()}
        try:
            return self._rows[scheme_id]
        except KeyError:
            raise NotFoundError(f"no scheme {scheme_id}") from None

    async def _open_report(self, report_id: int, by: Member) -> Report:
        report = await self.store.reports.get(report_id)
        if by.scheme_id != report.scheme_id or by.status != MemberStatus.ACTIVE:
            raise AccessDeniedError(
                Refusal.OTHER_SCHEME, "not an active member of the report's scheme"
            )
        if report.status == ReportStatus.WITHDRAWN:
            raise ReportClosedError(f"report {report_id} was withdrawn")
        return report

    async def _own_report(self, report_id: int, by: Member) -> Report:
        report = await self._open_report(report_id, by)
        if report.member_id is None or report.member_id != by.id:
            raise AccessDeniedError(
                Refusal.NOT_YOURS, "only the member who sent a report can change it"
            )
        return report

    async def record_from_peer(
        self,
        report_id: int,
        event: ReportEvent,
        changes: dict[str, Any] | None,
        *,
        peer: str,
        receipt: Delivery,
        photos: Sequence[bytes] = (),
    ) -> Submitted:
        """An event a peer sent about a report both sides hold, shown on every copy here.

        `receipt` (the peer's idempotency key) is stored with it, so the same
        request taken twice fails as a duplicate and changes nothing.
        """
        report = await self.store.reports.get(report_id)
        stored = [await self.photos.ingest_async(data) for data in photos]
        try:
            return await self._record(
                report, event, changes, from_peer=peer, also=(receipt,), photos=stored
            )
        except StorageError:
            for photo in stored:
                if photo.new:
                    self.photos.delete(photo.relative_path)
            raise

    async def _record(
        self,
        report: Report,
        event: ReportEvent,
        changes: dict[str, Any] | None = None,
        *,
        from_peer: str | None = None,
        also: Sequence[Delivery] = (),
        unless_unchanged: bool = False,
        photos: Sequence[StoredPhoto] = (),
    ) -> Submitted:
        """Store the event (and changes) with the edits that bring every copy up to date.

        One report's events are recorded one at a time: each edit is rendered from the
        report and history as they stand, so an edit rendered before another event was
        stored cannot be sent after it and put the copies back (a neighbour's "On
        camera" arriving over HTTP while the member reclassifies, say). Only the process
        that receives updates records events, so a lock in it is enough.
        """
        report_id = stored_id(report)
        lock = self._recording.setdefault(report_id, asyncio.Lock())
        async with lock:
            if unless_unchanged:
                # Under the lock: two quick presses of one button are one event.
                current = await self.store.reports.get(report_id)
                history = await self.store.reports.events(report_id)
                why = await self._unchanged(current, str(event.status), history)
                if why is not None:
                    raise UnchangedError(report_id, why)
            return await self._record_now(
                report_id, event, changes, from_peer=from_peer, also=also, photos=photos
            )

    async def _record_now(
        self,
        report_id: int,
        event: ReportEvent,
        changes: dict[str, Any] | None,
        *,
        from_peer: str | None,
        also: Sequence[Delivery],
        photos: Sequence[StoredPhoto] = (),
    ) -> Submitted:
        report = await self.store.reports.get(report_id)
        if (
            event.kind == EventKind.STATUS
            and event.status in ENDING_CALLS
            and report.status == ReportStatus.OPEN
            and not (changes or {}).get("status")
        ):
            # "Detained" ends it as "Closed" does: the log never says open beside detained.
            changes = {**(changes or {}), "status": ReportStatus.CLOSED}
        now = Report.model_validate({**report.model_dump(), **(changes or {})})
        history = [*await self.store.reports.events(report_id), event]
        scheme = await self._scheme(report.scheme_id)
        config = self.schemes.scheme(scheme.slug)
        view = await self._view(now, config, history)
        change = ReportChanged(now, config, view, event, changes, from_peer, tuple(photos))
        deliveries: list[Delivery] = []
        for fan_out in self.fan_outs:
            deliveries += await fan_out.report_changed(change)
        deliveries += also
        rows = [_photo_row(photo) for photo in photos]
        await self.store.reports.add_event(event, deliveries, changes=changes, photos=rows)
        logger.info(
            "report %s: %s %s, %d messages queued",
            report.id,
            event.kind,
            event.status or "",
            len(deliveries),
        )
        self._wake()
        return await self._submitted(now, exclude_member=report.member_id)

    async def _view(
        self, report: Report, config: SchemeConfig, history: Sequence[ReportEvent]
    ) -> AlertView:
        names: dict[int, str] = {}

        async def name(member_id: int | None) -> str | None:
            if member_id is None:
                return None
            if member_id not in names:
                try:
                    names[member_id] = (await self.store.members.get_by_id(member_id)).display_name
                except NotFoundError:
                    return None
            return names[member_id]

        status: StatusMark | None = None
        update: UpdateMark | None = None
        acknowledged: StatusMark | None = None
        ending: str | None = None
        raised_again: datetime | None = None
        calls: list[StatusMark] = []
        for event in history:
            at = event.created_at
            if event.kind == EventKind.STATUS and event.status in _STATUS_CALLS:
                by = await name(event.member_id) or event.text  # a peer's operator: text
                status = StatusMark(str(event.status), by, at)
                calls.append(status)
                if acknowledged is None and event.status in OPERATOR_STATUSES:
                    acknowledged = status
                if event.status in (*ENDING_CALLS, ReportChange.STOOD_DOWN):
                    ending = str(event.status)
            elif event.status == ReportChange.ESCALATED:
                calls.append(StatusMark(str(event.status), None, at))
                raised_again = at
            elif event.kind == EventKind.UPDATE and event.status is None and event.text:
                update = UpdateMark(event.text, at)
        today = utcnow().astimezone(ZoneInfo(config.timezone)).date()
        excluded = await exclusion_of(self.store, stored_id(report), today)
        return AlertView(
            report,
            self._name_of(report, config),
            status,
            update,
            excluded,
            acknowledged=acknowledged,
            history=tuple(calls),
            ending=ending,
            raised_again=raised_again,
        )

    async def refresh(self, report_id: int) -> None:
        """Bring the report's copies up to date with what is known beside its history (a
        subject linked to it, and that subject's exclusion): edits only, no new event."""
        lock = self._recording.setdefault(report_id, asyncio.Lock())
        async with lock:
            report = await self.store.reports.get(report_id)
            scheme = await self._scheme(report.scheme_id)
            config = self.schemes.scheme(scheme.slug)
            view = await self._view(report, config, await self.store.reports.events(report_id))
            edits: list[Delivery] = []
            for fan_out in self.fan_outs:
                edits += await fan_out.refreshed(view, config)
            for edit in edits:
                await self.store.outbox.enqueue(report.scheme_id, edit, report_id=report_id)
        logger.info("report %s: %d copies brought up to date", report_id, len(edits))
        self._wake()

    def _name_of(self, report: Report, config: SchemeConfig) -> str:
        """The scheme a report is from: ours, or the peer's it came from."""
        names = (fan_out.origin_name(report) for fan_out in self.fan_outs)
        return next((name for name in names if name), config.name)

    async def _submitted(self, report: Report, *, exclude_member: int | None) -> Submitted:
        scheme = await self._scheme(report.scheme_id)
        routed = tuple(
            recipients(
                self.schemes,
                scheme.slug,
                report.category,
                report.urgency,
                from_peer=report.origin_scheme is not None,
            )
        )
        shops = await self.store.members.count_active(
            report.scheme_id, Role.MEMBER, besides=exclude_member
        )
        config = self.schemes.scheme(scheme.slug)
        neighbours: tuple[str, ...] = ()
        for fan_out in self.fan_outs:
            neighbours += tuple(await fan_out.reached(report, config))
        return Submitted(report, routed, shops, neighbours)


def _descriptor_columns(
    descriptors: Descriptors, config: SchemeConfig, *, only: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The descriptors as the log keeps them: typed words cleaned as descriptions are; the
    appearance descriptor touching ethnicity refused unless the scheme turned it on."""
    columns = descriptors.columns()
    if only is not None:
        columns = {name: columns[name] for name in only}
    if columns.get("subject_appearance") is not None and not config.subjects.ethnicity_descriptor:
        raise InvalidInputError("ethnicity_descriptor_off")
    return {
        name: _member_text_or_none(value) if isinstance(value, str) else value
        for name, value in columns.items()
    }


def _photo_row(photo: StoredPhoto) -> Photo:
    return Photo(
        sha256=photo.sha256,
        phash=photo.phash,
        width=photo.width,
        height=photo.height,
        size=photo.size,
        relative_path=photo.relative_path,
    )
