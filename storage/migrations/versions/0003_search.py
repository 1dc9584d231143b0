"""The searchable log: one search document per report, kept in step by triggers.

`search_document` holds what a search filters on (scheme, member, when, category,
status, police reference, whether there is a photo) and the words it matches
(the report's own text and every event's). Triggers on report, event and photo
keep it in step whoever writes, so no code path can leave a report unsearchable.
SQLite indexes the words with an FTS5 table over the document; PostgreSQL with a
tsvector column and a GIN index. Both cut words the same way: runs of letters and
decimal digits, lower-cased (`storage.query.words_of` does the same to a query).

These tables are not models: `storage.migrate.include_name` keeps autogenerate
from proposing to drop them.

On SQLite, a later migration that rebuilds `report`, `event` or `photo` in batch
mode drops their triggers with the old table: it must create them again
(tests/test_search_index.py checks they are all there at head).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from alembic import op
from sqlalchemy import text

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

logger = logging.getLogger("alembic.runtime.migration")

_DOCUMENT_COLUMNS = (
    "report_id, scheme_id, member_id, occurred_at, category, status, police_reference, "
    "has_photo, report_text, event_text"
)


def _report_text(row: str) -> str:
    """The words of a report itself; the same expression on both databases."""
    return (
        f"{row}.description || ' ' || coalesce({row}.subject_description, '') || ' ' || "
        f"coalesce({row}.location_text, '') || ' ' || coalesce({row}.direction, '') || ' ' || "
        f"coalesce({row}.police_reference, '')"
    )


# --- SQLite -----------------------------------------------------------------------------

_SQLITE_EVENTS = (
    "(SELECT coalesce(group_concat(event.text, ' '), '') FROM event "
    "WHERE event.report_id = {id} AND event.text IS NOT NULL)"
)
_SQLITE_PHOTO = "EXISTS (SELECT 1 FROM photo WHERE photo.report_id = {id})"

SQLITE_TRIGGERS = {
    "search_report_insert": f"""
        CREATE TRIGGER search_report_insert AFTER INSERT ON report BEGIN
            INSERT INTO search_document ({_DOCUMENT_COLUMNS})
            VALUES (NEW.id, NEW.scheme_id, NEW.member_id, NEW.occurred_at, NEW.category,
                    NEW.status, upper(NEW.police_reference), 0, {_report_text("NEW")}, '');
        END""",
    "search_report_update": f"""
        CREATE TRIGGER search_report_update AFTER UPDATE ON report BEGIN
            UPDATE search_document SET
                report_id = NEW.id, scheme_id = NEW.scheme_id, member_id = NEW.member_id,
                occurred_at = NEW.occurred_at, category = NEW.category, status = NEW.status,
                police_reference = upper(NEW.police_reference),
                report_text = {_report_text("NEW")}
            WHERE report_id = OLD.id;
        END""",
    "search_event_insert": """
        CREATE TRIGGER search_event_insert AFTER INSERT ON event
        WHEN NEW.text IS NOT NULL BEGIN
            UPDATE search_document SET event_text = event_text || ' ' || NEW.text
            WHERE report_id = NEW.report_id;
        END""",
    "search_event_update": f"""
        CREATE TRIGGER search_event_update AFTER UPDATE OF report_id, text ON event BEGIN
            UPDATE search_document SET event_text = {_SQLITE_EVENTS.format(id="OLD.report_id")}
            WHERE report_id = OLD.report_id;
            UPDATE search_document SET event_text = {_SQLITE_EVENTS.format(id="NEW.report_id")}
            WHERE report_id = NEW.report_id AND NEW.report_id <> OLD.report_id;
        END""",
    "search_event_delete": f"""
        CREATE TRIGGER search_event_delete AFTER DELETE ON event
        WHEN OLD.text IS NOT NULL BEGIN
            UPDATE search_document SET event_text = {_SQLITE_EVENTS.format(id="OLD.report_id")}
            WHERE report_id = OLD.report_id;
        END""",
    "search_photo_insert": """
        CREATE TRIGGER search_photo_insert AFTER INSERT ON photo BEGIN
            UPDATE search_document SET has_photo = 1
            WHERE report_id = NEW.report_id AND NOT has_photo;
        END""",
    "search_photo_update": f"""
        CREATE TRIGGER search_photo_update AFTER UPDATE OF report_id ON photo BEGIN
            UPDATE search_document SET has_photo = {_SQLITE_PHOTO.format(id="report_id")}
            WHERE report_id IN (OLD.report_id, NEW.report_id);
        END""",
    "search_photo_delete": f"""
        CREATE TRIGGER search_photo_delete AFTER DELETE ON photo BEGIN
            UPDATE search_document SET has_photo = {_SQLITE_PHOTO.format(id="OLD.report_id")}
            WHERE report_id = OLD.report_id;
        END""",
    # The FTS table is an index over search_document's text (external content):
    # FTS5 forgets a row only when told the words it had, hence OLD's values.
    "search_fts_insert": """
        CREATE TRIGGER search_fts_insert AFTER INSERT ON search_document BEGIN
            INSERT INTO search_fts (rowid, report_text, event_text)
            VALUES (NEW.report_id, NEW.report_text, NEW.event_text);
        END""",
    "search_fts_update": """
        CREATE TRIGGER search_fts_update AFTER UPDATE OF report_text, event_text
        ON search_document
        WHEN OLD.report_text IS NOT NEW.report_text OR OLD.event_text IS NOT NEW.event_text
        BEGIN
            INSERT INTO search_fts (search_fts, rowid, report_text, event_text)
            VALUES ('delete', OLD.report_id, OLD.report_text, OLD.event_text);
            INSERT INTO search_fts (rowid, report_text, event_text)
            VALUES (NEW.report_id, NEW.report_text, NEW.event_text);
        END""",
    "search_fts_delete": """
        CREATE TRIGGER search_fts_delete AFTER DELETE ON search_document BEGIN
            INSERT INTO search_fts (search_fts, rowid, report_text, event_text)
            VALUES ('delete', OLD.report_id, OLD.report_text, OLD.event_text);
        END""",
}


def _upgrade_sqlite() -> None:
    op.execute(
        """
        CREATE TABLE search_document (
            report_id INTEGER NOT NULL PRIMARY KEY
                REFERENCES report (id) ON DELETE CASCADE,
            scheme_id INTEGER NOT NULL,
            member_id INTEGER,
            occurred_at DATETIME NOT NULL,
            category VARCHAR(32) NOT NULL,
            status VARCHAR(32) NOT NULL,
            police_reference VARCHAR,
            has_photo BOOLEAN NOT NULL DEFAULT 0,
            report_text TEXT NOT NULL DEFAULT '',
            event_text TEXT NOT NULL DEFAULT ''
        )"""
    )
    op.execute(
        "CREATE INDEX ix_search_document_scheme_id_occurred_at "
        "ON search_document (scheme_id, occurred_at, report_id)"
    )
    op.execute(
        "CREATE INDEX ix_search_document_member_id_occurred_at "
        "ON search_document (member_id, occurred_at, report_id)"
    )
    # `categories 'L* Nd'`: letters and decimal digits make words, as on PostgreSQL;
    # diacritics are kept, as PostgreSQL keeps them.
    op.execute(
        """
        CREATE VIRTUAL TABLE search_fts USING fts5 (
            report_text, event_text,
            content = 'search_document', content_rowid = 'report_id',
            tokenize = "unicode61 remove_diacritics 0 categories 'L* Nd'"
        )"""
    )
    for ddl in SQLITE_TRIGGERS.values():
        op.execute(ddl)
    op.execute(
        f"""
        INSERT INTO search_document ({_DOCUMENT_COLUMNS})
        SELECT report.id, report.scheme_id, report.member_id, report.occurred_at,
               report.category, report.status, upper(report.police_reference),
               {_SQLITE_PHOTO.format(id="report.id")}, {_report_text("report")},
               {_SQLITE_EVENTS.format(id="report.id")}
        FROM report"""
    )


def _downgrade_sqlite() -> None:
    for name in SQLITE_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE IF EXISTS search_fts")
    op.execute("DROP TABLE IF EXISTS search_document")


# --- PostgreSQL -------------------------------------------------------------------------

_PG_EVENTS = (
    "(SELECT coalesce(string_agg(event.text, ' ' ORDER BY event.id), '') FROM event "
    "WHERE event.report_id = {id} AND event.text IS NOT NULL)"
)
_PG_PHOTO = "EXISTS (SELECT 1 FROM photo WHERE photo.report_id = {id})"
PG_FUNCTIONS = (
    "search_tokens(text)",
    "search_document_tokens()",
    "search_report_changed()",
    "search_event_changed()",
    "search_photo_changed()",
)
PG_TRIGGERS = {
    "search_document_tokens": "search_document",
    "search_report_changed": "report",
    "search_event_changed": "event",
    "search_photo_changed": "photo",
}


def _pg_tokens_function(collation: str) -> str:
    # 2046 bytes is the longest word a tsvector holds; anything longer is no word anyway.
    return f"""
        CREATE FUNCTION search_tokens(body text) RETURNS tsvector
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT array_to_tsvector(coalesce(array_agg(DISTINCT word), '{{}}'))
            FROM regexp_split_to_table(lower(body{collation}), '[^[:alnum:]]+') AS word
            WHERE word <> '' AND octet_length(word) <= 2046
        $$"""


def _upgrade_postgresql() -> None:
    # ICU's Unicode rules for what a letter is and how it lower-cases match SQLite's
    # tokeniser whatever locale the database was created with; without ICU, the
    # database's own locale decides (fine for any UTF-8 locale, not for "C").
    has_icu = (
        op.get_bind()
        .execute(text("SELECT 1 FROM pg_collation WHERE collname = 'und-x-icu'"))
        .scalar()
    )
    if not has_icu:
        logger.warning("no ICU collation: search words follow the database's locale")
    collation = ' COLLATE "und-x-icu"' if has_icu else ""
    op.execute(
        """
        CREATE TABLE search_document (
            report_id INTEGER NOT NULL PRIMARY KEY
                REFERENCES report (id) ON DELETE CASCADE,
            scheme_id INTEGER NOT NULL,
            member_id INTEGER,
            occurred_at TIMESTAMP WITH TIME ZONE NOT NULL,
            category VARCHAR(32) NOT NULL,
            status VARCHAR(32) NOT NULL,
            police_reference VARCHAR,
            has_photo BOOLEAN NOT NULL DEFAULT false,
            report_text TEXT NOT NULL DEFAULT '',
            event_text TEXT NOT NULL DEFAULT '',
            tsv TSVECTOR NOT NULL DEFAULT ''::tsvector
        )"""
    )
    op.execute(
        "CREATE INDEX ix_search_document_scheme_id_occurred_at "
        "ON search_document (scheme_id, occurred_at, report_id)"
    )
    op.execute(
        "CREATE INDEX ix_search_document_member_id_occurred_at "
        "ON search_document (member_id, occurred_at, report_id)"
    )
    op.execute("CREATE INDEX ix_search_document_tsv ON search_document USING gin (tsv)")
    op.execute(_pg_tokens_function(collation))
    op.execute(
        """
        CREATE FUNCTION search_document_tokens() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            NEW.tsv := search_tokens(NEW.report_text || ' ' || NEW.event_text);
            RETURN NEW;
        END $$"""
    )
    op.execute(
        """
        CREATE TRIGGER search_document_tokens
        BEFORE INSERT OR UPDATE OF report_text, event_text ON search_document
        FOR EACH ROW EXECUTE FUNCTION search_document_tokens()"""
    )
    op.execute(
        f"""
        CREATE FUNCTION search_report_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            INSERT INTO search_document ({_DOCUMENT_COLUMNS})
            VALUES (NEW.id, NEW.scheme_id, NEW.member_id, NEW.occurred_at, NEW.category,
                    NEW.status, upper(NEW.police_reference), false, {_report_text("NEW")}, '')
            ON CONFLICT (report_id) DO UPDATE SET
                scheme_id = EXCLUDED.scheme_id, member_id = EXCLUDED.member_id,
                occurred_at = EXCLUDED.occurred_at, category = EXCLUDED.category,
                status = EXCLUDED.status, police_reference = EXCLUDED.police_reference,
                report_text = EXCLUDED.report_text;
            RETURN NULL;
        END $$"""
    )
    op.execute(
        """
        CREATE TRIGGER search_report_changed AFTER INSERT OR UPDATE ON report
        FOR EACH ROW EXECUTE FUNCTION search_report_changed()"""
    )
    op.execute(
        f"""
        CREATE FUNCTION search_event_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'INSERT' THEN
                IF NEW.text IS NOT NULL THEN
                    UPDATE search_document SET event_text = event_text || ' ' || NEW.text
                    WHERE report_id = NEW.report_id;
                END IF;
                RETURN NULL;
            END IF;
            UPDATE search_document SET event_text = {_PG_EVENTS.format(id="OLD.report_id")}
            WHERE report_id = OLD.report_id;
            IF TG_OP = 'UPDATE' AND NEW.report_id <> OLD.report_id THEN
                UPDATE search_document SET event_text = {_PG_EVENTS.format(id="NEW.report_id")}
                WHERE report_id = NEW.report_id;
            END IF;
            RETURN NULL;
        END $$"""
    )
    op.execute(
        """
        CREATE TRIGGER search_event_changed
        AFTER INSERT OR DELETE OR UPDATE OF report_id, text ON event
        FOR EACH ROW EXECUTE FUNCTION search_event_changed()"""
    )
    op.execute(
        f"""
        CREATE FUNCTION search_photo_changed() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                UPDATE search_document SET has_photo = true
                WHERE report_id = NEW.report_id AND NOT has_photo;
            END IF;
            IF TG_OP IN ('DELETE', 'UPDATE') THEN
                UPDATE search_document SET has_photo = {_PG_PHOTO.format(id="OLD.report_id")}
                WHERE report_id = OLD.report_id;
            END IF;
            RETURN NULL;
        END $$"""
    )
    op.execute(
        """
        CREATE TRIGGER search_photo_changed
        AFTER INSERT OR DELETE OR UPDATE OF report_id ON photo
        FOR EACH ROW EXECUTE FUNCTION search_photo_changed()"""
    )
    op.execute(
        f"""
        INSERT INTO search_document ({_DOCUMENT_COLUMNS})
        SELECT report.id, report.scheme_id, report.member_id, report.occurred_at,
               report.category, report.status, upper(report.police_reference),
               {_PG_PHOTO.format(id="report.id")}, {_report_text("report")},
               {_PG_EVENTS.format(id="report.id")}
        FROM report"""
    )


def _downgrade_postgresql() -> None:
    for trigger, table in PG_TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    for function in PG_FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {function}")
    op.execute("DROP TABLE IF EXISTS search_document")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _upgrade_sqlite()
    else:
        _upgrade_postgresql()


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _downgrade_sqlite()
    else:
        _downgrade_postgresql()
