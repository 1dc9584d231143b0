"""Every message the bot sends, stored first and sent after, so none is lost or doubled.

A worker claims due rows under a lease: the claim is one statement (with
`FOR UPDATE SKIP LOCKED` on PostgreSQL, where workers run side by side), so two
workers never hold the same row. A worker that dies mid-send loses its lease and
the row is claimed again: delivery is at least once, and a row once marked sent
is never handed out again.

Order and fairness: a chat with a row under a live lease gets nothing more until
that row is done, so a chat's messages go out in order even when a worker dies;
each claim takes at most a few rows per chat and deals the batch out round-robin
across schemes, so one town's backlog cannot hold back another town's alert.

On PostgreSQL several processes send (`shopwatch worker`); each chat belongs to
one of them at a time through `ChatShards`, so Telegram's per-chat limits, counted
in each process, stay right.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import math
import random
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Table,
    Update,
    and_,
    bindparam,
    func,
    insert,
    text,
    update,
)
from sqlalchemy import select as select_columns
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker
from sqlmodel import col, or_, select
from sqlmodel.ext.asyncio.session import AsyncSession

from config.errors import DuplicateError, NotFoundError
from config.vocabulary import OutboxKind, OutboxState
from storage.ids import stored_id
from storage.models import OutboxRow, utcnow
from storage.outbox_payloads import OutboxPayload, stored
from storage.transaction import transaction

logger = logging.getLogger(__name__)

_UNSENT = (OutboxState.PENDING, OutboxState.SENDING)

SHARD_COUNT = 64
"""Chats are dealt into this many shards (`abs(chat_id) % SHARD_COUNT`); more shards
than workers keeps the split even."""
_SHARD_LOCKS = 53_570
"""pg_advisory_lock(_SHARD_LOCKS, shard): this session owns that shard's chats."""
_WORKER_LOCKS = 53_571
"""pg_advisory_lock_shared(_WORKER_LOCKS, 0): this session is a live worker."""


@dataclass(frozen=True, slots=True)
class Delivery:
    """What to send where; `dedupe_key` makes a second enqueue of the same thing a no-op.

    `payload` is the kind's model (`storage.outbox_payloads`), which names the kind;
    `not_before` delays the first attempt, e.g. deleting a chat copy after the TTL.
    """

    chat_id: int
    payload: OutboxPayload
    dedupe_key: str | None = None
    not_before: datetime | None = None

    @property
    def kind(self) -> OutboxKind:
        return self.payload.kind

    def to_row(self, scheme_id: int, report_id: int | None) -> OutboxRow:
        return OutboxRow(
            scheme_id=scheme_id,
            report_id=report_id,
            chat_id=self.chat_id,
            kind=self.kind,
            payload=stored(self.payload),
            dedupe_key=self.dedupe_key,
            next_attempt_at=self.not_before or utcnow(),
            priority=priority_of(self),
        )


PRIVATE_PRIORITY = 2
CONTROL_ROOM_PRIORITY = 1
GROUP_PRIORITY = 0
_CONTROL_ROOMS = frozenset({"control_room", "neighbour_control_room"})


def priority_of(delivery: Delivery) -> int:
    """Which chats a claim takes first, decided here for every caller that queues a row.

    A person's private chat (the member's confirmation, an answer) goes first, as they
    are waiting on it; a control room's copy next, as the operator acts on it; group
    and neighbour copies, and everything else, after. Rows to the radio (chat 0) or a
    peer town are not Telegram chats and keep the lowest.
    """
    if delivery.chat_id > 0 and delivery.kind not in (OutboxKind.FEDERATION, OutboxKind.RADIO):
        return PRIVATE_PRIORITY
    audience = getattr(delivery.payload, "audience", None)
    if audience in _CONTROL_ROOMS:
        return CONTROL_ROOM_PRIORITY
    return GROUP_PRIORITY


@dataclass(frozen=True, slots=True)
class Backlog:
    """For health checks: `due` rows should be on their way; `oldest_age` is how late."""

    due: int
    oldest_age: timedelta | None
    failed: int


