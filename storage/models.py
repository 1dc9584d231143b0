"""The tables of the log.

Every timestamp is timezone-aware UTC on both databases (SQLModel's `UTCDateTime`
behind each `datetime` field), so nothing downstream has to guess what a naive
value meant. Enums are stored as plain VARCHAR, not database enum types, so a new
value is a code change rather than a migration that differs between SQLite and
PostgreSQL. Telegram ids are BIGINT: supergroup ids do not fit in 32 bits. Text that people
type has no length limit here: PostgreSQL would refuse an over-long VARCHAR where
SQLite would not, and an alert must never fail on one backend only.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Text, UniqueConstraint
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, SQLModel

from config.vocabulary import (
    AuditOutcome,
    Category,
    EventKind,
    HandlingCode,
    IntelligenceAssessment,
    MemberStatus,
    OutboxKind,
    OutboxState,
    ReportSource,
    ReportStatus,
    Role,
    RoleOrigin,
    SourceEvaluation,
    Urgency,
)

# Named constraints let later migrations alter them on SQLite, where batch mode
# rebuilds tables and needs to know every constraint by name.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ENUM_LENGTH = 32


def utcnow() -> datetime:
    return datetime.now(UTC)


def _values(enum_cls: type[StrEnum]) -> list[str]:
    return [member.value for member in enum_cls]


def str_enum(enum_cls: type[StrEnum]) -> SAEnum:
    """A VARCHAR that stores the enum's value and reads back the enum member."""
    return SAEnum(
        enum_cls,
        native_enum=False,
        create_constraint=False,
        length=ENUM_LENGTH,
        values_callable=_values,
        validate_strings=True,
    )


class Scheme(SQLModel, table=True):
    """A town's scheme, mirrored from the schemes file so reports can refer to it."""

    __tablename__ = "scheme"

    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=63, unique=True)
    name: str = Field(max_length=120)
    timezone: str = Field(max_length=64)
    group_chat_id: int = Field(sa_type=BigInteger, index=True)
    control_room_chat_id: int = Field(sa_type=BigInteger, index=True)
    retention_days: int
    chat_ttl_hours: int
    protect_content: bool
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow, sa_column_kwargs={"onupdate": utcnow})


class Member(SQLModel, table=True):
    """A person in one scheme; the same Telegram user may belong to several schemes."""

    __tablename__ = "member"
    __table_args__ = (UniqueConstraint("scheme_id", "telegram_user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    scheme_id: int = Field(foreign_key="scheme.id")
    telegram_user_id: int = Field(sa_type=BigInteger, index=True)
    display_name: str
    username: str | None = None
    shop_name: str | None = None
    street: str | None = None
    role: Role = Field(default=Role.MEMBER, sa_type=str_enum(Role))
    role_origin: RoleOrigin = Field(
        default=RoleOrigin.INVITE,
        sa_type=str_enum(RoleOrigin),
        description="The schemes file or an invite: only the file's roles follow the file",
    )
    status: MemberStatus = Field(default=MemberStatus.PENDING, sa_type=str_enum(MemberStatus))
    agreement_accepted_at: datetime | None = None
    approved_by: int | None = Field(
        default=None, sa_type=BigInteger, description="Telegram user id of the approver"
    )
    approved_at: datetime | None = None
    weekly_digest: bool = Field(
        default=True, description="The Monday digest of the galleries; the member may stop it"
    )
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow, sa_column_kwargs={"onupdate": utcnow})


class Invite(SQLModel, table=True):
    """A one-time joining code; only its hash is kept, so a leaked log leaks no codes."""

    __tablename__ = "invite"

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, unique=True)
    scheme_id: int = Field(foreign_key="scheme.id", index=True)
    role: Role = Field(default=Role.MEMBER, sa_type=str_enum(Role))
    created_by: int = Field(sa_type=BigInteger, description="Telegram user id")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None
    used_by: int | None = Field(default=None, sa_type=BigInteger, description="Telegram user id")


