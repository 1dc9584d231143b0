"""A subject's photo keeps the perceptual hashes of its usual crops, so a cropped copy of
it in a new report is still suggested as that subject.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("subject_photo", schema=None) as batch_op:
        batch_op.add_column(sa.Column("crop_phashes", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subject_photo", schema=None) as batch_op:
        batch_op.drop_column("crop_phashes")
