"""Members get a weekly digest of the galleries unless they turn it off.

`member.weekly_digest` is true for everyone at first, as the digest is part of
what a scheme's members are told each week; a member may stop it.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("member", recreate="never") as batch:
        batch.add_column(
            sa.Column("weekly_digest", sa.Boolean(), nullable=False, server_default=sa.true())
        )


def downgrade() -> None:
    with op.batch_alter_table("member") as batch:
        batch.drop_column("weekly_digest")