class ChatLink(SQLModel, table=True):
    """A personal join link the bot made for one member and one scheme chat.

    Telegram answers a join request with the link it came by; the bot admits
    only the member the link was made for, so a forwarded link admits nobody else.
    """

    __tablename__ = "chat_link"

    id: int | None = Field(default=None, primary_key=True)
    scheme_id: int = Field(foreign_key="scheme.id")
    member_id: int = Field(foreign_key="member.id", ondelete="CASCADE", index=True)
    chat_id: int = Field(sa_type=BigInteger)
    invite_link: str = Field(max_length=255, unique=True)
    outbox_id: int | None = Field(
        default=None, description="The outbox row that made it, so a retry reuses it"
    )
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    revoked_at: datetime | None = None


class BotRights(SQLModel, table=True):
    """What the bot may do in one scheme chat, as Telegram last said (getChatMember on
    itself at start-up, then every my_chat_member update)."""

    __tablename__ = "bot_rights"

    chat_id: int = Field(
        primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    status: str = Field(max_length=ENUM_LENGTH)
    can_invite_users: bool = False
    can_restrict_members: bool = False
    can_delete_messages: bool = False
    checked_at: datetime = Field(default_factory=utcnow)


class ReportDescriptors(SQLModel):
    """What the guided report asks, field by field, in the order the police export lists
    them: the report's own columns (`Report`) and the answers a draft carries
    (`broadcast.descriptors.Descriptors`), declared once here for both. The compact
    `subject_description` is made from them. No special-category field, ever.
    """

    people_count: int | None = None
    subject_sex: str | None = Field(default=None, sa_type=Text)
    subject_age: str | None = Field(default=None, sa_type=Text)
    subject_height: str | None = Field(default=None, sa_type=Text)
    subject_build: str | None = Field(default=None, sa_type=Text)
    subject_hair: str | None = Field(default=None, sa_type=Text)
    subject_appearance: str | None = Field(
        default=None, sa_type=Text, description="IC code; only where the scheme turns it on"
    )
    subject_clothing: str | None = Field(default=None, sa_type=Text)
    subject_marks: str | None = Field(default=None, sa_type=Text)
    subject_name: str | None = Field(default=None, sa_type=Text)
    vehicle: str | None = Field(default=None, sa_type=Text)
    vehicle_registration: str | None = Field(default=None, sa_type=Text)
    property_description: str | None = Field(default=None, sa_type=Text)
    cctv_held: bool | None = None
    statement_willing: bool | None = None


DESCRIPTOR_COLUMNS = tuple(ReportDescriptors.model_fields)
"""The guided report's structured answers, in the order the police export lists them."""
PERSON_COLUMNS = frozenset(DESCRIPTOR_COLUMNS) - {
    "property_description",
    "cctv_held",
    "statement_willing",
}
"""Those that describe the people: a withdrawn report's export leaves them out."""


class Report(ReportDescriptors, table=True):
    """One sighting or incident: the unit the police receive, graded 3x5x2 in exports.

    Its descriptor columns come from `ReportDescriptors` (migration 0010 added them).
    """

    __tablename__ = "report"
    __table_args__ = (Index("ix_report_scheme_id_created_at", "scheme_id", "created_at"),)

    id: int | None = Field(default=None, primary_key=True)
    scheme_id: int = Field(foreign_key="scheme.id")
    # Null for reports that did not come from a member here: radio calls, neighbours.
    member_id: int | None = Field(
        default=None, foreign_key="member.id", ondelete="SET NULL", index=True
    )
    created_at: datetime = Field(default_factory=utcnow)
    occurred_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow, sa_column_kwargs={"onupdate": utcnow})
    category: Category = Field(sa_type=str_enum(Category))
    urgency: Urgency = Field(sa_type=str_enum(Urgency))
    description: str = Field(sa_type=Text)
    subject_description: str | None = Field(default=None, sa_type=Text)
    # Where it happened, never who reported it: for an alert sent from the reporting
    # shop (`at_premises`) the street alone; the shop's name, as it was then, is kept
    # apart in `premises_shop` for the members' cards and a witness-contact export.
    location_text: str | None = None
    at_premises: bool = False
    premises_shop: str | None = None
    latitude: float | None = None
    longitude: float | None = None
    direction: str | None = None
    value_pence: int | None = None
    police_reference: str | None = None
    status: ReportStatus = Field(default=ReportStatus.OPEN, sa_type=str_enum(ReportStatus))
    source: ReportSource = Field(default=ReportSource.CHAT, sa_type=str_enum(ReportSource))
    origin_scheme: str | None = Field(
        default=None, max_length=63, description="Slug of the scheme a federated report came from"
    )
    source_evaluation: SourceEvaluation | None = Field(
        default=None, sa_type=str_enum(SourceEvaluation)
    )
    intelligence_assessment: IntelligenceAssessment | None = Field(
        default=None, sa_type=str_enum(IntelligenceAssessment)
    )
    handling_code: HandlingCode | None = Field(default=None, sa_type=str_enum(HandlingCode))
    handling_conditions: str | None = Field(default=None, sa_type=Text)