def shard_of(chat_id: int, count: int = SHARD_COUNT) -> int:
    return abs(chat_id) % count


@dataclass(frozen=True, slots=True)
class ShardFilter:
    """The chats a claim may touch: those in `owned` shards, plus rows of `anywhere` kinds
    (the radio, which only the receiving process sends, belongs to no shard)."""

    owned: frozenset[int]
    count: int = SHARD_COUNT
    anywhere: frozenset[OutboxKind] = frozenset()

    def condition(self) -> ColumnElement[bool]:
        in_shard: ColumnElement[bool] = (func.abs(col(OutboxRow.chat_id)) % self.count).in_(
            sorted(self.owned)
        )
        if self.anywhere:
            return or_(in_shard, col(OutboxRow.kind).in_(sorted(self.anywhere)))
        return in_shard


@dataclass(frozen=True, slots=True)
class _ClaimShape:
    """Which optional conditions a claim carries: one statement is built for each shape."""

    busy: bool
    skipping: bool
    sharded: bool
    anywhere: bool
    capped: bool
    urgent_only: bool = False


_OUTBOX = cast(Table, getattr(OutboxRow, "__table__"))  # noqa: B009 (not in the stubs)
"""The claim is a Core statement on the table: the ORM copies a statement (and so works
out its cache key anew) on every execution, Core keeps the one built."""


@functools.cache
def _claim_statement(shape: _ClaimShape) -> Update:
    """The claim, built once per shape with every value a bound parameter.

    SQLAlchemy keys its compiled-statement cache on the statement's structure, and
    working that key out walks the whole tree for each new statement object: for this
    one, several milliseconds of the event loop's time on each claim, and a busy outbox
    claims a dozen times an alert. Built once, the key is worked out once.
    """
    outbox = _OUTBOX.c
    held = _OUTBOX.alias("held").c
    now = bindparam("claim_now", type_=outbox.next_attempt_at.type)
    # A chat waits while one of its rows is in someone's hands, or after a row of
    # it put back for later (a flood limit, a back-off). Both sets are small and
    # found once through the (state, next_attempt_at) index, not once per row.
    in_hand = select_columns(held.chat_id).where(
        held.state == OutboxState.SENDING, held.claimed_until >= now
    )
    put_back = (
        select_columns(held.chat_id, func.min(held.id).label("first_id"))
        .where(
            held.state == OutboxState.PENDING,
            held.next_attempt_at > now,
            held.attempts > 0,
        )
        .group_by(held.chat_id)
        .subquery("put_back")
    )
    claimable = or_(
        and_(outbox.state == OutboxState.PENDING, outbox.next_attempt_at <= now),
        and_(outbox.state == OutboxState.SENDING, outbox.claimed_until < now),
    )
    conditions: list[ColumnElement[bool]] = [
        claimable,
        outbox.chat_id.not_in(in_hand),
        or_(put_back.c.first_id.is_(None), outbox.id < put_back.c.first_id),
    ]
    if shape.busy:
        conditions.append(outbox.chat_id.not_in(bindparam("claim_busy", expanding=True)))
    if shape.skipping:
        conditions.append(outbox.kind.not_in(bindparam("claim_skip", expanding=True)))
    if shape.sharded:
        in_shard: ColumnElement[bool] = (
            func.abs(outbox.chat_id) % bindparam("claim_shard_count", type_=Integer)
        ).in_(bindparam("claim_owned", expanding=True))
        if shape.anywhere:
            in_shard = or_(in_shard, outbox.kind.in_(bindparam("claim_anywhere", expanding=True)))
        conditions.append(in_shard)
    candidates = (
        select_columns(
            outbox.id,
            outbox.scheme_id,
            outbox.chat_id,
            func.row_number()
            .over(partition_by=outbox.chat_id, order_by=outbox.id)
            .label("chat_turn"),
            # A chat goes as fast as its most urgent row: an edit queued before a
            # control room's copy goes with it, and the chat's order stays whole.
            func.max(outbox.priority).over(partition_by=outbox.chat_id).label("chat_priority"),
            func.row_number()
            .over(partition_by=outbox.scheme_id, order_by=(outbox.next_attempt_at, outbox.id))
            .label("scheme_turn"),
        )
        .select_from(_OUTBOX.outerjoin(put_back, put_back.c.chat_id == outbox.chat_id))
        .where(*conditions)
        .subquery("candidates")
    )
    # A row's turn is the latest scheme turn among its chat's rows up to it, so
    # taking rows by turn never takes a chat's later row without its earlier ones.
    turned = select_columns(
        candidates.c.id,
        candidates.c.chat_turn,
        candidates.c.chat_priority,
        func.max(candidates.c.scheme_turn)
        .over(partition_by=candidates.c.chat_id, order_by=candidates.c.id, rows=(None, 0))
        .label("turn"),
    ).subquery("turned")
    picked_rows = select_columns(turned.c.id)
    if shape.capped:
        picked_rows = picked_rows.where(turned.c.chat_turn <= bindparam("claim_per_chat"))
    if shape.urgent_only:
        picked_rows = picked_rows.where(turned.c.chat_priority >= bindparam("claim_priority"))
    picked = (
        picked_rows.order_by(turned.c.chat_priority.desc(), turned.c.turn, turned.c.id)
        .limit(bindparam("claim_limit", type_=Integer))
        .scalar_subquery()
    )
    due = select_columns(outbox.id).where(outbox.id.in_(picked)).with_for_update(skip_locked=True)
    return (
        update(_OUTBOX)
        .where(outbox.id.in_(due.scalar_subquery()), claimable)
        .values(
            state=OutboxState.SENDING,
            claimed_by=bindparam("claim_worker"),
            claimed_until=bindparam("claim_until", type_=outbox.claimed_until.type),
            attempts=outbox.attempts + 1,
        )
        .returning(*_OUTBOX.c)
    )


