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
import re
import unicodedata
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from broadcast import render
from broadcast.callbacks import CallbackSigner
from broadcast.chat_guard import delete_message
from broadcast.descriptors import FIELDS as DESCRIPTOR_FIELDS
from broadcast.descriptors import Descriptors, subject_summary
from broadcast.metrics import Metrics
from broadcast.posting_limit import MEMBER_ACTIONS_PER_MINUTE, PostingLimit
from broadcast.radio.script import radio_deliveries, radio_status_deliveries
from broadcast.render import AlertView, StatusMark, UpdateMark
from broadcast.routing import Audience, Recipient, recipients
from broadcast.subjects.service import exclusion_of
from broadcast.texts import control_room as control_room_texts
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
from config.schemes import Category, SchemeConfig, SchemesFile, Urgency
from storage.enums import (
    EventKind,
    MemberStatus,
    OutboxKind,
    OutboxState,
    ReportSource,
    ReportStatus,
    Role,
)
from storage.models import Member, OutboxRow, Photo, Report, ReportEvent, Scheme, utcnow
from storage.outbox import Delivery
from storage.photos import PhotoStore, StoredPhoto
from storage.places import premises_of
from storage.store import Store

if TYPE_CHECKING:
    from broadcast.federation.link import FederationLink

logger = logging.getLogger(__name__)

MAX_TEXT = 4000
"""Descriptions and updates longer than this are refused: a card must stay readable."""
_INVISIBLE = frozenset("CZ")
"""Unicode's other (controls, format marks such as zero-width joiners) and separators."""
_KEPT_CONTROLS = frozenset("\n\t")
_DROPPED = frozenset({"Cc", "Cs"})

LOCATION_WINDOW = timedelta(minutes=10)
"""A location sent within this long after an alert belongs to that alert."""

STOOD_DOWN = "stood_down"
WITHDRAWN = "withdrawn"
RECLASSIFIED = "reclassified"
LOCATED = "located"
POLICE_REFERENCE = "police_reference"
DESCRIBED = "described"
"""An event: the member's further answers to a guided report already sent."""
AMENDABLE = DESCRIPTOR_FIELDS | {"description", "direction", "value_pence", "police_reference"}

MAX_REFERENCE = 60
"""A police or CAD reference is a short code; anything longer is a message, not a reference."""

_REFERENCE = re.compile(
    r"^\s*(?:police\s+|crime\s+|incident\s+)?(?:ref(?:erence)?|number|no\.?|cad|log)"
    r"(?:\s+(?:no\.?|number))?\s*[:#.\-]?\s*(?P<reference>\S.*?)\s*$",
    re.IGNORECASE | re.DOTALL,
)

_OPERATOR_ROLES = (Role.OPERATOR, Role.COORDINATOR, Role.ADMIN)


class OperatorStatus(StrEnum):
    """What the control room reports back; stored as a status event, shown on every copy."""

    ACKNOWLEDGED = "acknowledged"
    ON_CAMERA = "on_camera"
    POLICE_INFORMED = "police_informed"
    LOST = "lost"
    DETAINED = "detained"
    CLOSED = "closed"


# The control room's calls that end an alert: the report is closed with them.
_ENDING_CALLS = frozenset({OperatorStatus.DETAINED.value, OperatorStatus.CLOSED.value})


@dataclass(frozen=True)
class ReportDraft:
    """A report as a handler parsed it, not yet stored; photos are the bytes as received."""

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
    photos: tuple[bytes, ...] = ()
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
class MessageRef:
    """A Telegram message: where a report came from, or what a member replied to."""

    chat_id: int
    message_id: int


def text_problem(text: str) -> str | None:
    """Why a description or update cannot be taken: "empty", "too_long", or None.

    Zero-width characters, direction marks and spaces alone show nothing: empty.
    """
    if not any(unicodedata.category(char)[0] not in _INVISIBLE for char in text):
        return "empty"
    if len(text) > MAX_TEXT:
        return "too_long"
    return None