class Photo(SQLModel, table=True):
    """A re-encoded photo on disk; the hashes are the evidence chain and the duplicate check.

    Field names match `storage.photos.StoredPhoto`. The store keeps each picture
    once, so several rows (reports) may share one file.
    """

    __tablename__ = "photo"
    __table_args__ = (UniqueConstraint("report_id", "sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    # Optional only until stored: ReportRepository.create fills it in.
    report_id: int | None = Field(
        default=None, foreign_key="report.id", ondelete="CASCADE", nullable=False
    )
    sha256: str = Field(max_length=64, index=True)
    phash: str | None = Field(default=None, max_length=32)
    width: int
    height: int
    size: int = Field(description="Bytes of the stored JPEG")
    relative_path: str = Field(max_length=255, description="Inside the photo store")
    created_at: datetime = Field(default_factory=utcnow)


class ReportEvent(SQLModel, table=True):
    """What happened to a report after it was made: status calls, notes, radio traffic."""

    __tablename__ = "event"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", ondelete="CASCADE", index=True)
    member_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    kind: EventKind = Field(sa_type=str_enum(EventKind))
    status: str | None = Field(default=None, max_length=ENUM_LENGTH)
    text: str | None = Field(default=None, sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow)


class OutboxRow(SQLModel, table=True):
    """One message to one chat, stored before it is sent so no alert is lost on a restart."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_state_next_attempt_at", "state", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    scheme_id: int = Field(foreign_key="scheme.id")
    report_id: int | None = Field(
        default=None, foreign_key="report.id", ondelete="CASCADE", index=True
    )
    chat_id: int = Field(sa_type=BigInteger)
    kind: OutboxKind = Field(sa_type=str_enum(OutboxKind))
    payload: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    # Null means "never deduplicated"; unique keys make a retried enqueue harmless.
    dedupe_key: str | None = Field(default=None, max_length=200, unique=True)
    state: OutboxState = Field(default=OutboxState.PENDING, sa_type=str_enum(OutboxState))
    attempts: int = 0
    priority: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    # Higher goes first (storage.outbox.priority_of): the member's chat, then control rooms.
    next_attempt_at: datetime = Field(default_factory=utcnow)
    last_error: str | None = Field(default=None, sa_type=Text)
    telegram_message_id: int | None = Field(default=None, sa_type=BigInteger)
    sent_at: datetime | None = None
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_until: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)


class AuditEntry(SQLModel, table=True):
    """Who searched, viewed, exported or changed what, including what they were refused."""

    __tablename__ = "audit"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    # Null for the bot's own scheduled work (retention, weekly export).
    actor_telegram_id: int | None = Field(default=None, sa_type=BigInteger, index=True)
    actor_member_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    scheme_id: int | None = Field(default=None, foreign_key="scheme.id", index=True)
    action: str = Field(max_length=64)
    outcome: AuditOutcome = Field(sa_type=str_enum(AuditOutcome))
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class ConversationState(SQLModel, table=True):
    """Where one person stands in one guided conversation, so a restart does not lose their place.

    `key` is the conversation's key as a JSON array (chat id, user id): keys are
    compared as text, which both databases index the same way.
    """

    __tablename__ = "conversation"

    name: str = Field(primary_key=True, max_length=64)
    key: str = Field(primary_key=True, max_length=255)
    state: Any = Field(sa_type=JSON)
    updated_at: datetime = Field(default_factory=utcnow)


class UserData(SQLModel, table=True):
    """A person's scratch space between messages (a report being written), as JSON.

    Only what a conversation needs until it ends belongs here; anything lasting
    belongs in the log proper.
    """

    __tablename__ = "user_data"

    telegram_user_id: int = Field(
        primary_key=True, sa_type=BigInteger, sa_column_kwargs={"autoincrement": False}
    )
    data: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)
    updated_at: datetime = Field(default_factory=utcnow)
