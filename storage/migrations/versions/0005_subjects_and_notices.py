"""People, not just incidents: subjects (ID sought / Known) with their photos, linked
reports, members' intelligence and match suggestions; exclusion notices; erasure records.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "subject",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("ethnicity_descriptor", sa.Text(), nullable=True),
        sa.Column("name", sa.Text(), nullable=True),
        sa.Column("aliases", sa.JSON(), nullable=False),
        sa.Column("identification_basis", sa.Text(), nullable=True),
        sa.Column("identified_by_member_id", sa.Integer(), nullable=True),
        sa.Column("identified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_member_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expired_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_member_id"],
            ["member.id"],
            name=op.f("fk_subject_created_by_member_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["identified_by_member_id"],
            ["member.id"],
            name=op.f("fk_subject_identified_by_member_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["merged_into_id"],
            ["subject.id"],
            name=op.f("fk_subject_merged_into_id_subject"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["scheme_id"], ["scheme.id"], name=op.f("fk_subject_scheme_id_scheme")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("subject", schema=None) as batch_op:
        batch_op.create_index("ix_subject_scheme_id_status", ["scheme_id", "status"], unique=False)

    op.create_table(
        "subject_erasure",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("erased_by_member_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["erased_by_member_id"],
            ["member.id"],
            name=op.f("fk_subject_erasure_erased_by_member_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["scheme_id"], ["scheme.id"], name=op.f("fk_subject_erasure_scheme_id_scheme")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_erasure")),
        sa.UniqueConstraint("subject_id", name=op.f("uq_subject_erasure_subject_id")),
    )
    with op.batch_alter_table("subject_erasure", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subject_erasure_scheme_id"), ["scheme_id"], unique=False
        )

    op.create_table(
        "notice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("decided_by", sa.Text(), nullable=False),
        sa.Column("board_decision_ref", sa.String(length=120), nullable=True),
        sa.Column("premises", sa.JSON(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("review_on", sa.Date(), nullable=False),
        sa.Column("conditions", sa.Text(), nullable=False),
        sa.Column("issued_by_member_id", sa.Integer(), nullable=True),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("served_on", sa.Date(), nullable=True),
        sa.Column("served_how", sa.Text(), nullable=True),
        sa.Column("appeal_received_on", sa.Date(), nullable=True),
        sa.Column("appeal_text", sa.Text(), nullable=True),
        sa.Column("appeal_outcome", sa.String(length=32), nullable=True),
        sa.Column("appeal_decided_on", sa.Date(), nullable=True),
        sa.Column("appeal_decision_ref", sa.String(length=120), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("expiry_reminded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["issued_by_member_id"],
            ["member.id"],
            name=op.f("fk_notice_issued_by_member_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["scheme_id"], ["scheme.id"], name=op.f("fk_notice_scheme_id_scheme")
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subject.id"],
            name=op.f("fk_notice_subject_id_subject"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notice")),
    )
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_notice_scheme_id"), ["scheme_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_notice_subject_id"), ["subject_id"], unique=False)

    op.create_table(
        "subject_intel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name=op.f("fk_subject_intel_member_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subject.id"],
            name=op.f("fk_subject_intel_subject_id_subject"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_intel")),
    )
    with op.batch_alter_table("subject_intel", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subject_intel_subject_id"), ["subject_id"], unique=False
        )

    op.create_table(
        "subject_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("phash", sa.String(length=32), nullable=True),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("relative_path", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["report.id"],
            name=op.f("fk_subject_photo_report_id_report"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subject.id"],
            name=op.f("fk_subject_photo_subject_id_subject"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_photo")),
        sa.UniqueConstraint(
            "subject_id", "sha256", name=op.f("uq_subject_photo_subject_id_sha256")
        ),
    )
    with op.batch_alter_table("subject_photo", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subject_photo_relative_path"), ["relative_path"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_subject_photo_subject_id"), ["subject_id"], unique=False
        )

    op.create_table(
        "subject_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("via", sa.String(length=32), nullable=False),
        sa.Column("linked_by_member_id", sa.Integer(), nullable=True),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["linked_by_member_id"],
            ["member.id"],
            name=op.f("fk_subject_report_linked_by_member_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["report.id"],
            name=op.f("fk_subject_report_report_id_report"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subject.id"],
            name=op.f("fk_subject_report_subject_id_subject"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_report")),
        sa.UniqueConstraint(
            "subject_id", "report_id", name=op.f("uq_subject_report_subject_id_report_id")
        ),
    )
    with op.batch_alter_table("subject_report", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subject_report_report_id"), ["report_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_subject_report_subject_id"), ["subject_id"], unique=False
        )

    op.create_table(
        "subject_suggestion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=32), nullable=False),
        sa.Column("distance", sa.Integer(), nullable=True),
        sa.Column("words", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("decided_by_member_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by_member_id"],
            ["member.id"],
            name=op.f("fk_subject_suggestion_decided_by_member_id_member"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["report.id"],
            name=op.f("fk_subject_suggestion_report_id_report"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subject_id"],
            ["subject.id"],
            name=op.f("fk_subject_suggestion_subject_id_subject"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_suggestion")),
        sa.UniqueConstraint(
            "subject_id", "report_id", name=op.f("uq_subject_suggestion_subject_id_report_id")
        ),
    )
    with op.batch_alter_table("subject_suggestion", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_subject_suggestion_report_id"), ["report_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_subject_suggestion_subject_id"), ["subject_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("subject_suggestion", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_suggestion_subject_id"))
        batch_op.drop_index(batch_op.f("ix_subject_suggestion_report_id"))

    op.drop_table("subject_suggestion")
    with op.batch_alter_table("subject_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_report_subject_id"))
        batch_op.drop_index(batch_op.f("ix_subject_report_report_id"))

    op.drop_table("subject_report")
    with op.batch_alter_table("subject_photo", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_photo_subject_id"))
        batch_op.drop_index(batch_op.f("ix_subject_photo_relative_path"))

    op.drop_table("subject_photo")
    with op.batch_alter_table("subject_intel", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_intel_subject_id"))

    op.drop_table("subject_intel")
    with op.batch_alter_table("notice", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notice_subject_id"))
        batch_op.drop_index(batch_op.f("ix_notice_scheme_id"))

    op.drop_table("notice")
    with op.batch_alter_table("subject_erasure", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subject_erasure_scheme_id"))

    op.drop_table("subject_erasure")
    with op.batch_alter_table("subject", schema=None) as batch_op:
        batch_op.drop_index("ix_subject_scheme_id_status")

    op.drop_table("subject")
