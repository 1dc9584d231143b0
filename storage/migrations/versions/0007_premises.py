"""Where it happened and who reported it are kept apart.

A member's alert with no place of its own used to store `location_text =
"<shop>, <street>"`, which put the reporting shop's name into everything the
police see. Now `location_text` holds the street only, `at_premises` says the
place is the reporting shop's premises, and `premises_shop` keeps the shop's
name as it was when the report was made (for the members' cards and a
witness-contact export), so a member who later changes shop, or leaves and
rejoins, does not rewrite their old reports.

Existing reports whose place is exactly their member's "<shop>, <street>" (or
the shop alone) are split the same way. Adding columns does not rebuild the
table on SQLite, so the search triggers stay as they are; the update re-indexes
the split reports' words.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SPLIT = """
    UPDATE report SET
        at_premises = :yes,
        premises_shop = (SELECT member.shop_name FROM member WHERE member.id = report.member_id),
        location_text = (SELECT member.street FROM member WHERE member.id = report.member_id)
    WHERE report.member_id IS NOT NULL AND report.latitude IS NULL AND EXISTS (
        SELECT 1 FROM member WHERE member.id = report.member_id
        AND member.shop_name IS NOT NULL
        AND (report.location_text = member.shop_name || ', ' || member.street
             OR (member.street IS NULL AND report.location_text = member.shop_name))
    )
"""


def upgrade() -> None:
    with op.batch_alter_table("report", recreate="never") as batch:
        batch.add_column(
            sa.Column("at_premises", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("premises_shop", sa.String(), nullable=True))
    op.get_bind().execute(sa.text(_SPLIT), {"yes": True})


def downgrade() -> None:
    op.get_bind().execute(
        sa.text(
            "UPDATE report SET location_text = CASE WHEN location_text IS NULL "
            "THEN premises_shop ELSE premises_shop || ', ' || location_text END "
            "WHERE at_premises AND premises_shop IS NOT NULL"
        )
    )
    with op.batch_alter_table("report", recreate="never") as batch:
        batch.drop_column("premises_shop")
        batch.drop_column("at_premises")