_RECORDABLE = (OutboxState.PENDING, OutboxState.SENDING, OutboxState.FAILED)
"""The states a copy may be recorded as sent from: a row sent already stays as it is."""


@functools.cache
def _mark_sent_statement() -> Update:
    """A copy recorded as sent: built once (see `_claim_statement`) and run for a whole
    batch of copies as one executemany (`_record`)."""
    outbox = _OUTBOX.c
    return (
        update(_OUTBOX)
        .where(
            outbox.id == bindparam("sent_row"),
            or_(*(outbox.state == state for state in _RECORDABLE)),  # no IN: executemany
        )
        .values(
            **_sent(bindparam("sent_message"), bindparam("sent_at", type_=outbox.sent_at.type))
        )
    )


def _sent(message: object, at: object) -> dict[str, object]:
    """What recording a copy as sent changes: the statement's values, and the row as the
    batch returns it without reading it again."""
    return {
        "claimed_by": None,
        "claimed_until": None,
        "state": OutboxState.SENT,
        "telegram_message_id": message,
        "sent_at": at,
        "last_error": None,
    }


_ROWS_OF = (
    select_columns(*_OUTBOX.c)
    .where(_OUTBOX.c.id.in_(bindparam("row_ids", expanding=True)))
    .with_for_update()
)
"""The rows a batch records, locked on PostgreSQL until it commits (SQLite's writer
holds the whole database already)."""
_KEYS_QUEUED = select_columns(_OUTBOX.c.dedupe_key).where(
    _OUTBOX.c.dedupe_key.in_(bindparam("queued_keys", expanding=True))
)


_QUEUED_KEY = select_columns(_OUTBOX.c.id).where(_OUTBOX.c.dedupe_key == bindparam("queued_key"))
_QUEUE = insert(_OUTBOX)
"""Both Core, so compiled once: the dialects' `ON CONFLICT DO NOTHING` is compiled anew
on every execution (SQLAlchemy cannot cache it), and the ORM's flush costs more again."""


