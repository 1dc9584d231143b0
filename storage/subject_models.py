"""The tables of people: subjects, their photos, links to reports, intelligence and notices.

A subject is a person the scheme's members should know: *ID sought* (images and a
description only) or *Known* (named, once a coordinator records how they were
identified). There is no column for religion, health, sexual orientation or any other
special-category data; the one appearance descriptor touching ethnicity is stored
only where the scheme's schemes file turns it on.

A subject's photos are its own rows, naming files in the photo store: a report's
photo row goes with the report at retention, but the subject keeps the picture while
it is in the galleries, and the file goes only when neither holds it.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Index, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from config.vocabulary import (
    AppealOutcome,
    NoticeStage,
    SubjectKind,
    SubjectLinkVia,
    SubjectStatus,
    SuggestionReason,
    SuggestionState,
)
from storage.models import str_enum, utcnow


class Subject(SQLModel, table=True):
    """A person in one scheme's galleries."""

    __tablename__ = "subject"
    # An erased subject's number is never given to another (SQLite would reuse the highest).
    __table_args__ = (
        Index("ix_subject_scheme_id_status", "scheme_id", "status"),
        {"sqlite_autoincrement": True},
    )

    id: int | None = Field(default=None, primary_key=True)
    scheme_id: int = Field(foreign_key="scheme.id")
    kind: SubjectKind = Field(default=SubjectKind.ID_SOUGHT, sa_type=str_enum(SubjectKind))
    status: SubjectStatus = Field(default=SubjectStatus.ACTIVE, sa_type=str_enum(SubjectStatus))
    description: str = Field(default="", sa_type=Text, description="Build, clothing, marks")
    ethnicity_descriptor: str | None = Field(
        default=None, sa_type=Text, description="Only where the scheme's DPIA allows it"
    )
    # Known subjects only, set together by a coordinator: who it is and on what basis.
    name: str | None = Field(default=None, sa_type=Text)
    aliases: list[str] = Field(default_factory=list, sa_type=JSON)
    identification_basis: str | None = Field(default=None, sa_type=Text)
    identified_by_member_id: int | None = Field(
        default=None, foreign_key="member.id", ondelete="SET NULL"
    )
    identified_at: datetime | None = None
    created_by_member_id: int | None = Field(
        default=None, foreign_key="member.id", ondelete="SET NULL"
    )
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow, sa_column_kwargs={"onupdate": utcnow})
    last_seen_at: datetime = Field(
        default_factory=utcnow, description="The newest linked report's time"
    )
    expired_at: datetime | None = None
    merged_into_id: int | None = Field(default=None, foreign_key="subject.id", ondelete="SET NULL")
    asked_at: datetime | None = Field(
        default=None, description="When the members' group was asked who this is"
    )


class SubjectPhoto(SQLModel, table=True):
    """A picture of the subject: a file of the photo store, with its hashes."""

    __tablename__ = "subject_photo"
    __table_args__ = (UniqueConstraint("subject_id", "sha256"),)

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", ondelete="CASCADE", index=True)
    # The report it was taken from; kept as a plain number once retention removes the report.
    report_id: int | None = Field(default=None, foreign_key="report.id", ondelete="SET NULL")
    sha256: str = Field(max_length=64)
    phash: str | None = Field(default=None, max_length=32)
    crop_phashes: list[str] | None = Field(
        default=None, sa_type=JSON, description="storage.photos.crop_hashes, once computed"
    )
    width: int
    height: int
    size: int
    relative_path: str = Field(max_length=255, index=True)
    created_at: datetime = Field(default_factory=utcnow)


class SubjectReport(SQLModel, table=True):
    """A report the subject is in; a report may be linked to several subjects."""

    __tablename__ = "subject_report"
    __table_args__ = (UniqueConstraint("subject_id", "report_id"),)

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", ondelete="CASCADE", index=True)
    report_id: int = Field(foreign_key="report.id", ondelete="CASCADE", index=True)
    via: SubjectLinkVia = Field(sa_type=str_enum(SubjectLinkVia))
    linked_by_member_id: int | None = Field(
        default=None, foreign_key="member.id", ondelete="SET NULL"
    )
    linked_at: datetime = Field(default_factory=utcnow)