def police_reference_in(text: str) -> str | None:
    """The reference in an operator's "ref 36/12345/26" (or "CAD 1234", "crime no. …").

    Operators reply to a copy with what the police gave them; anything not shaped
    like that is conversation in the control room and is left alone.
    """
    found = _REFERENCE.match(text)
    if found is None:
        return None
    reference = " ".join(found.group("reference").split())
    if not any(ch.isdigit() for ch in reference) or len(reference) > MAX_REFERENCE:
        return None
    return reference


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
        signer: CallbackSigner,
        *,
        wake: Callable[[], None] = lambda: None,
        metrics: Metrics | None = None,
        federation: FederationLink | None = None,
        posting_limit: PostingLimit | None = None,
    ) -> None:
        self.posting_limit = posting_limit or PostingLimit()
        self.action_limit = PostingLimit(MEMBER_ACTIONS_PER_MINUTE)
        """Presses, updates, locations and calls on alerts: a member's, a minute."""
        self.schemes = schemes
        self.store = store
        self.photos = photos
        self.signer = signer
        self.metrics = metrics or Metrics()
        self._wake = wake
        self.federation = federation
        self._rows: dict[int, Scheme] = {}
        self._recording: weakref.WeakValueDictionary[int, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

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
        paths = [photo.relative_path for photo in stored]
        replaced = (
            source is not None
            and config.replace_member_alerts
            and any(r.chat_id == source.chat_id for r in routed)
        )

        def copies(saved: Report) -> list[Delivery]:
            view = AlertView(saved, self._name_of(saved, config))
            out = [self._new_copy(view, config, recipient, paths, source) for recipient in routed]
            if replaced and source is not None:  # after the copy to that chat, in its turn
                copy_key = f"alert:{source.chat_id}:{source.message_id}:{source.chat_id}"
                out.append(delete_message(source.chat_id, source.message_id, after_key=copy_key))
            if self.federation is not None:  # peers on other deployments, same transaction
                hashes = [photo.sha256 for photo in stored]
                out += self.federation.alert_deliveries(saved, config, hashes)
            out += radio_deliveries(config, saved)  # read out on the scheme's radio, if any
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
        """An operator's call ("On camera"), shown with their name on every copy."""
        report = await self._open_report(report_id, by)
        if by.role not in _OPERATOR_ROLES:
            raise AccessDeniedError(
                Refusal.WRONG_ROLE, "only the control room sets an alert's status"
            )
        event = ReportEvent(
            report_id=report_id, member_id=by.id, kind=EventKind.STATUS, status=status
        )
        changes = {"status": ReportStatus.CLOSED} if status == OperatorStatus.CLOSED else None
        told = await self._tell_reporter(report, status, by)
        return await self._record(report, event, changes, also=told)

    async def _tell_reporter(
        self, report: Report, status: OperatorStatus, by: Member
    ) -> list[Delivery]:
        """A private note to the shopkeeper who sent it: the control room has it.

        Copies are edited silently, and a member who alerted from a private chat
        has no copy at all; with the suspect still in the shop, "On camera" is the
        news they are waiting for, so it comes as a message their phone rings for.
        """
        if report.member_id is None or report.member_id == by.id or report.id is None:
            return []
        reporter = await self.store.members.get_by_id(report.member_id)
        if reporter.status != MemberStatus.ACTIVE:
            return []
        text = control_room_texts.reporter_status_note(report.id, status, by.display_name)
        return [Delivery(reporter.telegram_user_id, OutboxKind.MESSAGE, {"text": text})]

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
            member_id=by.id,
            kind=EventKind.NOTE,
            status=POLICE_REFERENCE,
            text=reference,
        )
        return await self._record(report, event, {"police_reference": reference})

    # --- the member who sent it ------------------------------------------------------

    async def update(self, report_id: int, text: str, *, by: Member) -> Submitted:
        """What happened next ("left towards Market St"), added under every copy."""
        problem = text_problem(text)
        if problem is not None:
            raise ValueError(f"the update is {problem}")
        report = await self._own_report(report_id, by)
        event = ReportEvent(
            report_id=report_id, member_id=by.id, kind=EventKind.UPDATE, text=member_text(text)
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
            return await self._submitted(report, exclude_member=by.id)
        event = ReportEvent(
            report_id=report_id,
            member_id=by.id,
            kind=EventKind.UPDATE,
            status=DESCRIBED,
            text="; ".join(
                f"{name}: {'–' if value is None else value}"
                for name, value in changed.items()
                if name != "subject_description"
            ),
        )
        return await self._record(report, event, changed)

    async def locate(
        self, report_id: int, latitude: float, longitude: float, *, by: Member
    ) -> Submitted:
        """A Telegram location for the report: every copy gets a map link."""
        report = await self._own_report(report_id, by)
        event = ReportEvent(
            report_id=report_id,
            member_id=by.id,
            kind=EventKind.UPDATE,
            status=LOCATED,
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
            return await self._submitted(report, exclude_member=by.id)
        before = f"{report.category}/{report.urgency}"
        after = (
            f"{changes.get('category', report.category)}/{changes.get('urgency', report.urgency)}"
        )
        event = ReportEvent(
            report_id=report_id,
            member_id=by.id,
            kind=EventKind.NOTE,
            status=RECLASSIFIED,
            text=f"{before} -> {after}",
        )
        return await self._record(report, event, changes)

    async def stand_down(self, report_id: int, *, by: Member) -> Submitted:
        """The member says it is over: the report is closed, every copy says stood down."""
        report = await self._own_report(report_id, by)
        if report.status == ReportStatus.CLOSED:
            return await self._submitted(report, exclude_member=by.id)
        event = ReportEvent(
            report_id=report_id, member_id=by.id, kind=EventKind.STATUS, status=STOOD_DOWN
        )
        return await self._record(report, event, {"status": ReportStatus.CLOSED})

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
            member_id=by.id,
            kind=EventKind.STATUS,
            status=WITHDRAWN,
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
        assert member.id is not None
        return await self.store.reports.latest_by_member(member.id, utcnow() - within)

    # --- inside ----------------------------------------------------------------------

    async def _scheme(self, scheme_id: int) -> Scheme:
        if scheme_id not in self._rows:
            self._rows = {row.id: row for row in await self.store.schemes.list_all() if row.id}
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
    ) -> Submitted:
        """An event a peer sent about a report both sides hold, shown on every copy here.

        `receipt` (the peer's idempotency key) is stored with it, so the same
        request taken twice fails as a duplicate and changes nothing.
        """
        report = await self.store.reports.get(report_id)
        return await self._record(report, event, changes, from_peer=peer, also=(receipt,))

    async def _record(
        self,
        report: Report,
        event: ReportEvent,
        changes: dict[str, Any] | None = None,
        *,
        from_peer: str | None = None,
        also: Sequence[Delivery] = (),
    ) -> Submitted:
        """Store the event (and changes) with the edits that bring every copy up to date.

        One report's events are recorded one at a time: each edit is rendered from the
        report and history as they stand, so an edit rendered before another event was
        stored cannot be sent after it and put the copies back (a neighbour's "On
        camera" arriving over HTTP while the member reclassifies, say). Only the process
        that receives updates records events, so a lock in it is enough.
        """
        assert report.id is not None
        lock = self._recording.setdefault(report.id, asyncio.Lock())
        async with lock:
            return await self._record_now(
                report.id, event, changes, from_peer=from_peer, also=also
            )

    async def _record_now(
        self,
        report_id: int,
        event: ReportEvent,
        changes: dict[str, Any] | None,
        *,
        from_peer: str | None,
        also: Sequence[Delivery],
    ) -> Submitted:
        report = await self.store.reports.get(report_id)
        if (
            event.kind == EventKind.STATUS
            and event.status in _ENDING_CALLS
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
        deliveries = await self._follow(view, config)
        if self.federation is not None:  # peers that got the alert, or sent it
            deliveries += await self.federation.event_deliveries(
                now, config, event, changes, from_peer=from_peer
            )
        if event.status:
            deliveries += radio_status_deliveries(config, now, str(event.status))
        deliveries += also
        await self.store.reports.add_event(event, deliveries, changes=changes)
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
        for event in history:
            at = event.created_at
            if event.kind == EventKind.STATUS and event.status in (*OperatorStatus, STOOD_DOWN):
                by = await name(event.member_id) or event.text  # a peer's operator: text
                status = StatusMark(str(event.status), by, at)
            elif event.kind == EventKind.UPDATE and event.status is None and event.text:
                update = UpdateMark(event.text, at)
        today = utcnow().astimezone(ZoneInfo(config.timezone)).date()
        excluded = await exclusion_of(self.store, report.id, today) if report.id else None
        return AlertView(report, self._name_of(report, config), status, update, excluded)

    async def refresh(self, report_id: int) -> None:
        """Bring the report's copies up to date with what is known beside its history (a
        subject linked to it, and that subject's exclusion): edits only, no new event."""
        lock = self._recording.setdefault(report_id, asyncio.Lock())
        async with lock:
            report = await self.store.reports.get(report_id)
            scheme = await self._scheme(report.scheme_id)
            config = self.schemes.scheme(scheme.slug)
            view = await self._view(report, config, await self.store.reports.events(report_id))
            edits = [d for d in await self._follow(view, config) if d.kind is OutboxKind.EDIT]
            for edit in edits:
                await self.store.outbox.enqueue(report.scheme_id, edit, report_id=report_id)
        logger.info("report %s: %d copies brought up to date", report_id, len(edits))
        self._wake()

    def _name_of(self, report: Report, config: SchemeConfig) -> str:
        """The scheme a report is from: ours, or the peer's it came from."""
        origin = self.federation.origin_name(report) if self.federation is not None else None
        return origin or config.name

    async def _follow(self, view: AlertView, config: SchemeConfig) -> list[Delivery]:
        """Edits for the copies that stay, deletes for chats no longer routed, new copies
        for chats newly routed (while the report is younger than the chat TTL)."""
        report = view.report
        assert report.id is not None
        rows = await self.store.outbox.for_report(report.id)
        live = _live_copies(rows)
        if view.state == ReportStatus.WITHDRAWN:
            wanted = {row.chat_id: _recipient_of(row, config.slug) for row in live}
        else:
            routed = recipients(
                self.schemes,
                config.slug,
                report.category,
                report.urgency,
                from_peer=report.origin_scheme is not None,
            )
            wanted = {recipient.chat_id: recipient for recipient in routed}
        out: list[Delivery] = []
        have: set[int] = set()
        for row in live:
            assert row.id is not None
            recipient = wanted.get(row.chat_id)
            if recipient is None:
                also = _album_of(rows, row.id)
                out.append(
                    Delivery(row.chat_id, OutboxKind.DELETE, {"target": row.id, "also": also})
                )
                continue
            have.add(row.chat_id)
            card = self._card(view, recipient, has_photo=bool(row.payload.get("photos")))
            out.append(
                Delivery(
                    row.chat_id,
                    OutboxKind.EDIT,
                    {"target": row.id, "text": card.text, "buttons": card.payload_buttons()},
                )
            )
        if view.state == ReportStatus.WITHDRAWN or report.urgency != Urgency.NOW:
            out.extend(_originals_taken_down(rows))
        young = utcnow() - report.created_at < timedelta(hours=config.chat_ttl_hours)
        missing = [r for chat, r in wanted.items() if chat not in have]
        if missing and young:
            photos = [photo.relative_path for photo in await self.store.reports.photos(report.id)]
            out.extend(self._new_copy(view, config, r, photos, None) for r in missing)
        return out

    def _card(self, view: AlertView, recipient: Recipient, *, has_photo: bool) -> render.Card:
        return render.alert_card(
            view,
            recipient.audience,
            timezone=self.schemes.scheme(recipient.scheme_slug).timezone,
            has_photo=has_photo,
            signer=self.signer,
        )

    def _new_copy(
        self,
        view: AlertView,
        origin: SchemeConfig,
        recipient: Recipient,
        photos: list[str],
        source: MessageRef | None,
    ) -> Delivery:
        """One chat's copy: protected and deleted after the TTL by the stricter scheme's rule."""
        there = self.schemes.scheme(recipient.scheme_slug)
        card = self._card(view, recipient, has_photo=bool(photos))
        key = None
        if source is not None:
            key = f"alert:{source.chat_id}:{source.message_id}:{recipient.chat_id}"
        return Delivery(
            chat_id=recipient.chat_id,
            kind=OutboxKind.ALERT,
            payload={
                "text": card.text,
                "photos": photos,
                "buttons": card.payload_buttons(),
                "protect_content": origin.protect_content or there.protect_content,
                "delete_after_hours": min(origin.chat_ttl_hours, there.chat_ttl_hours),
                "audience": str(recipient.audience),
                "scheme": recipient.scheme_slug,
            },
            dedupe_key=key,
        )

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
        active = await self.store.members.list_by_status(report.scheme_id, MemberStatus.ACTIVE)
        shops = sum(1 for m in active if m.role == Role.MEMBER and m.id != exclude_member)
        neighbours = tuple(
            dict.fromkeys(
                self.schemes.scheme(r.scheme_slug).name
                for r in routed
                if r.audience in (Audience.NEIGHBOUR_GROUP, Audience.NEIGHBOUR_CONTROL_ROOM)
            )
        )
        if self.federation is not None:  # peers on other deployments it went to
            neighbours += tuple(await self.federation.names_sent(report))
        return Submitted(report, routed, shops, neighbours)


def _live_copies(rows: Sequence[OutboxRow]) -> list[OutboxRow]:
    """Alert copies still in (or on their way to) their chat, one per chat, newest kept.

    A copy is gone once its delete has been sent or is due; the TTL delete waits
    its turn, so until then the copy counts as live and is edited.
    """
    now = utcnow()
    gone = {
        int(row.payload["target"])
        for row in rows
        if row.kind == OutboxKind.DELETE
        and (row.state == OutboxState.SENT or row.next_attempt_at <= now)
    }
    live: dict[int, OutboxRow] = {}
    for row in rows:
        if row.kind == OutboxKind.ALERT and row.state != OutboxState.FAILED and row.id not in gone:
            live[row.chat_id] = row
    return list(live.values())


def _originals_taken_down(rows: Sequence[OutboxRow]) -> list[Delivery]:
    """Wrong person, or log only: the member's own message leaves a scheme chat too.

    It is named by its copies' dedupe keys (`alert:<chat>:<message>:<recipient>`); a
    message already taken down (or on its way down) is not asked for again.
    """
    asked = {row.dedupe_key for row in rows if row.kind == OutboxKind.DELETE_MESSAGE}
    out: list[Delivery] = []
    for row in rows:
        parts = (row.dedupe_key or "").split(":")
        if row.kind != OutboxKind.ALERT or len(parts) != 4 or parts[0] != "alert":
            continue
        chat_id, message_id = int(parts[1]), int(parts[2])
        if chat_id >= 0:  # a private chat with the bot: the member's own business
            continue
        delivery = delete_message(chat_id, message_id)
        if delivery.dedupe_key not in asked:
            asked.add(delivery.dedupe_key)
            out.append(delivery)
    return out


def _album_of(rows: Sequence[OutboxRow], copy_id: int) -> list[int]:
    """The further photos sent under a copy, which the worker noted on its TTL delete."""
    for row in rows:
        if row.kind == OutboxKind.DELETE and row.dedupe_key == f"ttl:{copy_id}":
            return [int(extra) for extra in row.payload.get("also") or []]
    return []


def _recipient_of(row: OutboxRow, default_scheme: str) -> Recipient:
    return Recipient(
        str(row.payload.get("scheme", default_scheme)),
        row.chat_id,
        Audience(row.payload.get("audience", Audience.GROUP)),
    )


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
