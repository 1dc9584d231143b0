"""The search reads a report's structured descriptors too, and the log already kept is reindexed.

Migration 0003's triggers index a report's description, person line, place,
direction and police reference. The guided report's own columns (migration 0010)
hold words the person line does not: what was taken (`property_description`), and
the typed hair, clothing, marks, name and vehicle as the member wrote them. Those
join the report's words here, with the registration also without its space, so
"AB12CDE" finds a plate written "AB12 CDE". Coded answers (sex, age range, height,
build, IC code) are already in the person line in words, and are left out.

SQLite's two report triggers are created again with the new words; PostgreSQL's
trigger function is replaced. Every report's words are then written again, which
the 0003 triggers carry into FTS5 and the tsvector. The words are spelt out here, not
imported, so this migration says forever what it did. A later migration that
rebuilds `report` on SQLite recreates the report triggers as written here, not 0003's.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_DOCUMENT_COLUMNS = (
    "report_id, scheme_id, member_id, occurred_at, category, status, police_reference, "
    "has_photo, report_text, event_text"
)
_BEFORE = (
    "description",
    "subject_description",
    "location_text",
    "direction",
    "police_reference",
)
"""The report's words as 0003 indexed them."""
_DESCRIPTORS = (
    "subject_hair",
    "subject_clothing",
    "subject_marks",
    "subject_name",
    "vehicle",
    "vehicle_registration",
    "property_description",
)


def _words(row: str, *, descriptors: bool) -> str:
    """The words of a report; the same expression on both databases."""
    parts = [f"{row}.description"]
    parts += [f"coalesce({row}.{name}, '')" for name in _BEFORE[1:]]
    if descriptors:
        parts += [f"coalesce({row}.{name}, '')" for name in _DESCRIPTORS]
        parts.append(f"replace(coalesce({row}.vehicle_registration, ''), ' ', '')")
    return " || ' ' || ".join(parts)


def _sqlite_triggers(descriptors: bool) -> None:
    op.execute("DROP TRIGGER IF EXISTS search_report_insert")
    op.execute("DROP TRIGGER IF EXISTS search_report_update")
    new = _words("NEW", descriptors=descriptors)
    op.execute(
        f"""
        CREATE TRIGGER search_report_insert AFTER INSERT ON report BEGIN
            INSERT INTO search_document ({_DOCUMENT_COLUMNS})
            VALUES (NEW.id, NEW.scheme_id, NEW.member_id, NEW.occurred_at, NEW.category,
                    NEW.status, upper(NEW.police_reference), 0, {new}, '');
        END"""
    )
    op.execute(
        f"""
        CREATE TRIGGER search_report_update AFTER UPDATE ON report BEGIN
            UPDATE search_document SET
                report_id = NEW.id, scheme_id = NEW.scheme_id, member_id = NEW.member_id,
                occurred_at = NEW.occurred_at, category = NEW.category, status = NEW.status,
                police_reference = upper(NEW.police_reference),
                report_text = {new}
            WHERE report_id = OLD.id;
        END"""
    )
    op.execute(
        f"""
        UPDATE search_document SET report_text = (
            SELECT {_words("report", descriptors=descriptors)} FROM report
            WHERE report.id = search_document.report_id
        )"""
    )


def _postgresql_function(descriptors: bool) -> None:
    op.execute(
        f"""
        CREATE OR REPLACE FUNCTION search_report_changed() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO search_document ({_DOCUMENT_COLUMNS})
            VALUES (NEW.id, NEW.scheme_id, NEW.member_id, NEW.occurred_at, NEW.category,
                    NEW.status, upper(NEW.police_reference), false,
                    {_words("NEW", descriptors=descriptors)}, '')
            ON CONFLICT (report_id) DO UPDATE SET
                scheme_id = EXCLUDED.scheme_id, member_id = EXCLUDED.member_id,
                occurred_at = EXCLUDED.occurred_at, category = EXCLUDED.category,
                status = EXCLUDED.status, police_reference = EXCLUDED.police_reference,
                report_text = EXCLUDED.report_text;
            RETURN NULL;
        END $$"""
    )
    op.execute(
        f"""
        UPDATE search_document SET report_text = {_words("report", descriptors=descriptors)}
        FROM report WHERE report.id = search_document.report_id"""
    )


def _rebuild(descriptors: bool) -> None:
    if op.get_bind().dialect.name == "sqlite":
        _sqlite_triggers(descriptors)
    else:
        _postgresql_function(descriptors)


def upgrade() -> None:
    _rebuild(descriptors=True)


def downgrade() -> None:
    _rebuild(descriptors=False)
