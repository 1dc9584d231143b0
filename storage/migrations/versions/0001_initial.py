"""The log's first tables: schemes, members, invites, reports with photos and events,
the outbox and the audit trail.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _timestamp(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _enum(name: str, *, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, sa.String(length=32), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "scheme",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slug", sa.String(length=63), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("group_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("control_room_chat_id", sa.BigInteger(), nullable=False),
        sa.Column("retention_days", sa.Integer(), nullable=False),
        sa.Column("chat_ttl_hours", sa.Integer(), nullable=False),
        sa.Column("protect_content", sa.Boolean(), nullable=False),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.PrimaryKeyConstraint("id", name="pk_scheme"),
        sa.UniqueConstraint("slug", name="uq_scheme_slug"),
    )
    op.create_index("ix_scheme_group_chat_id", "scheme", ["group_chat_id"])
    op.create_index("ix_scheme_control_room_chat_id", "scheme", ["control_room_chat_id"])

    op.create_table(
        "member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        sa.Column("telegram_user_id", sa.BigInteger(), nullable=False),
        sa.Column("display_name", sa.String(), nullable=False),
        sa.Column("username", sa.String(), nullable=True),
        sa.Column("shop_name", sa.String(), nullable=True),
        sa.Column("street", sa.String(), nullable=True),
        _enum("role"),
        _enum("status"),
        _timestamp("agreement_accepted_at", nullable=True),
        sa.Column("approved_by", sa.BigInteger(), nullable=True),
        _timestamp("approved_at", nullable=True),
        _timestamp("created_at"),
        _timestamp("updated_at"),
        sa.ForeignKeyConstraint(["scheme_id"], ["scheme.id"], name="fk_member_scheme_id_scheme"),
        sa.PrimaryKeyConstraint("id", name="pk_member"),
        sa.UniqueConstraint(
            "scheme_id", "telegram_user_id", name="uq_member_scheme_id_telegram_user_id"
        ),
    )
    op.create_index("ix_member_telegram_user_id", "member", ["telegram_user_id"])

    op.create_table(
        "invite",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        _enum("role"),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        _timestamp("created_at"),
        _timestamp("expires_at"),
        _timestamp("used_at", nullable=True),
        sa.Column("used_by", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(["scheme_id"], ["scheme.id"], name="fk_invite_scheme_id_scheme"),
        sa.PrimaryKeyConstraint("id", name="pk_invite"),
        sa.UniqueConstraint("code_hash", name="uq_invite_code_hash"),
    )
    op.create_index("ix_invite_scheme_id", "invite", ["scheme_id"])

    op.create_table(
        "report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        _timestamp("created_at"),
        _timestamp("occurred_at"),
        _timestamp("updated_at"),
        _enum("category"),
        _enum("urgency"),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("subject_description", sa.Text(), nullable=True),
        sa.Column("location_text", sa.String(), nullable=True),
        sa.Column("latitude", sa.Float(), nullable=True),
        sa.Column("longitude", sa.Float(), nullable=True),
        sa.Column("direction", sa.String(), nullable=True),
        sa.Column("value_pence", sa.Integer(), nullable=True),
        sa.Column("police_reference", sa.String(), nullable=True),
        _enum("status"),
        _enum("source"),
        sa.Column("origin_scheme", sa.String(length=63), nullable=True),
        _enum("source_evaluation", nullable=True),
        _enum("intelligence_assessment", nullable=True),
        _enum("handling_code", nullable=True),
        sa.Column("handling_conditions", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["scheme_id"], ["scheme.id"], name="fk_report_scheme_id_scheme"),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name="fk_report_member_id_member", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_report"),
    )
    op.create_index("ix_report_scheme_id_created_at", "report", ["scheme_id", "created_at"])
    op.create_index("ix_report_member_id", "report", ["member_id"])

    op.create_table(
        "photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("phash", sa.String(length=32), nullable=True),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("relative_path", sa.String(length=255), nullable=False),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name="fk_photo_report_id_report", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_photo"),
        sa.UniqueConstraint("report_id", "sha256", name="uq_photo_report_id_sha256"),
    )
    op.create_index("ix_photo_sha256", "photo", ["sha256"])

    op.create_table(
        "event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=True),
        _enum("kind"),
        sa.Column("status", sa.String(length=32), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name="fk_event_report_id_report", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name="fk_event_member_id_member", ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_event"),
    )
    op.create_index("ix_event_report_id", "event", ["report_id"])

    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        _enum("kind"),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=True),
        _enum("state"),
        sa.Column("attempts", sa.Integer(), nullable=False),
        _timestamp("next_attempt_at"),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("telegram_message_id", sa.BigInteger(), nullable=True),
        _timestamp("sent_at", nullable=True),
        sa.Column("claimed_by", sa.String(length=64), nullable=True),
        _timestamp("claimed_until", nullable=True),
        _timestamp("created_at"),
        sa.ForeignKeyConstraint(["scheme_id"], ["scheme.id"], name="fk_outbox_scheme_id_scheme"),
        sa.ForeignKeyConstraint(
            ["report_id"], ["report.id"], name="fk_outbox_report_id_report", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
        sa.UniqueConstraint("dedupe_key", name="uq_outbox_dedupe_key"),
    )
    op.create_index("ix_outbox_state_next_attempt_at", "outbox", ["state", "next_attempt_at"])
    op.create_index("ix_outbox_report_id", "outbox", ["report_id"])

    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), nullable=False),
        _timestamp("at"),
        sa.Column("actor_telegram_id", sa.BigInteger(), nullable=True),
        sa.Column("actor_member_id", sa.Integer(), nullable=True),
        sa.Column("scheme_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        _enum("outcome"),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_member_id"],
            ["member.id"],
            name="fk_audit_actor_member_id_member",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(["scheme_id"], ["scheme.id"], name="fk_audit_scheme_id_scheme"),
        sa.PrimaryKeyConstraint("id", name="pk_audit"),
    )
    op.create_index("ix_audit_at", "audit", ["at"])
    op.create_index("ix_audit_actor_telegram_id", "audit", ["actor_telegram_id"])
    op.create_index("ix_audit_scheme_id", "audit", ["scheme_id"])


def downgrade() -> None:
    for table in ("audit", "outbox", "event", "photo", "report", "invite", "member", "scheme"):
        op.drop_table(table)