async def _queue_once(connection: AsyncConnection, rows: Sequence[OutboxRow]) -> None:
    """Queue each of `rows` unless a row with its dedupe key already is: one read of
    the keys and one executemany, however many rows."""
    keys = [row.dedupe_key for row in rows if row.dedupe_key is not None]
    taken: set[str | None] = set()
    if keys:
        found = await connection.execute(_KEYS_QUEUED, {"queued_keys": keys})
        taken = {key for (key,) in found}
    fresh = []
    for row in rows:
        if row.dedupe_key is not None:
            if row.dedupe_key in taken:
                continue
            taken.add(row.dedupe_key)
        fresh.append({c.name: getattr(row, c.name) for c in _OUTBOX.c if c.name != "id"})
    if fresh:
        await connection.execute(_QUEUE, fresh)


def _observed(done: asyncio.Future[OutboxRow]) -> None:
    """A cancelled caller's record still happens; its outcome is nobody's to raise."""
    if not done.cancelled():
        done.exception()


class ChatShards:
    """Which chats this process sends to, when several processes share the outbox.

    Each shard is a PostgreSQL session advisory lock held on one connection kept
    for the purpose: a worker that dies (even by SIGKILL) drops its connection and
    with it its shards, and the others pick them up on their next rebalance. Every
    worker also holds a shared "alive" lock, so each can count the live ones and
    keep about `SHARD_COUNT / live` shards, handing spare ones back for a newcomer.
    """

    def __init__(self, engine: AsyncEngine, count: int = SHARD_COUNT) -> None:
        self._engine = engine
        self.count = count
        self.owned: frozenset[int] = frozenset()
        self.live = 0
        """Workers seen alive at the last rebalance, this one included."""
        self._connection: AsyncConnection | None = None

    async def rebalance(self, busy: Collection[int] = ()) -> frozenset[int]:
        """Take free shards up to a fair share, give back extras (those not `busy` first).

        On a database error the connection (and so every shard) is dropped and this
        process sends nothing until the next rebalance gets a fresh one.
        """
        try:
            connection = await self._connect()
            live = await self._scalar(
                connection,
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                " AND classid = :key AND objid = 0 AND objsubid = 2"
                " AND database = (SELECT oid FROM pg_database"
                " WHERE datname = current_database())",
                key=_WORKER_LOCKS,
            )
            self.live = int(live)
            fair = math.ceil(self.count / max(self.live, 1))
            owned = set(self.owned)
            # Idle shards go first; a busy one may go too, as its chats stay under
            # their leases (and so with this worker) until the rows in hand are done.
            spare = sorted(owned, key=lambda shard: (shard in busy, random.random()))
            while len(owned) > fair:
                shard = spare.pop(0)
                await self._scalar(
                    connection,
                    "SELECT pg_advisory_unlock(:key, :shard)",
                    key=_SHARD_LOCKS,
                    shard=shard,
                )
                owned.discard(shard)
            if len(owned) < fair:
                taken = await connection.execute(
                    text(
                        "SELECT objid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                        " AND classid = :key AND objsubid = 2"
                        " AND database = (SELECT oid FROM pg_database"
                        " WHERE datname = current_database())"
                    ),
                    {"key": _SHARD_LOCKS},
                )
                free = set(range(self.count)) - {int(shard) for (shard,) in taken}
                # In random order, so workers end up with shards spread over all chats.
                for shard in random.sample(sorted(free), len(free)):
                    if len(owned) >= fair:
                        break
                    if await self._scalar(
                        connection,
                        "SELECT pg_try_advisory_lock(:key, :shard)",
                        key=_SHARD_LOCKS,
                        shard=shard,
                    ):
                        owned.add(shard)
            if owned != self.owned:
                logger.info(
                    "outbox shards: holding %s of %s, %s worker(s) live",
                    len(owned),
                    self.count,
                    live,
                )
            self.owned = frozenset(owned)
        except (DBAPIError, OSError) as exc:
            logger.warning("outbox shards lost (%s); trying again shortly", exc)
            await self._drop()
        return self.owned

    async def close(self) -> None:
        """Hand every shard back at once, so the other workers need not wait for a lease."""
        connection, self._connection = self._connection, None
        self.owned = frozenset()
        if connection is None:
            return
        try:
            await connection.execute(text("SELECT pg_advisory_unlock_all()"))
            await connection.close()
        except (DBAPIError, OSError):
            await connection.invalidate()

    async def _connect(self) -> AsyncConnection:
        if self._connection is None:
            connection = await self._engine.connect()
            connection = await connection.execution_options(isolation_level="AUTOCOMMIT")
            self._connection = connection
            await self._scalar(
                connection, "SELECT pg_advisory_lock_shared(:key, 0)", key=_WORKER_LOCKS
            )
        return self._connection

    async def _drop(self) -> None:
        connection, self._connection = self._connection, None
        self.owned = frozenset()
        if connection is not None:
            # Never back to the pool: a pooled connection would keep the locks.
            await connection.invalidate()
            await connection.close()

    @staticmethod
    async def _scalar(connection: AsyncConnection, sql: str, **params: int) -> Any:
        return (await connection.execute(text(sql), params)).scalar_one()


