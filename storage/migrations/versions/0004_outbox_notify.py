"""Every row queued in the outbox wakes the processes that send it (PostgreSQL only).

An AFTER INSERT trigger on `outbox` calls `pg_notify('shopwatch_outbox', shard)`,
the row's chat shard (`abs(chat_id) % 64`, as `storage.outbox.shard_of`), so a
`shopwatch worker` hears of a row queued by another process when it commits, not
on its next idle poll, whichever repository queued it. PostgreSQL delivers a
transaction's notifications on commit only and folds repeats of the same payload
into one, so an alert to forty chats sends at most one per shard touched.
`storage.outbox_notify` listens.

SQLite is single-process: the in-process `OutboxWorker.wake()` is enough, and
this migration does nothing there.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNEL = "shopwatch_outbox"
SHARD_COUNT = 64
"""`storage.outbox.SHARD_COUNT` as it was when this ran; a migration never imports our code."""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION outbox_queued() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', (abs(NEW.chat_id) % {SHARD_COUNT})::text);
            RETURN NULL;
        END $$"""
    )
    op.execute(
        """
        CREATE TRIGGER outbox_queued AFTER INSERT ON outbox
        FOR EACH ROW EXECUTE FUNCTION outbox_queued()"""
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER IF EXISTS outbox_queued ON outbox")
    op.execute("DROP FUNCTION IF EXISTS outbox_queued()")
