"""Everything the sandbox remembers: people, bots, chats, messages, files and pending updates.

Private chats are kept per bot and user (each bot has its own conversation with a person,
message ids counting from 1 in each); groups are kept once and shared by every bot in them.
Records are plain mutable dataclasses: they are the truth, and every answer or view is
rendered from them on demand, so what a test inspects is always the CURRENT state.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from telegram import InlineKeyboardMarkup, MenuButton, MessageEntity, Update

from sandbox.media import photo_sizes

ConvKey = tuple[int, int]
"""(bot id, user id) for a private chat; (0, chat id) for a group."""

GROUP_KEY = 0
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
ACTIVE_STATUSES = frozenset({"creator", "administrator", "member"})

_FILE_ID_PREFIX = {
    "photo": "AgACAgQAAxkB",
    "document": "BQACAgQAAxkB",
    "voice": "AwACAgQAAxkB",
    "video": "BAACAgQAAxkB",
    "video_note": "DQACAgQAAxkB",
}


class Signal:
    """Wakes every coroutine waiting on it; cheaper than a Condition for sync notifiers."""

    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()

    def notify(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def wait(self, within: float | None) -> bool:
        """Return True if notified, False when ``within`` seconds passed first."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter, within)
        except TimeoutError:
            return False
        finally:
            self._waiters.discard(waiter)
        return True


@dataclass
class UserRecord:
    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    is_bot: bool = False
    language_code: str | None = None
    blocked_bots: set[int] = field(default_factory=set)

    @property
    def display_name(self) -> str:
        if self.is_bot and self.username:
            return f"@{self.username}"
        return " ".join(part for part in (self.first_name, self.last_name) if part)


@dataclass
class WebhookConfig:
    url: str
    secret_token: str | None
    max_connections: int
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass
class BotRecord:
    user: UserRecord
    token: str
    pending: list[dict[str, object]] = field(default_factory=list)
    next_update_id: int = 1
    allowed_updates: frozenset[str] | None = None
    webhook: WebhookConfig | None = None
    commands: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    menu_buttons: dict[int | None, MenuButton] = field(default_factory=dict)
    """setChatMenuButton's buttons by private chat (None: the bot's default)."""
    poll_generation: int = 0
    updates_signal: Signal = field(default_factory=Signal)

    @property
    def id(self) -> int:
        return self.user.id


@dataclass
class AdminRights:
    """What an administrator may do, by the Bot API's names (all granted unless taken away)."""

    can_invite_users: bool = True
    can_restrict_members: bool = True
    can_delete_messages: bool = True
    can_pin_messages: bool = True
    can_change_info: bool = True


@dataclass
class InviteLinkRecord:
    invite_link: str
    chat_id: int
    creator_id: int
    name: str | None = None
    expire_date: int | None = None
    member_limit: int | None = None
    creates_join_request: bool = False
    revoked: bool = False
    joined: int = 0


@dataclass
class GroupRecord:
    id: int
    title: str
    type: str
    username: str | None = None
    members: dict[int, str] = field(default_factory=dict)
    rights: dict[int, AdminRights] = field(default_factory=dict)
    """Administrators' rights where they differ from all granted."""
    links: dict[str, InviteLinkRecord] = field(default_factory=dict)
    join_requests: dict[int, str | None] = field(default_factory=dict)
    """Pending join requests: the user's id and the link they came by."""

    def is_active(self, member_id: int) -> bool:
        return self.members.get(member_id) in ACTIVE_STATUSES

    def rights_of(self, member_id: int) -> AdminRights | None:
        """An administrator's rights (an owner has every one); None for anyone else."""
        status = self.members.get(member_id)
        if status == "creator":
            return AdminRights()
        if status == "administrator":
            return self.rights.get(member_id) or AdminRights()
        return None


@dataclass(frozen=True)
class Call:
    """One request a bot made, for a benchmark's account of where an alert's time went."""

    method: str
    """The Bot API method, or "file" for a download."""
    chat_id: int | None
    began: float
    ended: float
    """`time.perf_counter()` when the request arrived and when its answer was ready."""
    results: int = 0
    """How many updates a getUpdates handed out."""


