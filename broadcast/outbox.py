"""The outbox worker: the only thing that posts alerts, edits and documents to chats.

Rows are stored (with the report they belong to) before anything is sent; this
worker claims due rows, sends them within Telegram's limits, records each
copy's message id, and retries what failed with back-off. Within one chat rows
go in order (an edit never overtakes its alert); chats are served side by side.

What each kind's payload holds is `storage.outbox_payloads`; who sends it is the
sender its feature registered (`broadcast.delivery`): this worker knows no
destination, only when to send, in what order, and what a failure costs.

Bounds: each claim takes at most `batch` rows, at most `PER_CHAT_BATCH` of one
chat, and the worker has at most `max_chats` chats in hand at once, so memory
and leases stay bounded however long the queue; a slow chat (a group at
Telegram's 20 a minute) holds only its own slot while other chats keep moving.
On PostgreSQL the worker sends only to chats of the shards it holds
(`storage.outbox.ChatShards`), so several processes can share the outbox, and
each is woken by PostgreSQL as rows of its shards are queued by any of them
(`storage.outbox_notify`); the idle poll is only the fallback.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import time
import uuid
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from broadcast.delivery import (
    MAX_ATTEMPTS,
    Delivered,
    RetryAtError,
    RetryLaterError,
    Sender,
    UndeliverableError,
)
from broadcast.lanes import sending_at
from broadcast.metrics import Metrics
from config.backoff import Backoff
from config.errors import NotFoundError, StorageError
from config.vocabulary import OutboxKind
from storage.ids import stored_id
from storage.models import OutboxRow, utcnow
from storage.outbox import (
    CONTROL_ROOM_PRIORITY,
    ChatShards,
    Delivery,
    ShardFilter,
    shard_of,
)
from storage.outbox_notify import OutboxListener
from storage.outbox_payloads import (
    AlertPayload,
    DeletePayload,
    MessagePayload,
    OutboxPayload,
    PayloadError,
    VoicePayload,
    payload_of,
)
from storage.store import Store

logger = logging.getLogger(__name__)

RETRY_BACKOFF = Backoff(first=2.0, most=timedelta(minutes=10).total_seconds())
"""A row whose destination is away waits about 2, 4, 8 … seconds, at most ten minutes."""
IDLE_POLL_SECONDS = 1.0
STOP_GRACE_SECONDS = 5.0
RECORD_BACKOFF = Backoff(first=0.25, most=4.0)

T = TypeVar("T")
MAX_CHATS_IN_HAND = 32
URGENT_SLOTS = 8
"""Of the chats in hand, kept for private chats and control rooms (`_dispatch`)."""
URGENT_PRIORITY = CONTROL_ROOM_PRIORITY
PER_CHAT_BATCH = 10
REBALANCE_SECONDS = 1.0
RECEIVER_KINDS = frozenset({OutboxKind.RADIO})
"""Sent only by the process that receives updates: it alone holds the radio links."""


class OutboxWorker:
    """Drains the outbox; `wake()` after queueing makes delivery immediate."""

    def __init__(
        self,
        store: Store,
        *,
        metrics: Metrics,
        batch: int = 50,
        lease_seconds: float = 60.0,
        max_chats: int = MAX_CHATS_IN_HAND,
        urgent_slots: int = URGENT_SLOTS,
        processes: int = 1,
        idle_poll_seconds: float = IDLE_POLL_SECONDS,
    ) -> None:
        """Senders are registered (`register`) before it starts, one per outbox kind; a row
        of a kind nobody registered is given up on."""
        self.store = store
        self.batch = batch
        self.lease_seconds = lease_seconds
        self.max_chats = max_chats
        self.urgent_slots = min(urgent_slots, max_chats - 1)
        self.processes = processes
        self._told_crowded = False
        self.metrics = metrics
        self.worker_id = f"worker-{uuid.uuid4().hex[:8]}"
        self.idle_poll_seconds = idle_poll_seconds
        self.shards: ChatShards | None = None
        self.listener: OutboxListener | None = None
        if store.backend == "postgresql":
            self.shards = ChatShards(store.engine)
            if processes > 1:
                # Alone, this process queues every row and wakes itself as it does.
                self.listener = OutboxListener(store.engine, self._queued_elsewhere)
        self.receiving = True
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._claims_unknown = False
        self._in_hand: dict[int, asyncio.Task[None]] = {}
        self._urgent_in_hand: set[int] = set()
        self._more_due = False
        self._queued = 0
        """How many times `wake()` was called: rows queued for a chat in hand wait for it."""
        self._claiming = asyncio.Lock()
        self._rebalanced = -REBALANCE_SECONDS
        self.senders: dict[OutboxKind, Sender] = {}

    def register(self, kind: OutboxKind, sender: Sender) -> None:
        if kind in self.senders:
            raise ValueError(f"two senders for outbox kind {kind}")
        self.senders[kind] = sender

    def beside_receiver(self) -> None:
        """This worker runs in a process of its own (`shopwatch worker`): the radio's rows
        are left to the process that receives updates, which holds the radio links."""
        self.receiving = False

    def wake(self) -> None:
        self._queued += 1
        self._wake.set()

    def _queued_elsewhere(self, shard: int | None) -> None:
        """PostgreSQL says a row was queued (by any process): wake if it may be ours.

        The radio's rows (chat 0) are the receiving process's whatever shards it holds.
        """
        if (
            shard is None
            or self.shards is None
            or shard in self.shards.owned
            or (self.receiving and shard == shard_of(0))
        ):
            self.wake()

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="shopwatch-outbox")
            if self.listener is not None:
                self.listener.start()

    async def stop(self) -> None:
        """Let the chats in hand finish, then stop; cancel only what will not end.

        Cancelling in the middle of a database write can leave SQLite's write lock
        with a connection nobody will roll back, and the next writer (a handler,
        the shutdown's persistence flush) waits out the busy timeout and fails.
        """
        task, self._task = self._task, None
        if self.listener is not None:
            await self.listener.stop()
        if task is not None:
            self._stopping = True
            self._wake.set()
            try:
                await asyncio.wait_for(asyncio.shield(task), STOP_GRACE_SECONDS)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self.shards is not None:
            await self.shards.close()

    async def _run(self) -> None:
        try:
            while not self._stopping:
                try:
                    if self._claims_unknown:
                        await self._release_lost_claims(keep_chats=set(self._in_hand))
                    handled = await self._dispatch(utcnow())
                except asyncio.CancelledError:
                    raise
                except StorageError as exc:
                    # The log is away: one line a second, not a traceback a second.
                    logger.warning("outbox pass failed (%s); trying again shortly", exc)
                    self._claims_unknown = True
                    handled = 0
                except Exception:
                    logger.exception("outbox pass failed; trying again shortly")
                    self._claims_unknown = True
                    handled = 0
                if handled and self._more_due:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.idle_poll_seconds)
                self._wake.clear()
            await self._settle()
        except asyncio.CancelledError:
            for chat in list(self._in_hand.values()):
                chat.cancel()
            raise

    async def _release_lost_claims(self, *, keep_chats: set[int]) -> None:
        """After a failed pass, rows its claim took may be claimed in the log but in nobody's
        hands (the connection went with the answer): put them back rather than let them
        wait out their lease."""
        released = await self.store.outbox.release_claims(self.worker_id, keep_chats=keep_chats)
        self._claims_unknown = False
        if released:
            logger.info("outbox: %s claimed rows that never arrived put back", released)

    async def run_once(self, now: datetime | None = None) -> int:
        """One pass: claim what is due and send it. Returns how many rows were handled.

        Chats already in hand are finished first, so the pass sees every chat.
        """
        await self._settle()
        handled = await self._dispatch(now or utcnow())
        await self._settle()
        return handled

    async def _settle(self) -> None:
        """Wait until every chat in hand is done (its rows sent, failed or put back)."""
        while self._in_hand:
            await asyncio.wait(list(self._in_hand.values()))

    async def _dispatch(self, now: datetime) -> int:
        """Claim what is due for chats not in hand and start each chat; returns rows claimed.

        `urgent_slots` of the chats in hand are kept for private chats and control rooms:
        when the others are all taken (by groups waiting their turn at the token's limit),
        the rest go to urgent chats alone, so an operator's copy is claimed as soon as it is
        queued rather than when a group's finishes."""
        async with self._claiming:
            self._more_due = True  # until a claim comes back short of its limit
            if self._free() <= 0:
                return 0
            shards = await self._shard_filter()
            handled, more = 0, True
            room = min(self._free(), self._ordinary_room())
            if room > 0:  # the most urgent chats first, groups after
                handled, more = await self._claim(now, shards, room, None)
            if more and self._free() > 0:  # what is left is kept for the urgent
                claimed, _ = await self._claim(now, shards, self._free(), URGENT_PRIORITY)
                handled += claimed
            self._more_due = more
            return handled

    def _free(self) -> int:
        return self.max_chats - len(self._in_hand)

    def _ordinary_room(self) -> int:
        """Slots a group's chat may still take: all but the kept ones, less those held."""
        ordinary = len(self._in_hand) - len(self._urgent_in_hand)
        return self.max_chats - self.urgent_slots - ordinary

    async def _claim(
        self, now: datetime, shards: ShardFilter | None, slots: int, min_priority: int | None
    ) -> tuple[int, bool]:
        """Claim for up to `slots` chats and start each; rows claimed, and whether the
        claim was cut at its limit (so more may be due)."""
        # Never more rows than free slots, so never more chats than slots.
        limit = min(self.batch, slots)
        rows = await self.store.outbox.claim_due(
            self.worker_id,
            now,
            limit=limit,
            lease_seconds=self.lease_seconds,
            per_chat=PER_CHAT_BATCH,
            shards=shards,
            busy_chats=set(self._in_hand),
            skip_kinds=() if self.receiving else RECEIVER_KINDS,
            min_priority=min_priority,
        )
        if rows:
            logger.debug("outbox: claimed %s row(s) for %s", len(rows), self.worker_id)
        by_chat: dict[int, list[OutboxRow]] = defaultdict(list)
        for row in rows:
            by_chat[row.chat_id].append(row)
        for chat_id, chat_rows in by_chat.items():
            chat = asyncio.create_task(
                self._send_chat(chat_rows), name=f"shopwatch-outbox-{chat_id}"
            )
            self._in_hand[chat_id] = chat
            if max(row.priority for row in chat_rows) >= URGENT_PRIORITY:
                self._urgent_in_hand.add(chat_id)
            capped = len(chat_rows) >= PER_CHAT_BATCH
            chat.add_done_callback(
                functools.partial(self._chat_done, chat_id, capped, self._queued)
            )
        return len(rows), len(rows) >= limit

    def _chat_done(
        self, chat_id: int, capped: bool, queued: int, done: asyncio.Task[None]
    ) -> None:
        """A chat is done: claim again only if something may be waiting for it (its claim
        was cut at the per-chat cap, rows were queued while it was in hand, or a claim
        was cut short for want of slots).

        Otherwise new rows wake the worker as they are queued, and rows put back for
        later are found by the idle poll: a claim after every chat would cost each
        alert half a dozen needless writes to the log.
        """
        if self._in_hand.get(chat_id) is done:
            del self._in_hand[chat_id]
            self._urgent_in_hand.discard(chat_id)
        failed = not done.cancelled() and done.exception() is not None
        if failed:
            logger.error("outbox: chat %s stopped early", chat_id, exc_info=done.exception())
            self._claims_unknown = True  # its rows left in hand go back on the next pass
        if capped or failed or self._more_due or self._queued != queued:
            self._wake.set()

    async def _shard_filter(self) -> ShardFilter | None:
        """None when this process is the only sender (SQLite); else the shards it holds."""
        if self.shards is None:
            return None
        clock = time.monotonic()
        if clock - self._rebalanced >= REBALANCE_SECONDS:
            self._rebalanced = clock
            busy = {shard_of(chat_id, self.shards.count) for chat_id in self._in_hand}
            await self.shards.rebalance(busy)
            self._warn_if_crowded(self.shards.live)
        anywhere = RECEIVER_KINDS if self.receiving else frozenset()
        return ShardFilter(self.shards.owned, self.shards.count, anywhere)

    def _warn_if_crowded(self, live: int) -> None:
        """Each process takes 1/`processes` of the token's 30 messages a second: more
        processes than that add up to more than Telegram allows."""
        crowded = live > self.processes
        if crowded and not self._told_crowded:
            logger.warning(
                "%s processes are sending the outbox but SHOPWATCH_OUTBOX_WORKERS is %s: "
                "together they may exceed Telegram's 30 messages a second; set it to %s",
                live,
                self.processes,
                live,
            )
        self._told_crowded = crowded

    async def _send_chat(self, rows: list[OutboxRow]) -> None:
        lease_ends = min((row.claimed_until for row in rows if row.claimed_until), default=None)
        for index, row in enumerate(rows):
            lease_ends = await self._keep_lease(rows[index:], lease_ends)
            again = await self._deliver(row)
            if again is None:
                continue
            # The rest of this chat's rows wait behind it, in order: they would meet
            # the same flood limit, and the chat must not see them out of turn.
            for later in rows[index + 1 :]:
                await self.store.outbox.mark_retry(
                    stored_id(later), "waiting for an earlier message to this chat", again
                )
            return

    async def _keep_lease(
        self, rows: list[OutboxRow], lease_ends: datetime | None
    ) -> datetime | None:
        """A chat slowed by its flood limit must not outlive its lease, or another worker
        would send its rows again: past half the lease, extend it for the rows left."""
        now = utcnow()
        if lease_ends is None or now < lease_ends - timedelta(seconds=self.lease_seconds / 2):
            return lease_ends
        lease_ends = now + timedelta(seconds=self.lease_seconds)
        await self.store.outbox.renew(self.worker_id, [r.id for r in rows if r.id], lease_ends)
        return lease_ends

    async def _deliver(self, row: OutboxRow) -> datetime | None:
        """Send one row; returns when it will be tried again, if it was put back."""
        row_id = stored_id(row)
        sender = self.senders.get(row.kind)
        try:
            if sender is None:
                raise NotFoundError(f"unknown outbox kind {row.kind}")
            payload = payload_of(row)  # a row not of its kind is given up before it is sent
            with sending_at(row.priority):  # its lane at the token's limit
                delivered = await sender.send(row)
        except RetryAtError as exc:
            if exc.flood:
                self.metrics.flood_limits.inc()
                self.metrics.deliveries.labels(row.kind, "retried").inc()
                logger.info("outbox row %s: flood limit, retrying in %ss", row_id, exc.seconds)
            again = utcnow() + timedelta(seconds=exc.seconds)
            await self.store.outbox.mark_retry(row_id, exc.recorded, again)
            return again
        except RetryLaterError as exc:
            return await self._retry_or_give_up(row, exc.recorded)
        except UndeliverableError as exc:
            await self._give_up(row, exc.recorded)
            return None
        except (OSError, NotFoundError, PayloadError) as exc:
            await self._give_up(row, f"{type(exc).__name__}: {exc}")
            return None
        if delivered.unchanged:
            await self.store.outbox.mark_sent(row_id, None)
            return None
        removal = _removal(row, payload, delivered)
        sent = await self._until_stored(
            lambda: self.store.outbox.mark_sent(row_id, delivered.message_id, then=removal)
        )
        self.metrics.deliveries.labels(row.kind, "sent").inc()
        if row.kind == OutboxKind.ALERT and sent.sent_at is not None:
            latency = (sent.sent_at - row.created_at).total_seconds()
            self.metrics.alert_copy_latency.observe(max(latency, 0.0))
        return None

    async def _until_stored(self, write: Callable[[], Awaitable[T]]) -> T:
        """Retry a write about a message that is already in its chat until the log takes it.

        Giving up would leave the row claimed but unrecorded, and once its lease ran
        out it would be sent again: a log that is away for a while must cost a
        delay, not a second copy in every chat.
        """
        failures = 0
        while True:
            try:
                return await write()
            except NotFoundError:
                raise
            except StorageError as exc:
                logger.warning("a delivered message is not recorded yet (%s); retrying", exc)
            failures += 1
            await asyncio.sleep(RECORD_BACKOFF.seconds(failures))

    async def _retry_or_give_up(self, row: OutboxRow, error: str) -> datetime | None:
        row_id = stored_id(row)
        if row.attempts >= MAX_ATTEMPTS:
            await self._give_up(row, error)
            return None
        logger.info("outbox row %s failed (%s); attempt %s", row_id, error, row.attempts)
        self.metrics.deliveries.labels(row.kind, "retried").inc()
        again = utcnow() + RETRY_BACKOFF.delay(row.attempts)
        await self.store.outbox.mark_retry(row_id, error, again)
        return again

    async def _give_up(self, row: OutboxRow, error: str) -> None:
        row_id = stored_id(row)
        logger.warning("outbox row %s to chat %s failed for good: %s", row_id, row.chat_id, error)
        await self.store.outbox.mark_failed(row_id, error)
        self.metrics.deliveries.labels(row.kind, "failed").inc()
        sender = self.senders.get(row.kind)
        if sender is not None and sender.given_up is not None:
            await sender.given_up(row, error)


def _removal(row: OutboxRow, payload: OutboxPayload, delivered: Delivered) -> Delivery | None:
    """The copy's deletion once its time in the chat is up, if its payload asks for one."""
    if not isinstance(payload, AlertPayload | MessagePayload | VoicePayload):
        return None
    hours = payload.delete_after_hours
    if not hours:
        return None
    return Delivery(
        chat_id=row.chat_id,
        payload=DeletePayload(target=stored_id(row), also=delivered.extra_ids),
        dedupe_key=f"ttl:{stored_id(row)}",
        not_before=utcnow() + timedelta(hours=float(hours)),
    )
