"""The outbox worker: the only thing that posts alerts, edits and documents to chats.

Rows are stored (with the report they belong to) before anything is sent; this
worker claims due rows, sends them within Telegram's limits, records each
copy's message id, and retries what failed with back-off. Within one chat rows
go in order (an edit never overtakes its alert); chats are served side by side.

Payloads (JSON) by kind:
  alert / message: {"text", "photos": [store paths], "buttons": [[[label, data], ...], ...],
                    "protect_content": bool, "delete_after_hours": int | null}
  edit:            {"target": outbox row id, "text", "buttons"}
  delete:          {"target": outbox row id, "also": [further message ids, e.g. an album]}
  document:        {"path": file under the data dir, "filename", "caption", "protect_content"}
  voice:           {"path": Ogg Opus file under the data dir, "caption", "buttons",
                    "protect_content", "delete_after_hours"}
  radio:           {"text": posted in the radio channel, "speak": read out or null,
                    "audio": Ogg file under the data dir to play or null}; chat_id is 0
  federation:      {"op": "alert" | "event" | "receipt", "peer", ...}; chat_id is the
                   peer's own (`broadcast/federation/peers.py`)

Kinds that do not go to Telegram (radio) are sent by a sender registered in
`senders`; a sender raises `RetryLaterError` when its destination is down for now,
and `UndeliverableError` when it will never take the row.

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
from collections import OrderedDict, defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    ReplyParameters,
)
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError

from broadcast.metrics import Metrics
from broadcast.texts import chats as chat_texts
from config.errors import NotFoundError, StorageError
from storage.enums import MemberStatus, OutboxKind, OutboxState, Role
from storage.models import OutboxRow, utcnow
from storage.outbox import ChatShards, Delivery, ShardFilter, shard_of
from storage.outbox_notify import OutboxListener
from storage.photos import PhotoStore
from storage.store import Store

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 12
MAX_BACKOFF = timedelta(minutes=10)
TARGET_NOT_SENT_DELAY = timedelta(seconds=1)
IDLE_POLL_SECONDS = 1.0
STOP_GRACE_SECONDS = 5.0
RECORD_RETRY_FIRST_SECONDS = 0.25
RECORD_RETRY_MAX_SECONDS = 4.0

T = TypeVar("T")
MAX_CHATS_IN_HAND = 32
PER_CHAT_BATCH = 10
REBALANCE_SECONDS = 1.0
FILE_ID_CACHE = 1024
RECEIVER_KINDS = frozenset({OutboxKind.RADIO})
"""Sent only by the process that receives updates: it alone holds the radio links."""


class RetryLaterError(Exception):
    """Raised by a registered sender whose destination (the radio) is unreachable for now."""


class UndeliverableError(Exception):
    """Raised by a registered sender whose destination refused the row for good."""


Sender = Callable[[OutboxRow], Awaitable[int | None]]


class _TargetNotSentError(Exception):
    """An edit or delete whose message has not gone out yet: try again shortly."""


def keyboard(buttons: Any) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(label, callback_data=data) for label, data in row]
            for row in buttons
        ]
    )


def backoff(attempts: int) -> timedelta:
    return min(timedelta(seconds=2 ** min(attempts, 10)), MAX_BACKOFF)


def _seconds(value: int | float | timedelta) -> float:
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class OutboxWorker:
    """Drains the outbox; `wake()` after queueing makes delivery immediate."""

    def __init__(
        self,
        bot: Bot,
        store: Store,
        photos: PhotoStore,
        data_dir: Path,
        *,
        batch: int = 50,
        lease_seconds: float = 60.0,
        max_chats: int = MAX_CHATS_IN_HAND,
        processes: int = 1,
        metrics: Metrics | None = None,
        idle_poll_seconds: float = IDLE_POLL_SECONDS,
    ) -> None:
        self.bot = bot
        self.store = store
        self.photos = photos
        self.data_dir = data_dir
        self.batch = batch
        self.lease_seconds = lease_seconds
        self.max_chats = max_chats
        self.processes = processes
        self._told_crowded = False
        self.metrics = metrics or Metrics()
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
        self._file_ids: OrderedDict[str, str] = OrderedDict()
        self._in_hand: dict[int, asyncio.Task[None]] = {}
        self._more_due = False
        self._queued = 0
        """How many times `wake()` was called: rows queued for a chat in hand wait for it."""
        self._claiming = asyncio.Lock()
        self._rebalanced = -REBALANCE_SECONDS
        self.senders: dict[OutboxKind, Sender] = {}

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
        """Claim what is due for chats not in hand and start each chat; returns rows claimed."""
        async with self._claiming:
            free = self.max_chats - len(self._in_hand)
            # Never more rows than free slots, so never more chats than slots.
            limit = min(self.batch, free)
            self._more_due = True  # until a claim comes back short of its limit
            if free <= 0:
                return 0
            shards = await self._shard_filter()
            rows = await self.store.outbox.claim_due(
                self.worker_id,
                now,
                limit=limit,
                lease_seconds=self.lease_seconds,
                per_chat=PER_CHAT_BATCH,
                shards=shards,
                busy_chats=set(self._in_hand),
                skip_kinds=() if self.receiving else RECEIVER_KINDS,
            )
            self._more_due = len(rows) >= limit
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
                capped = len(chat_rows) >= PER_CHAT_BATCH
                chat.add_done_callback(
                    functools.partial(self._chat_done, chat_id, capped, self._queued)
                )
            return len(rows)

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
                assert later.id is not None
                await self.store.outbox.mark_retry(
                    later.id, "waiting for an earlier message to this chat", again
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
        assert row.id is not None
        try:
            message_id, extra_ids = await self._send(row)
        except _TargetNotSentError:
            again = utcnow() + TARGET_NOT_SENT_DELAY
            await self.store.outbox.mark_retry(row.id, "waiting for the original message", again)
            return again
        except RetryAfter as exc:
            wait = _seconds(exc.retry_after)
            self.metrics.flood_limits.inc()
            self.metrics.deliveries.labels(row.kind, "retried").inc()
            logger.info("outbox row %s: flood limit, retrying in %ss", row.id, wait)
            again = utcnow() + timedelta(seconds=wait)
            await self.store.outbox.mark_retry(row.id, f"flood limit: retry after {wait}s", again)
            return again
        except Forbidden as exc:
            await self._give_up(row, f"forbidden: {exc.message}")
            return None
        except BadRequest as exc:
            if row.kind in (OutboxKind.EDIT, OutboxKind.DELETE) and _harmless(exc):
                await self.store.outbox.mark_sent(row.id, None)
                return None
            await self._give_up(row, f"bad request: {exc.message}")
            return None
        except (NetworkError, TelegramError) as exc:
            return await self._retry_or_give_up(row, f"{type(exc).__name__}: {exc.message}")
        except RetryLaterError as exc:
            return await self._retry_or_give_up(row, f"unavailable: {exc}")
        except (OSError, NotFoundError, UndeliverableError) as exc:
            await self._give_up(row, f"{type(exc).__name__}: {exc}")
            return None
        row_id = row.id
        removal = _removal(row, extra_ids)
        sent = await self._until_stored(
            lambda: self.store.outbox.mark_sent(row_id, message_id, then=removal)
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
        delay = RECORD_RETRY_FIRST_SECONDS
        while True:
            try:
                return await write()
            except NotFoundError:
                raise
            except StorageError as exc:
                logger.warning("a delivered message is not recorded yet (%s); retrying", exc)
            await asyncio.sleep(delay)
            delay = min(delay * 2, RECORD_RETRY_MAX_SECONDS)

    async def _retry_or_give_up(self, row: OutboxRow, error: str) -> datetime | None:
        assert row.id is not None
        if row.attempts >= MAX_ATTEMPTS:
            await self._give_up(row, error)
            return None
        logger.info("outbox row %s failed (%s); attempt %s", row.id, error, row.attempts)
        self.metrics.deliveries.labels(row.kind, "retried").inc()
        again = utcnow() + backoff(row.attempts)
        await self.store.outbox.mark_retry(row.id, error, again)
        return again

    async def _give_up(self, row: OutboxRow, error: str) -> None:
        assert row.id is not None
        logger.warning("outbox row %s to chat %s failed for good: %s", row.id, row.chat_id, error)
        await self.store.outbox.mark_failed(row.id, error)
        self.metrics.deliveries.labels(row.kind, "failed").inc()
        if row.chat_id < 0 and row.kind in (OutboxKind.ALERT, OutboxKind.MESSAGE):
            await self._tell_coordinators(row, error)

    async def _tell_coordinators(self, row: OutboxRow, error: str) -> None:
        """A scheme chat the bot cannot post in is told to its coordinators, once."""
        active = await self.store.members.list_by_status(row.scheme_id, MemberStatus.ACTIVE)
        for coordinator in (m for m in active if m.role == Role.COORDINATOR):
            await self.store.outbox.enqueue(
                row.scheme_id,
                Delivery(
                    chat_id=coordinator.telegram_user_id,
                    kind=OutboxKind.MESSAGE,
                    payload={"text": chat_texts.chat_unreachable(row.chat_id, error)},
                    dedupe_key=f"unreachable:{row.chat_id}:{coordinator.telegram_user_id}",
                ),
            )
        self.wake()

    async def _superseded(self, edit: OutboxRow) -> bool:
        """A newer edit of the same message is on its way or done: this older one would
        put back what it replaced (after a retry, edits can come out of turn)."""
        if edit.report_id is None or edit.id is None:
            return False
        target = edit.payload.get("target")
        return any(
            (other.id or 0) > edit.id
            and other.payload.get("target") == target
            and other.state != OutboxState.FAILED
            for other in await self.store.outbox.for_report(edit.report_id, kind=OutboxKind.EDIT)
        )

    async def _target(self, row: OutboxRow) -> OutboxRow:
        target = await self.store.outbox.get(int(row.payload["target"]))
        if target.state != OutboxState.SENT or target.telegram_message_id is None:
            if target.state == OutboxState.FAILED:
                raise NotFoundError("the original message was never delivered")
            raise _TargetNotSentError
        return target

    async def _send(self, row: OutboxRow) -> tuple[int | None, list[int]]:
        """Send one row; returns the message id to record and ids of any extra photos."""
        payload = row.payload
        if row.kind in (OutboxKind.ALERT, OutboxKind.MESSAGE):
            return await self._send_message(row.chat_id, payload)
        return await self._send_other(row), []

    async def _send_other(self, row: OutboxRow) -> int | None:
        payload = row.payload
        sender = self.senders.get(row.kind)
        if sender is not None:
            return await sender(row)
        if row.kind == OutboxKind.EDIT:
            target = await self._target(row)
            assert target.telegram_message_id is not None
            if await self._superseded(row):
                return target.telegram_message_id
            markup = keyboard(payload.get("buttons"))
            if target.payload.get("photos") or target.kind == OutboxKind.VOICE:
                await self.bot.edit_message_caption(
                    row.chat_id,
                    target.telegram_message_id,
                    caption=payload["text"],
                    reply_markup=markup,
                )
            else:
                await self.bot.edit_message_text(
                    payload["text"],
                    row.chat_id,
                    target.telegram_message_id,
                    reply_markup=markup,
                )
            return target.telegram_message_id
        if row.kind == OutboxKind.DELETE:
            target = await self._target(row)
            assert target.telegram_message_id is not None
            await self.bot.delete_message(row.chat_id, target.telegram_message_id)
            for extra in payload.get("also") or []:
                with contextlib.suppress(BadRequest):
                    await self.bot.delete_message(row.chat_id, int(extra))
            return target.telegram_message_id
        if row.kind == OutboxKind.DOCUMENT:
            path = (self.data_dir / payload["path"]).resolve()
            if not path.is_relative_to(self.data_dir.resolve()):
                raise NotFoundError("document outside the data directory")
            sent = await self.bot.send_document(
                row.chat_id,
                path.read_bytes(),
                filename=payload.get("filename", path.name),
                caption=payload.get("caption"),
                protect_content=bool(payload.get("protect_content", True)),
            )
            return sent.message_id
        if row.kind == OutboxKind.VOICE:
            path = (self.data_dir / payload["path"]).resolve()
            if not path.is_relative_to(self.data_dir.resolve()):
                raise NotFoundError("voice note outside the data directory")
            sent = await self.bot.send_voice(
                row.chat_id,
                path.read_bytes(),
                caption=payload.get("caption"),
                reply_markup=keyboard(payload.get("buttons")),
                protect_content=bool(payload.get("protect_content", True)),
            )
            return sent.message_id
        raise NotFoundError(f"unknown outbox kind {row.kind}")

    def _photo(self, path: str) -> str | bytes:
        file_id = self._file_ids.get(path)
        if file_id is None:
            return self.photos.read(path)
        self._file_ids.move_to_end(path)
        return file_id

    def _remember(self, path: str, message: Message) -> None:
        """Telegram's file id for a photo already uploaded, for the newest few photos."""
        if message.photo:
            self._file_ids[path] = message.photo[-1].file_id
            self._file_ids.move_to_end(path)
            while len(self._file_ids) > FILE_ID_CACHE:
                self._file_ids.popitem(last=False)

    async def _send_message(self, chat_id: int, payload: dict[str, Any]) -> tuple[int, list[int]]:
        """The card (photo with caption and buttons, or text); further photos as an album.

        Telegram cannot put buttons on an album, so the first photo carries the card
        and its buttons and the rest follow as a media group replying to it.
        """
        text = str(payload["text"])
        markup = keyboard(payload.get("buttons"))
        protect = bool(payload.get("protect_content", False))
        photos: list[str] = list(payload.get("photos") or [])
        if not photos:
            sent = await self.bot.send_message(
                chat_id, text, reply_markup=markup, protect_content=protect
            )
            return sent.message_id, []
        first, rest = photos[0], photos[1:]
        sent = await self.bot.send_photo(
            chat_id,
            self._photo(first),
            caption=text,
            reply_markup=markup,
            protect_content=protect,
        )
        self._remember(first, sent)
        extra_ids: list[int] = []
        if rest:
            extra_ids = await self._send_extra_photos(chat_id, rest, sent.message_id, protect)
        return sent.message_id, extra_ids

    async def _send_extra_photos(
        self, chat_id: int, paths: list[str], reply_to: int, protect: bool
    ) -> list[int]:
        """Best effort once the card is out: a failure here must not resend the card."""
        for _ in range(3):
            try:
                if len(paths) == 1:  # an album needs two to ten photos
                    single = await self.bot.send_photo(
                        chat_id,
                        self._photo(paths[0]),
                        protect_content=protect,
                        reply_parameters=ReplyParameters(reply_to),
                    )
                    self._remember(paths[0], single)
                    return [single.message_id]
                album = await self.bot.send_media_group(
                    chat_id,
                    [InputMediaPhoto(self._photo(path)) for path in paths[:10]],
                    protect_content=protect,
                    reply_parameters=ReplyParameters(reply_to),
                )
                for path, message in zip(paths, album, strict=False):
                    self._remember(path, message)
                return [message.message_id for message in album]
            except RetryAfter as exc:
                await asyncio.sleep(_seconds(exc.retry_after))
            except TelegramError as exc:
                logger.warning("further photos to chat %s not sent: %s", chat_id, exc.message)
                return []
        return []


def _removal(row: OutboxRow, extra_ids: list[int]) -> Delivery | None:
    """The copy's deletion once its time in the chat is up, if its payload asks for one."""
    hours = row.payload.get("delete_after_hours")
    if not hours or row.id is None:
        return None
    return Delivery(
        chat_id=row.chat_id,
        kind=OutboxKind.DELETE,
        payload={"target": row.id, "also": extra_ids},
        dedupe_key=f"ttl:{row.id}",
        not_before=utcnow() + timedelta(hours=float(hours)),
    )


def _harmless(exc: BadRequest) -> bool:
    """Edits that change nothing, or deletes of what is already gone, count as done."""
    message = exc.message.lower()
    return "not modified" in message or "message to delete not found" in message
