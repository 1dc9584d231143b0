"""A report keeps what the guided report asks about the people and the incident, field by field.

The number of people, sex, age range, height, build, hair, clothing, distinguishing
marks, a name or alias, the vehicle and its registration, the property taken,
whether the shop holds CCTV and whether the member will give a statement: each its
own column, so the police export can sort and filter on them. `subject_appearance`
(the police's IC codes) is filled only where the scheme turns the ethnicity
descriptor on. `subject_description` stays, as the compact line the cards and the
search read, made from these.

Adding columns does not rebuild the table on SQLite, so the search triggers stay.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TEXT = (
    "subject_sex",
    "subject_age",
    "subject_height",
    "subject_build",
    "subject_hair",
    "subject_appearance",
    "subject_clothing",
    "subject_marks",
    "subject_name",
    "vehicle",
    "vehicle_registration",
    "property_description",
)
_FLAGS = ("cctv_held", "statement_willing")


def upgrade() -> None:
    with op.batch_alter_table("report", recreate="never") as batch:
        batch.add_column(sa.Column("people_count", sa.Integer(), nullable=True))
        for name in _TEXT:
            batch.add_column(sa.Column(name, sa.Text(), nullable=True))
        for name in _FLAGS:
            batch.add_column(sa.Column(name, sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("report", recreate="never") as batch:
        for name in reversed(_FLAGS):
            batch.drop_column(name)
        for name in reversed(_TEXT):
            batch.drop_column(name)
        batch.drop_column("people_count")