class SubjectIntel(SQLModel, table=True):
    """What a member told the coordinators about the subject ("I know who this is").

    Seen by the scheme's coordinators only, with who said it, never by other members.
    """

    __tablename__ = "subject_intel"

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", ondelete="CASCADE", index=True)
    member_id: int | None = Field(default=None, foreign_key="member.id", ondelete="SET NULL")
    text: str = Field(sa_type=Text)
    created_at: datetime = Field(default_factory=utcnow)


class SubjectSuggestion(SQLModel, table=True):
    """ "Possibly Subject #12" for a report, put to the coordinators once, decided by a person."""

    __tablename__ = "subject_suggestion"
    __table_args__ = (UniqueConstraint("subject_id", "report_id"),)

    id: int | None = Field(default=None, primary_key=True)
    subject_id: int = Field(foreign_key="subject.id", ondelete="CASCADE", index=True)
    report_id: int = Field(foreign_key="report.id", ondelete="CASCADE", index=True)
    reason: SuggestionReason = Field(sa_type=str_enum(SuggestionReason))
    distance: int | None = Field(default=None, description="pHash bits apart, for photos")
    words: list[str] = Field(default_factory=list, sa_type=JSON)
    state: SuggestionState = Field(
        default=SuggestionState.PENDING, sa_type=str_enum(SuggestionState)
    )
    decided_by_member_id: int | None = Field(
        default=None, foreign_key="member.id", ondelete="SET NULL"
    )
    created_at: datetime = Field(default_factory=utcnow)
    decided_at: datetime | None = None
    put_at: datetime | None = Field(
        default=None, description="When it was queued to the coordinators' private chats"
    )


class SubjectScan(SQLModel, table=True):
    """That a report was matched against its scheme's subjects, as it stood then.

    One row a report, gone with it: a report whose `updated_at` differs from the one
    seen (descriptors a guided report added later), or with a photo newer than the
    newest seen (one sent once the alert was out), is matched again.
    """

    __tablename__ = "subject_scan"

    report_id: int = Field(foreign_key="report.id", ondelete="CASCADE", primary_key=True)
    seen_updated_at: datetime
    seen_photo_id: int = Field(default=0, description="The newest photo's id matched, or 0")
    scanned_at: datetime = Field(default_factory=utcnow)


class Notice(SQLModel, table=True):
    """A warning or exclusion notice on a Known subject, decided by the scheme."""

    __tablename__ = "notice"

    id: int | None = Field(default=None, primary_key=True)
    scheme_id: int = Field(foreign_key="scheme.id", index=True)
    subject_id: int = Field(foreign_key="subject.id", ondelete="CASCADE", index=True)
    stage: NoticeStage = Field(sa_type=str_enum(NoticeStage))
    decided_by: str = Field(sa_type=Text, description="Who decided: the board, a coordinator")
    board_decision_ref: str | None = Field(default=None, max_length=120)
    premises: list[str] = Field(default_factory=list, sa_type=JSON)
    starts_on: date
    ends_on: date
    review_on: date
    conditions: str = Field(default="", sa_type=Text)
    issued_by_member_id: int | None = Field(
        default=None, foreign_key="member.id", ondelete="SET NULL"
    )
    issued_at: datetime = Field(default_factory=utcnow)
    served_on: date | None = None
    served_how: str | None = Field(default=None, sa_type=Text)
    appeal_received_on: date | None = None
    appeal_text: str | None = Field(default=None, sa_type=Text)
    appeal_outcome: AppealOutcome | None = Field(default=None, sa_type=str_enum(AppealOutcome))
    appeal_decided_on: date | None = None
    appeal_decision_ref: str | None = Field(default=None, max_length=120)
    withdrawn_at: datetime | None = None
    review_reminded_at: datetime | None = None
    expiry_reminded_at: datetime | None = None


class SubjectErasure(SQLModel, table=True):
    """That a subject was erased (a wrong identification), when and by whom: nothing else.

    The subject's number stays here so a later request about it gets a true answer.
    """

    __tablename__ = "subject_erasure"

    id: int | None = Field(default=None, primary_key=True)
    scheme_id: int = Field(foreign_key="scheme.id", index=True)
    subject_id: int = Field(unique=True)
    erased_by_member_id: int | None = Field(
        default=None, foreign_key="member.id", ondelete="SET NULL"
    )
    reason: str = Field(sa_type=Text)
    erased_at: datetime = Field(default_factory=utcnow)