@dataclass(slots=True)
class _Mark:
    """A copy to record as sent, and where its caller waits for the row as recorded."""

    row_id: int
    telegram_message_id: int | None
    at: datetime
    then: Delivery | None
    recorded: asyncio.Future[OutboxRow]


class OutboxRepository:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._marks: list[_Mark] = []
        self._marking = asyncio.Lock()

    async def enqueue(
        self, scheme_id: int, delivery: Delivery, *, report_id: int | None = None
    ) -> OutboxRow:
        """Queue one message; with a dedupe key already queued, return that row unchanged."""
        try:
            async with transaction(self._sessions, "queue the message") as session:
                row = delivery.to_row(scheme_id, report_id)
                session.add(row)
            return row
        except DuplicateError:
            if delivery.dedupe_key is None:
                raise
        async with transaction(self._sessions, "read the queued message") as session:
            return (
                await session.exec(
                    select(OutboxRow).where(OutboxRow.dedupe_key == delivery.dedupe_key)
                )
            ).one()

    async def claim_due(
        self,
        worker_id: str,
        now: datetime,
        limit: int = 20,
        lease_seconds: float = 60.0,
        *,
        per_chat: int | None = None,
        shards: ShardFilter | None = None,
        busy_chats: Collection[int] = (),
        skip_kinds: Collection[OutboxKind] = (),
        min_priority: int | None = None,
    ) -> list[OutboxRow]:
        """Lease up to `limit` due rows; each claim counts as an attempt.

        Chats of a higher priority (`priority_of`: private chats, then control rooms)
        come first, whatever their age. Among equals schemes take turns: the batch
        holds every scheme's oldest row before any scheme's second. Within a chat
        rows come in the order they were queued and never with a gap (a chat's later
        row is never claimed without its earlier ones), at most `per_chat` of them.
        Chats with a row still under someone's lease or put back for later, and
        `busy_chats` (this worker's own, in hand), are left alone. With `min_priority`,
        only chats at least that urgent (`priority_of`).
        """
        if shards is not None and not shards.owned and not shards.anywhere:
            return []
        shape = _ClaimShape(
            busy=bool(busy_chats),
            skipping=bool(skip_kinds),
            sharded=shards is not None,
            anywhere=bool(shards is not None and shards.anywhere),
            capped=per_chat is not None,
            urgent_only=min_priority is not None,
        )
        params: dict[str, Any] = {
            "claim_now": now,
            "claim_worker": worker_id,
            "claim_until": now + timedelta(seconds=lease_seconds),
            "claim_limit": limit,
        }
        if busy_chats:
            params["claim_busy"] = sorted(busy_chats)
        if skip_kinds:
            params["claim_skip"] = sorted(skip_kinds)
        if shards is not None:
            params["claim_shard_count"] = shards.count
            params["claim_owned"] = sorted(shards.owned)
            if shards.anywhere:
                params["claim_anywhere"] = sorted(shards.anywhere)
        if per_chat is not None:
            params["claim_per_chat"] = per_chat
        if min_priority is not None:
            params["claim_priority"] = min_priority
        claim = _claim_statement(shape)
        async with transaction(self._sessions, "claim queued messages") as session:
            result = await session.exec(claim, params=params)
            rows = [OutboxRow(**found._mapping) for found in result.all()]
        # A chat's messages go out in the order they were queued.
        return sorted(rows, key=stored_id)

    async def renew(self, worker_id: str, row_ids: Collection[int], until: datetime) -> None:
        """Extend this worker's lease on rows still in hand (a slow chat's later rows)."""
        if not row_ids:
            return
        change = (
            update(OutboxRow)
            .where(
                col(OutboxRow.id).in_(sorted(row_ids)),
                col(OutboxRow.claimed_by) == worker_id,
                col(OutboxRow.state) == OutboxState.SENDING,
            )
            .values(claimed_until=until)
            .execution_options(synchronize_session=False)
        )
        async with transaction(self._sessions, "renew the lease") as session:
            await session.exec(change)

    async def mark_sent(
        self,
        row_id: int,
        telegram_message_id: int | None,
        *,
        now: datetime | None = None,
        then: Delivery | None = None,
    ) -> OutboxRow:
        """Record delivery; on a row already sent this changes nothing, not even the message id.

        `then` (the copy's deletion once its time in the chat is up) is queued in the
        same transaction, for the row's scheme and report: never a recorded copy without
        its deletion. Copies recorded side by side share a transaction (`_record`).
        """
        mark = _Mark(
            row_id,
            telegram_message_id,
            now or utcnow(),
            then,
            asyncio.get_running_loop().create_future(),
        )
        self._marks.append(mark)
        try:
            async with self._marking:
                if not mark.recorded.done():  # else a batch before this one took it
                    batch, self._marks = self._marks, []
                    await self._record(batch)
        except asyncio.CancelledError:
            if mark in self._marks:
                self._marks.remove(mark)
            mark.recorded.add_done_callback(_observed)
            raise
        return await mark.recorded

    async def _record(self, batch: list[_Mark]) -> None:
        """Every copy sent since the last commit recorded in one: the copies of an alert
        are delivered side by side, and a commit each would queue six transactions in
        front of the next alert's. Four statements whatever the batch (the rows read,
        one executemany of the marks, the deletions' keys read, one executemany of
        the deletions), as SQLite's one connection serves the whole process. Each
        caller gets its own row, or its own error."""
        found: dict[int, dict[str, Any]] = {}
        try:
            async with transaction(self._sessions, "record the message sent") as session:
                connection = await session.connection()
                ids = sorted({mark.row_id for mark in batch})
                read = await connection.execute(_ROWS_OF, {"row_ids": ids})
                found = {row.id: dict(row._mapping) for row in read}
                marks: list[dict[str, Any]] = []
                removals: list[OutboxRow] = []
                for mark in batch:
                    current = found.get(mark.row_id)
                    if current is None or current["state"] not in _RECORDABLE:
                        continue  # not there, or sent already: it stays as it is
                    current.update(_sent(mark.telegram_message_id, mark.at))
                    marks.append(
                        {
                            "sent_row": mark.row_id,
                            "sent_message": mark.telegram_message_id,
                            "sent_at": mark.at,
                        }
                    )
                    if mark.then is not None:
                        removals.append(
                            mark.then.to_row(current["scheme_id"], current["report_id"])
                        )
                if marks:
                    await connection.execute(_mark_sent_statement(), marks)
                await _queue_once(connection, removals)
        except Exception as exc:
            for mark in batch:
                mark.recorded.set_exception(exc)
            return
        except BaseException:  # cancelled: the others' records are still to be made
            self._marks[:0] = batch
            raise
        for mark in batch:
            kept = found.get(mark.row_id)
            if kept is None:
                mark.recorded.set_exception(NotFoundError(f"no queued message {mark.row_id}"))
            else:
                mark.recorded.set_result(OutboxRow(**kept))

    async def mark_retry(self, row_id: int, error: str, next_attempt_at: datetime) -> OutboxRow:
        """Put the row back in the queue for later; a row already sent or given up stays so."""
        return await self._finish(
            row_id,
            _UNSENT,
            state=OutboxState.PENDING,
            last_error=error,
            next_attempt_at=next_attempt_at,
        )

    async def mark_failed(self, row_id: int, error: str) -> OutboxRow:
        """Give up on the row (chat gone, bot blocked); it stays for the coordinator to see."""
        return await self._finish(row_id, _UNSENT, state=OutboxState.FAILED, last_error=error)

    async def _finish(
        self, row_id: int, from_states: tuple[OutboxState, ...], **values: Any
    ) -> OutboxRow:
        change = (
            update(OutboxRow)
            .where(col(OutboxRow.id) == row_id, col(OutboxRow.state).in_(from_states))
            .values(claimed_by=None, claimed_until=None, **values)
            .execution_options(synchronize_session=False)
        )
        async with transaction(self._sessions, "update the queued message") as session:
            await session.exec(change)
            row = await session.get(OutboxRow, row_id, populate_existing=True)
        if row is None:
            raise NotFoundError(f"no queued message {row_id}")
        return row

    async def get(self, row_id: int) -> OutboxRow:
        async with transaction(self._sessions, "read the queued message") as session:
            row = await session.get(OutboxRow, row_id)
        if row is None:
            raise NotFoundError(f"no queued message {row_id}")
        return row

    async def for_report(
        self, report_id: int, *, kind: OutboxKind | None = None, state: OutboxState | None = None
    ) -> list[OutboxRow]:
        """A report's deliveries, e.g. every sent alert whose copy an operator's update edits."""
        query = select(OutboxRow).where(OutboxRow.report_id == report_id)
        if kind is not None:
            query = query.where(OutboxRow.kind == kind)
        if state is not None:
            query = query.where(OutboxRow.state == state)
        async with transaction(self._sessions, "read the report's messages") as session:
            return list((await session.exec(query.order_by(col(OutboxRow.id)))).all())

    async def by_dedupe_prefix(self, prefix: str) -> list[OutboxRow]:
        """Rows whose dedupe key starts with `prefix`, oldest first.

        Messages that belong to no report (an approval card sent to every
        coordinator) are found again this way, to edit each copy later; end the
        prefix with a separator so `card:1:` does not also match `card:12:`.
        """
        query = (
            select(OutboxRow)
            .where(col(OutboxRow.dedupe_key).startswith(prefix, autoescape=True))
            .order_by(col(OutboxRow.id))
        )
        async with transaction(self._sessions, "read the queued messages") as session:
            return list((await session.exec(query)).all())

    async def backlog(self, now: datetime | None = None) -> Backlog:
        now = now or utcnow()
        due_query = select(func.count(), func.min(OutboxRow.next_attempt_at)).where(
            col(OutboxRow.state).in_(_UNSENT), col(OutboxRow.next_attempt_at) <= now
        )
        failed_query = select(func.count()).where(OutboxRow.state == OutboxState.FAILED)
        async with transaction(self._sessions, "measure the queue") as session:
            due, oldest = (await session.exec(due_query)).one()
            failed = (await session.exec(failed_query)).one()
        return Backlog(due=due, oldest_age=None if oldest is None else now - oldest, failed=failed)

    async def release_claims(
        self, worker_id: str | None, *, keep_chats: Collection[int] = ()
    ) -> int:
        """Put back `worker_id`'s claimed rows (every worker's with None) outside
        `keep_chats` (the chats it is sending to); returns how many.

        A claim whose commit went through while its answer was lost with the connection
        leaves rows claimed by a worker that never saw them. Nothing is sending them, so
        they go back now instead of waiting out their lease. With None it is for a
        process starting where it alone sends (SQLite): every claim left is a dead
        process's.
        """
        claimed = (
            col(OutboxRow.claimed_by).is_not(None)
            if worker_id is None
            else col(OutboxRow.claimed_by) == worker_id
        )
        release = (
            update(OutboxRow)
            .where(
                claimed,
                col(OutboxRow.state) == OutboxState.SENDING,
                col(OutboxRow.chat_id).not_in(list(keep_chats)),
            )
            .values(state=OutboxState.PENDING, claimed_by=None, claimed_until=None)
            .execution_options(synchronize_session=False)
        )
        async with transaction(self._sessions, "put back lost claims") as session:
            result = await session.exec(release)
        return int(result.rowcount)