@dataclass
class FileRecord:
    kind: str
    data: bytes
    unique_id: str
    path: str
    width: int | None = None
    height: int | None = None
    file_name: str | None = None
    mime_type: str | None = None
    duration: int | None = None
    file_ids: dict[int, str] = field(default_factory=dict)
    smaller: tuple[FileRecord, ...] = ()
    """A photo message's smaller sizes, smallest first (each a file of its own)."""
    downloads: int = 0
    """How many times a bot fetched the file: a test can tell a refused file was never
    fetched, and which of a photo's sizes was."""

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sizes(self) -> tuple[FileRecord, ...]:
        """Every size of a photo, smallest first, this one last."""
        return (*self.smaller, self)


@dataclass
class MessageRecord:
    key: ConvKey
    chat_id: int
    message_id: int
    sender_id: int
    sender_is_bot: bool
    date: int
    text: str | None = None
    entities: tuple[MessageEntity, ...] = ()
    caption: str | None = None
    caption_entities: tuple[MessageEntity, ...] = ()
    source_text: str | None = None
    parse_mode: str | None = None
    photo: FileRecord | None = None
    document: FileRecord | None = None
    voice: FileRecord | None = None
    video: FileRecord | None = None
    video_note: FileRecord | None = None
    location: tuple[float, float] | None = None
    reply_markup: InlineKeyboardMarkup | None = None
    protect_content: bool = False
    disable_notification: bool = False
    reply_to: int | None = None
    media_group_id: str | None = None
    forward_from: int | None = None
    forward_date: int | None = None
    new_chat_members: tuple[int, ...] = ()
    left_chat_member: int | None = None
    edit_date: int | None = None
    edits: int = 0
    deleted: bool = False
    order: int = 0
    """Its place among every message of every chat, in the order the sandbox took them."""

    @property
    def has_media(self) -> bool:
        files = (self.photo, self.document, self.voice, self.video, self.video_note)
        return any(f is not None for f in files)


@dataclass(frozen=True)
class CallbackAnswer:
    text: str | None
    show_alert: bool
    url: str | None


@dataclass
class PressRecord:
    """A button press, kept for the transcript."""

    user_id: int
    message_id: int
    button: str
    answer: CallbackAnswer | None = None


@dataclass
class CallbackRecord:
    id: str
    bot_id: int
    user_id: int
    data: str
    press: PressRecord
    answer: asyncio.Future[CallbackAnswer]


@dataclass
class Conversation:
    key: ConvKey
    chat_id: int
    messages: dict[int, MessageRecord] = field(default_factory=dict)
    next_message_id: int = 1
    opened: bool = False
    presses: list[PressRecord] = field(default_factory=list)

    @property
    def is_group(self) -> bool:
        return self.key[0] == GROUP_KEY

    @property
    def chat_instance(self) -> str:
        digest = hashlib.sha256(f"{self.key[0]}:{self.key[1]}".encode()).hexdigest()
        return str(int(digest[:15], 16))


