"""The bot guards the scheme's chats: where a coordinator's role came from, the personal
join links it makes, and the rights it holds in each chat.

`member.role_origin` is `file` for a coordinator or administrator the schemes file
made (no approver recorded) and `invite` for everyone else; start-up demotes a
`file` coordinator the file no longer lists.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("member") as batch:
        batch.add_column(
            sa.Column("role_origin", sa.String(length=32), nullable=False, server_default="invite")
        )
    op.execute(
        "UPDATE member SET role_origin = 'file' "
        "WHERE role IN ('coordinator', 'admin') AND approved_by IS NULL"
    )
    op.create_table(
        "chat_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("invite_link", sa.String(length=255), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["scheme_id"], ["scheme.id"], name="fk_chat_link_scheme_id_scheme"
        ),
        sa.ForeignKeyConstraint(
            ["member_id"],
            ["member.id"],
            name="fk_chat_link_member_id_member",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_chat_link"),
        sa.UniqueConstraint("invite_link", name="uq_chat_link_invite_link"),
    )
    op.create_index("ix_chat_link_member_id", "chat_link", ["member_id"])
    op.create_table(
        "bot_rights",
        sa.Column("chat_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("can_invite_users", sa.Boolean(), nullable=False),
        sa.Column("can_restrict_members", sa.Boolean(), nullable=False),
        sa.Column("can_delete_messages", sa.Boolean(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", name="pk_bot_rights"),
    )


def downgrade() -> None:
    op.drop_table("bot_rights")
    op.drop_index("ix_chat_link_member_id", table_name="chat_link")
    op.drop_table("chat_link")
    with op.batch_alter_table("member") as batch:
        batch.drop_column("role_origin")
