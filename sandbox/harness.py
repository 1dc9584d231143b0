"""The sandbox as a whole: an HTTP server the real client talks to, and the test-side API."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import TypeVar, overload

from aiohttp import web

from sandbox.errors import SandboxUsageError
from sandbox.faults import Faults
from sandbox.limits import RateLimiter, SandboxLimits
from sandbox.people import BotHandle, Group, Person
from sandbox.server import BOT_TOKEN, create_app
from sandbox.state import (
    BotRecord,
    ConvKey,
    GroupRecord,
    SandboxState,
    UserRecord,
    commands_key,
)
from sandbox.transcript import render_transcript
from sandbox.views import MessageView
from sandbox.waiting import wait_until
from sandbox.webhook import WebhookDispatcher

logger = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_TIMEOUT = 5.0
SUPERGROUP_PREFIX = "-100"


class BotApiSandbox:
    """A local Telegram Bot API. Point the client at :attr:`base_url` and :attr:`base_file_url`.

    Several bots (tokens) can share one sandbox, and with it its people and groups.
    """

    def __init__(
        self,
        *,
        limits: SandboxLimits | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        webhook_retry_delay: float = 0.2,
    ) -> None:
        self.state = SandboxState()
        self._limiter = RateLimiter(limits or SandboxLimits())
        self.faults = Faults()
        """Storms of 500s, hung calls and 429s a test raises over the API (`faults.py`)."""
        self._webhooks = WebhookDispatcher(self.state, retry_delay=webhook_retry_delay)
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> BotApiSandbox:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        app = create_app(self.state, self._limiter, self._webhooks, self.faults)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        address = self._runner.addresses[0]
        self._port = int(address[1])
        logger.info("Bot API sandbox listening on %s", self.url)

    async def stop(self) -> None:
        """Release long polls, stop webhook delivery and close the server."""
        self.state.stopping = True
        self.faults.calm()
        for bot in self.state.bots.values():
            bot.updates_signal.notify()
        await self._webhooks.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}"

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    @property
    def limits(self) -> SandboxLimits:
        return self._limiter.limits

    @limits.setter
    def limits(self, limits: SandboxLimits) -> None:
        """Swap limits at run time; counting starts afresh."""
        self._limiter.configure(limits)

    @property
    def flood_refusals(self) -> int:
        """How many requests were answered 429 for Telegram's flood limits so far."""
        return self._limiter.refusals

    def add_bot(self, token: str, username: str, first_name: str | None = None) -> BotHandle:
        if not BOT_TOKEN.fullmatch(token):
            raise SandboxUsageError(f"{token!r} is not shaped like a bot token (123:ABC)")
        bot_id = int(token.split(":", 1)[0])
        if token in self.state.bots_by_token or bot_id in self.state.users:
            raise SandboxUsageError(f"bot {bot_id} exists already")
        user = UserRecord(bot_id, first_name or username, username=username, is_bot=True)
        record = BotRecord(user, token)
        self.state.users[bot_id] = user
        self.state.bots[bot_id] = record
        self.state.bots_by_token[token] = record
        return BotHandle(bot_id, token, username, user.first_name)

    def user(
        self,
        user_id: int,
        first_name: str,
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
    ) -> Person:
        if user_id <= 0:
            raise SandboxUsageError("user ids are positive")
        existing = self.state.users.get(user_id)
        if existing is not None and existing.is_bot:
            raise SandboxUsageError(f"{user_id} is a bot")
        record = existing or UserRecord(
            user_id, first_name, last_name, username, language_code=language_code
        )
        self.state.users[user_id] = record
        return Person(self.state, record)

    def group(
        self,
        chat_id: int,
        title: str,
        members: Sequence[Person] = (),
        *,
        bots: Sequence[BotHandle] = (),
        admins: Sequence[Person] = (),
        owner: Person | None = None,
        username: str | None = None,
    ) -> Group:
        """A group as it already is: no join updates. Ids from -100... make a supergroup.

        ``bots`` are in it as administrators; use :meth:`Group.add_bot` to add one later
        with the updates Telegram sends.
        """
        if chat_id >= 0:
            raise SandboxUsageError("group ids are negative")
        kind = "supergroup" if str(chat_id).startswith(SUPERGROUP_PREFIX) else "group"
        record = self.state.groups.get(chat_id) or GroupRecord(chat_id, title, kind, username)
        for person in members:
            record.members[person.id] = "member"
        for person in admins:
            record.members[person.id] = "administrator"
        if owner is not None:
            record.members[owner.id] = "creator"
        for bot in bots:
            record.members[bot.id] = "administrator"
        self.state.groups[chat_id] = record
        return Group(self.state, record)

    def kick_bot(self, bot: BotHandle, group: Group, *, by: Person | None = None) -> None:
        group.kick_bot(bot, by=by)

    def _key(self, bot: BotHandle | None, chat: Person | Group | int) -> ConvKey:
        chat_id = chat if isinstance(chat, int) else chat.id
        if chat_id < 0:
            return self.state.group_key(chat_id)
        if bot is None:
            raise SandboxUsageError("a private chat needs its bot")
        return self.state.private_key(bot.id, chat_id)

    def chat_messages(
        self, bot: BotHandle | None, chat: Person | Group | int, *, after: int = 0
    ) -> list[MessageView]:
        """Every message the chat holds now, deleted ones flagged; ``bot`` only for private.

        `after`: only those with a later message id, read from the newest back, so a
        benchmark waiting for its next copies in chats that hold thousands pays for the
        new ones alone (the wait re-reads on every request the bot makes)."""
        conv = self.state.conversations.get(self._key(bot, chat))
        if conv is None:
            return []
        if not after:
            return [MessageView.of(record) for record in conv.messages.values()]
        newer = itertools.takewhile(
            lambda r: r.message_id > after, reversed(conv.messages.values())
        )
        return [MessageView.of(record) for record in reversed(list(newer))]

    def last_message_id(self, bot: BotHandle | None, chat: Person | Group | int) -> int:
        """The newest message id in the chat (0 if none): where `chat_messages(after=)` starts."""
        conv = self.state.conversations.get(self._key(bot, chat))
        return next(reversed(conv.messages), 0) if conv else 0

    def refresh(self, message: MessageView) -> MessageView:
        """The same message as it is now (after edits or deletion)."""
        record = self.state.conversations[message.chat_key].messages[message.message_id]
        return MessageView.of(record)

    def downloads(self, message: MessageView) -> dict[tuple[int, int] | str, int]:
        """How often a bot fetched the file of a person's message: a photo's by the size
        (width, height) of each of its sizes, a document's under its file name."""
        record = self.state.conversations[message.chat_key].messages[message.message_id]
        if record.photo is not None:
            return {(f.width or 0, f.height or 0): f.downloads for f in record.photo.sizes}
        if record.document is not None:
            return {record.document.file_name or "": record.document.downloads}
        return {}

    async def download(self, file_id: str) -> bytes:
        entry = self.state.files_by_id.get(file_id)
        if entry is None:
            raise SandboxUsageError(f"no file with id {file_id!r}")
        return entry[0].data

    @overload
    async def wait_for(
        self,
        predicate: Callable[[], Awaitable[T | None]],
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - a wait on the bot, not I/O
        *,
        message: str = "condition not met",
    ) -> T: ...

    @overload
    async def wait_for(
        self,
        predicate: Callable[[], T | None],
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - a wait on the bot, not I/O
        *,
        message: str = "condition not met",
    ) -> T: ...

    async def wait_for(
        self,
        predicate: Callable[[], T | Awaitable[T | None] | None],
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - a wait on the bot, not I/O
        *,
        message: str = "condition not met",
    ) -> T:
        """Wait until ``predicate()`` (sync or async) is truthy and return its value."""
        return await wait_until(self.state, predicate, timeout, lambda: message)

    def advance_time(self, seconds: float) -> None:
        """Move the sandbox clock on: later messages are dated later, older ones age."""
        self.state.clock_offset += seconds

    def pending_updates(self, bot: BotHandle) -> int:
        """Updates queued for ``bot`` and not yet confirmed (or delivered to its webhook)."""
        return len(self.state.bots[bot.id].pending)

    def polls_received(self, bot: BotHandle) -> int:
        """How many getUpdates calls of ``bot`` have reached the sandbox: a test that starts
        a long poll waits for this to grow, rather than for time to pass."""
        return self.state.bots[bot.id].poll_generation

    def commands(
        self, bot: BotHandle, scope: dict[str, object] | None = None
    ) -> list[tuple[str, str]]:
        """The command list the bot set with setMyCommands for `scope` (a BotCommandScope
        as JSON, e.g. {"type": "chat", "chat_id": 42}); the default scope without one."""
        return list(self.state.bots[bot.id].commands.get(commands_key(scope, None), []))

    def webhook_url(self, bot: BotHandle) -> str | None:
        hook = self.state.bots[bot.id].webhook
        return hook.url if hook else None

    def transcript(self) -> str:
        """Every chat and what it holds, in order; presses and answers under their message."""
        return render_transcript(self.state)
