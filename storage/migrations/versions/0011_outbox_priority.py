"""Outbox rows carry a priority: the member's own answers first, then the control rooms.

At the token's limit the member's confirmation and the control room's copy must not
wait behind a backlog of group and neighbour copies; the claim takes chats with a
higher priority first (`storage.outbox.priority_of`). Existing rows keep 0, as
group copies have.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", recreate="never") as batch:
        batch.add_column(sa.Column("priority", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("outbox") as batch:
        batch.drop_column("priority")
