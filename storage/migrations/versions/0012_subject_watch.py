"""The coordinators hear of suggestions and the members' group is asked who a new face is:
what was matched, put and asked is recorded, so a restart neither loses nor repeats it.

`subject_scan` holds one row a report matched against its scheme's subjects;
`subject_suggestion.put_at` says a suggestion was queued to the coordinators and
`subject.asked_at` that the members' group was asked "Do you know this person?".
What the log holds at the upgrade counts as done: the first run after it neither
matches the whole history nor puts old suggestions and faces to anyone.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "subject_scan",
        sa.Column("report_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seen_updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_photo_id", sa.Integer(), nullable=False),
        sa.Column("scanned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["report.id"],
            name=op.f("fk_subject_scan_report_id_report"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_subject_scan")),
    )
    with op.batch_alter_table("subject_suggestion", recreate="never") as batch:
        batch.add_column(sa.Column("put_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("subject", recreate="never") as batch:
        batch.add_column(sa.Column("asked_at", sa.DateTime(timezone=True), nullable=True))
    op.execute(
        "INSERT INTO subject_scan (report_id, seen_updated_at, seen_photo_id, scanned_at) "
        "SELECT id, updated_at, COALESCE((SELECT MAX(photo.id) FROM photo "
        "WHERE photo.report_id = report.id), 0), updated_at FROM report"
    )
    op.execute("UPDATE subject_suggestion SET put_at = created_at")
    op.execute("UPDATE subject SET asked_at = created_at")


def downgrade() -> None:
    with op.batch_alter_table("subject") as batch:
        batch.drop_column("asked_at")
    with op.batch_alter_table("subject_suggestion") as batch:
        batch.drop_column("put_at")
    op.drop_table("subject_scan")
