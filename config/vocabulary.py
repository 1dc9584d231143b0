"""The words the log stores and the schemes file shares: one leaf module, so every layer
can name them and none imports another to do it.

They are stored as plain strings, so adding a value needs no schema change. A report
event's `status` holds an `OperatorStatus` (the control room's call, shown on every copy
and sent back to the town an alert came from) or a `ReportChange` (what the member or an
operator did to the report itself).
"""

from __future__ import annotations

from enum import StrEnum


class Category(StrEnum):
    """What happened; the slugs are shared by the schemes file, the log and exports."""

    THEFT = "theft"
    SUSPICIOUS = "suspicious"
    VIOLENCE = "violence"
    ASB = "asb"
    FRAUD = "fraud"
    DAMAGE = "damage"
    OTHER = "other"


class Urgency(StrEnum):
    """`now` is a live alert that is broadcast; `log` is after the fact and only stored."""

    NOW = "now"
    LOG = "log"


class Role(StrEnum):
    """What a member may do in a scheme; handlers authorise on this, never on chat titles."""

    MEMBER = "member"
    OPERATOR = "operator"
    COORDINATOR = "coordinator"
    POLICE = "police"
    ADMIN = "admin"


EVERY_ROLE: frozenset[Role] = frozenset(Role)
REPORTERS: frozenset[Role] = frozenset({Role.MEMBER, Role.OPERATOR, Role.COORDINATOR, Role.ADMIN})
"""Who sends alerts and reports: the shops, the control room and the scheme's staff. The
police read the log; what they know reaches it through the control room."""
READERS: frozenset[Role] = REPORTERS | {Role.POLICE}
"""Who may search the log and open a report (each sees what their role allows)."""
CONTROL_ROOM: frozenset[Role] = frozenset({Role.OPERATOR, Role.COORDINATOR, Role.ADMIN})
"""Who sits in a scheme's control room and makes the calls on an alert."""
MANAGERS: frozenset[Role] = frozenset({Role.COORDINATOR, Role.ADMIN})
"""Who runs a scheme: members, subjects, notices, gradings."""


class RoleOrigin(StrEnum):
    """Where a coordinator's (or administrator's) role came from: the schemes file, which
    start-up follows both ways, or an invite, which only a person's decision undoes."""

    FILE = "file"
    INVITE = "invite"


class MemberStatus(StrEnum):
    """Only `active` members may send or receive alerts; the others are kept for the record."""

    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    REMOVED = "removed"


class ReportStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"


class ReportSource(StrEnum):
    """How a report reached the log, which exports state for the evidence chain."""

    CHAT = "chat"
    RADIO = "radio"
    FEDERATION = "federation"
    BAN = "ban"
    UNBAN = "unban"
    JOIN_LINK = "join_link"
    JOIN_ANSWER = "join_answer"
    DELETE_MESSAGE = "delete_message"


class EventKind(StrEnum):
    STATUS = "status"
    NOTE = "note"
    UPDATE = "update"
    RADIO_CALL = "radio_call"


class OutboxKind(StrEnum):
    ALERT = "alert"
    EDIT = "edit"
    DELETE = "delete"
    DOCUMENT = "document"
    MESSAGE = "message"
    VOICE = "voice"
    RADIO = "radio"
    FEDERATION = "federation"
    BAN = "ban"
    UNBAN = "unban"
    JOIN_LINK = "join_link"
    JOIN_ANSWER = "join_answer"
    DELETE_MESSAGE = "delete_message"


class OutboxState(StrEnum):
    """`sending` is a leased claim: a worker that dies mid-send loses its lease, not the row."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class AuditOutcome(StrEnum):
    ALLOWED = "allowed"
    REFUSED = "refused"


class SourceEvaluation(StrEnum):
    """3x5x2 grading, first part: how far the source can be relied on."""

    RELIABLE = "1"
    UNTESTED = "2"
    NOT_RELIABLE = "3"


class IntelligenceAssessment(StrEnum):
    """3x5x2 grading, second part: how the source came to know it."""

    KNOWN_DIRECTLY = "A"
    KNOWN_INDIRECTLY_CORROBORATED = "B"
    KNOWN_INDIRECTLY = "C"
    NOT_KNOWN = "D"
    SUSPECTED_FALSE = "E"


class HandlingCode(StrEnum):
    """3x5x2 grading, last part: whether the police may pass it on freely."""

    LAWFUL_SHARING_PERMITTED = "P"
    CONDITIONS_APPLY = "C"


class SubjectKind(StrEnum):
    """A person in the galleries: unidentified (images and descriptors only) or named."""

    ID_SOUGHT = "id_sought"
    KNOWN = "known"


class SubjectStatus(StrEnum):
    """`active` subjects are in the galleries; `expired` and `merged` ones are kept for the
    record until retention; an erased subject leaves no row, only its erasure record."""

    ACTIVE = "active"
    EXPIRED = "expired"
    MERGED = "merged"


class SubjectLinkVia(StrEnum):
    """How a report came to be linked to a subject."""

    CREATED = "created"
    LINKED = "linked"
    SUGGESTION = "suggestion"
    MERGED = "merged"


class SuggestionReason(StrEnum):
    PHOTO = "photo"
    WORDS = "words"


class SuggestionState(StrEnum):
    PENDING = "pending"
    LINKED = "linked"
    DISMISSED = "dismissed"


class NoticeStage(StrEnum):
    """A warning comes first; an exclusion bars the person from the premises listed."""

    WARNING = "warning"
    EXCLUSION = "exclusion"


class AppealOutcome(StrEnum):
    UPHELD = "upheld"
    """The notice stands."""
    VARIED = "varied"
    """The notice stands with a new end date."""
    OVERTURNED = "overturned"
    """The notice is withdrawn."""


class OperatorStatus(StrEnum):
    """What the control room reports back; stored as a status event, shown on every copy."""

    ACKNOWLEDGED = "acknowledged"
    ON_CAMERA = "on_camera"
    POLICE_INFORMED = "police_informed"
    LOST = "lost"
    DETAINED = "detained"
    CLOSED = "closed"


class ReportChange(StrEnum):
    """A change to the report itself, stored as the `status` of its event."""

    STOOD_DOWN = "stood_down"
    WITHDRAWN = "withdrawn"
    RECLASSIFIED = "reclassified"
    LOCATED = "located"
    POLICE_REFERENCE = "police_reference"
    DESCRIBED = "described"
    """The member's further answers to a guided report already sent."""
    PHOTO_ADDED = "photo_added"
    """A photo the member sent for a live alert already out: shown under every copy."""
    ESCALATED = "escalated"
    """No operator had answered the live alert in time: it was raised again, once."""


OPERATOR_STATUSES = frozenset(str(status) for status in OperatorStatus)
"""The control room's calls as stored: the only events a receiving town sends back."""
ENDING_CALLS = frozenset({OperatorStatus.DETAINED.value, OperatorStatus.CLOSED.value})
"""The control room's calls that end an alert: the report is closed with them."""