class SandboxState:
    """The registry, id allocation, file store, update queues and the sandbox clock."""

    def __init__(self) -> None:
        self.users: dict[int, UserRecord] = {}
        self.bots: dict[int, BotRecord] = {}
        self.bots_by_token: dict[str, BotRecord] = {}
        self.groups: dict[int, GroupRecord] = {}
        self.conversations: dict[ConvKey, Conversation] = {}
        self.files_by_id: dict[str, tuple[FileRecord, int]] = {}
        self.files_by_path: dict[str, FileRecord] = {}
        self.callbacks: dict[str, CallbackRecord] = {}
        self.changed = Signal()
        self.stopping = False
        self.clock_offset = 0.0
        self.calls: list[Call] | None = None
        """Every request the bots make, once a benchmark sets a list here (None: not kept)."""
        self._file_counter = itertools.count(1)
        self._media_group_counter = itertools.count(13_000_000_000_000_001)
        self._message_counter = itertools.count(1)

    def now(self) -> int:
        return int(time.time() + self.clock_offset)

    def touch(self) -> None:
        """Tell waiters at the test side that something changed."""
        self.changed.notify()

    def conversation(self, key: ConvKey) -> Conversation:
        conv = self.conversations.get(key)
        if conv is None:
            conv = self.conversations[key] = Conversation(key, key[1])
        return conv

    def private_key(self, bot_id: int, user_id: int) -> ConvKey:
        return (bot_id, user_id)

    def group_key(self, chat_id: int) -> ConvKey:
        return (GROUP_KEY, chat_id)

    def new_message(self, conv: Conversation, sender: UserRecord) -> MessageRecord:
        record = MessageRecord(
            key=conv.key,
            chat_id=conv.chat_id,
            message_id=conv.next_message_id,
            sender_id=sender.id,
            sender_is_bot=sender.is_bot,
            date=self.now(),
            order=next(self._message_counter),
        )
        conv.next_message_id += 1
        conv.messages[record.message_id] = record
        return record

    def new_media_group_id(self) -> str:
        return str(next(self._media_group_counter))

    def store_file(
        self,
        kind: str,
        data: bytes,
        *,
        extension: str,
        width: int | None = None,
        height: int | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
        duration: int | None = None,
    ) -> FileRecord:
        number = next(self._file_counter)
        folder = {
            "photo": "photos",
            "voice": "voice",
            "video": "videos",
            "video_note": "video_notes",
        }.get(kind, "documents")
        record = FileRecord(
            kind=kind,
            data=data,
            unique_id="AQAD" + secrets.token_urlsafe(9),
            path=f"{folder}/file_{number}{extension}",
            width=width,
            height=height,
            file_name=file_name,
            mime_type=mime_type,
            duration=duration,
        )
        self.files_by_path[record.path] = record
        return record

    def store_photo(self, data: bytes, *, extension: str) -> FileRecord:
        """A person's photo message, kept in the sizes Telegram makes (`media.photo_sizes`)."""
        *smaller, (largest, width, height) = photo_sizes(data)
        records = [
            self.store_file("photo", small, extension=".jpg", width=w, height=h)
            for small, w, h in smaller
        ]
        own_extension = extension if largest is data else ".jpg"
        record = self.store_file(
            "photo", largest, extension=own_extension, width=width, height=height
        )
        record.smaller = tuple(records)
        return record

    def file_id_for(self, record: FileRecord, bot_id: int) -> str:
        """Each bot gets its own file_id for a file, as on Telegram."""
        file_id = record.file_ids.get(bot_id)
        if file_id is None:
            file_id = _FILE_ID_PREFIX.get(record.kind, "CAACAgQAAxkB") + secrets.token_urlsafe(48)
            record.file_ids[bot_id] = file_id
            self.files_by_id[file_id] = (record, bot_id)
        return file_id

    def push_update(self, bot: BotRecord, kind: str, build: Callable[[int], Update]) -> None:
        """Queue an update for ``bot`` unless its ``allowed_updates`` excludes the kind."""
        allowed = bot.allowed_updates
        if (allowed is None and kind in DEFAULT_EXCLUDED_UPDATES) or (
            allowed is not None and kind not in allowed
        ):
            return
        update_id = bot.next_update_id
        bot.next_update_id += 1
        bot.pending.append(build(update_id).to_dict())
        bot.updates_signal.notify()

    def confirm_updates(self, bot: BotRecord, offset: int) -> None:
        """getUpdates' ``offset``: forget what is below it, or keep the last -offset."""
        if offset < 0:
            del bot.pending[: max(len(bot.pending) + offset, 0)]
        else:
            bot.pending[:] = [u for u in bot.pending if _update_id(u) >= offset]


def commands_key(scope: object, language_code: str | None) -> str:
    """Where setMyCommands keeps a list: one per scope and language, as on Telegram."""
    return json.dumps([scope or {"type": "default"}, language_code or ""], sort_keys=True)


def _update_id(update: dict[str, object]) -> int:
    value = update["update_id"]
    assert isinstance(value, int)
    return value
