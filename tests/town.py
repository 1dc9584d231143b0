"""A town in a line: the sandbox, the bot running for real against it, and its people.

Tests read like a user's story: `town.coordinator` sends `/start`, the test reads
what her chat holds. The bot is the unmodified python-telegram-bot Application
built by `bot.app`, talking HTTP to the sandbox.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import socket
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import telegram
from telegram import ChatMemberUpdated, Update

from bot.plugins.radio import RadioPlugin
from bot.runtime import BotRuntime
from bot.senders import telegram_senders
from broadcast.metrics import Metrics
from broadcast.outbox import IDLE_POLL_SECONDS, OutboxWorker
from broadcast.radio.bridge import RadioBridge
from broadcast.texts import membership as membership_texts
from config.schemes import SchemesFile, load_schemes
from config.settings import Settings
from config.vocabulary import MemberStatus, Role
from sandbox import (
    BotApiSandbox,
    BotHandle,
    Group,
    MessageView,
    Person,
    SandboxLimits,
    dispatch,
    render,
)
from sandbox.state import CallbackRecord, PressRecord
from storage.models import Member
from storage.photos import PhotoStore
from storage.store import Store

EXAMPLE_SCHEMES = Path(__file__).resolve().parent.parent / "schemes.example.toml"
BOT_TOKEN = "5550001:sandbox-token-norwich"
WEBHOOK_SECRET = "test-webhook-secret"


def listening_socket() -> socket.socket:
    """A socket bound now to a free port of 127.0.0.1, to hand to the bot's web server: the
    port is known before the bot starts (for a webhook URL, or a peer's address), and no
    other process can take it meanwhile."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def free_port() -> int:
    """A port free a moment ago, only for another process that binds it itself and takes no
    socket (an installed `shopwatch`'s settings): it can be taken meanwhile. In this
    process, hand the web server a `listening_socket()` instead."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_of(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


@contextmanager
def closed_port() -> Iterator[int]:
    """A port of 127.0.0.1 where nothing answers, for as long as the block runs: bound by
    the test and never listening, so a connection is refused and nobody else can take it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield port_of(sock)


@dataclass
class Town:
    """Norwich ShopWatch as the example schemes file declares it, with its bot running."""

    sandbox: BotApiSandbox
    bot: BotHandle
    runtime: BotRuntime
    schemes: SchemesFile
    coordinator: Person
    group: Group
    control_room: Group

    def person(self, user_id: int, first_name: str) -> Person:
        return self.sandbox.user(user_id, first_name)

    def chat(self, where: Person | Group) -> list[str]:
        """What a chat shows now, message by message (text or caption)."""
        return [m.body for m in self.sandbox.chat_messages(self.bot, where) if not m.deleted]

    def bot_said(self, where: Person | Group) -> list[str]:
        """Only what the bot posted in that chat and still shows."""
        return [
            m.body
            for m in self.sandbox.chat_messages(self.bot, where)
            if m.from_bot and not m.deleted
        ]

    # --- membership: get people into the scheme the way they really join -------------------

    def coordinator_of(self, scheme: str) -> Person:
        """The first coordinator the schemes file lists for `scheme`: Carol for Norwich."""
        if scheme == "norwich":
            return self.coordinator
        config = self.schemes.scheme(scheme)
        return self.person(config.coordinators[0], f"Coordinator of {config.name}")

    def _last_message_id(self, where: Person | Group) -> int:
        messages = self.sandbox.chat_messages(self.bot, where)
        return messages[-1].message_id if messages else 0

    async def bot_message_after(
        self,
        where: Person | Group,
        after: int,
        matching: Callable[[MessageView], bool] = lambda _: True,
        *,
        what: str = "a message from the bot",
    ) -> MessageView:
        """The first bot message in that chat newer than message `after` that matches.

        Unlike `Person.next_reply` it moves no read cursor, so it can wait for one
        particular message (a card from the outbox) among others.
        """

        def probe() -> MessageView | None:
            for message in self.sandbox.chat_messages(self.bot, where):
                if message.message_id > after and message.from_bot and matching(message):
                    return message
            return None

        return await self.sandbox.wait_for(probe, message=f"{what} never came")

    async def _say(self, person: Person, text: str) -> MessageView:
        sent = await person.send(self.bot, text)
        return await self.bot_message_after(person, sent.message_id, what=f"an answer to {text!r}")

    async def invite(
        self, role: Role = Role.MEMBER, *, scheme: str = "norwich", by: Person | None = None
    ) -> str:
        """The scheme's coordinator sends /invite; returns the code of the deep link she gets.

        Like every helper here, it leaves the chats it drove read: a test's next
        `next_reply` is about what the test does next.
        """
        coordinator = by or self.coordinator_of(scheme)
        command = "/invite" if role is Role.MEMBER else f"/invite {role}"
        reply = await self._say(coordinator, command)
        coordinator.skip_replies(self.bot)
        found = re.search(r"\?start=([A-Za-z0-9_-]+)", reply.body)
        if found is None:
            raise AssertionError(f"{command} gave no invite link: {reply.body!r}")
        return found.group(1)

    async def apply(
        self,
        person: Person,
        code: str,
        *,
        shop: str | None = None,
        street: str = "London Street",
    ) -> MessageView:
        """`person` opens the invite link, answers the questions and agrees: now pending.

        Returns the bot's last answer ("your request has gone to the coordinator", or
        why not).
        """
        await self._say(person, f"/start {code}")
        await self._say(person, person.name)
        await self._say(person, shop or f"{person.first_name}'s Shop")
        agreement = await self._say(person, street)
        if membership_texts.BUTTON_AGREE not in agreement.button_texts:
            raise AssertionError(f"expected the agreement, got {agreement.body!r}")
        last = self._last_message_id(person)
        await person.press(agreement, membership_texts.BUTTON_AGREE)
        answer = await self.bot_message_after(person, last, what="the answer to I agree")
        person.skip_replies(self.bot)
        return answer

    async def approval_card(self, person: Person, coordinator: Person) -> MessageView:
        """The undecided card about `person` in that coordinator's chat (waits for it)."""

        def probe() -> MessageView | None:
            for message in reversed(self.sandbox.chat_messages(self.bot, coordinator)):
                if (
                    message.from_bot
                    and message.body.startswith("Request to join")
                    and f"id {person.id}\n" in message.body
                    and membership_texts.BUTTON_APPROVE in message.button_texts
                ):
                    return message
            return None

        return await self.sandbox.wait_for(
            probe, message=f"{coordinator.name} got no approval card for {person.name}"
        )

    async def join(
        self,
        person: Person,
        role: Role = Role.MEMBER,
        *,
        scheme: str = "norwich",
        shop: str | None = None,
        street: str = "London Street",
        by: Person | None = None,
    ) -> Member:
        """Make `person` an active `role` of `scheme` the way people really join, in one line.

        The coordinator (`by`, else the scheme's first) sends /invite; `person` opens
        the link, answers name, shop and street, agrees; the coordinator presses
        Approve on the card and `person` gets the welcome. Afterwards both chats
        count as read, so a test's next `next_reply` is about what it does next.
        """
        coordinator = by or self.coordinator_of(scheme)
        config = self.schemes.scheme(scheme)
        code = await self.invite(role, scheme=scheme, by=coordinator)
        await self.apply(person, code, shop=shop, street=street)
        card = await self.approval_card(person, coordinator)
        last = self._last_message_id(person)
        await coordinator.press(card, membership_texts.BUTTON_APPROVE)
        welcome = membership_texts.welcome_approved(config.name, role)
        await self.bot_message_after(person, last, lambda m: m.body == welcome, what="welcome")
        if config.guards_chats:
            await self.join_links(person, after=last)
        person.skip_replies(self.bot)
        coordinator.skip_replies(self.bot)
        scheme_row = await self.runtime.store.schemes.get_by_slug(scheme)
        assert scheme_row.id is not None
        member = await self.runtime.store.members.get(scheme_row.id, person.id)
        assert member is not None
        assert member.status == MemberStatus.ACTIVE
        return member

    async def join_links(self, person: Person, *, after: int = 0) -> dict[str, str]:
        """The newest personal join links the bot sent `person` (after message `after`), by
        chat: "the group", and for the control room's people "the control room"."""

        def newest() -> MessageView | None:
            for message in reversed(self.sandbox.chat_messages(self.bot, person)):
                if message.message_id <= after:
                    return None
                if message.from_bot and message.body.startswith("Your personal links"):
                    return message
            return None

        found = await self.sandbox.wait_for(newest, message=f"{person.name} got no join links")
        pattern = r"^(the group|the control room): (https://t\.me/\+\S+)$"
        return dict(re.findall(pattern, found.body, re.MULTILINE))

    async def enters(self, person: Person, group: Group, link: str) -> None:
        """`person` opens their link and asks to join; the bot lets them in."""
        assert await person.ask_to_join(link) == "requested"
        await self.sandbox.wait_for(
            lambda: group.holds(person) or None,
            message=f"{person.name} was not let into {group.title!r}",
        )

    # --- what Telegram can send that the sandbox's people do not -------------------------

    async def press_forged(
        self, person: Person, data: str, *, on: MessageView | None = None
    ) -> str | None:
        """A modified client's press: callback `data` of its choosing, on a bot message in
        its own chat (the newest one unless `on` says). Returns the bot's answer text.

        `Person.press` only presses buttons that exist; Telegram passes on whatever
        data a client sends, so this is what replayed and forged buttons look like.
        """
        if on is None:
            mine = [m for m in self.sandbox.chat_messages(self.bot, person) if m.from_bot]
            if not mine:
                raise AssertionError(f"{person.name} has no message from the bot to press on")
            on = mine[-1]
        state = self.sandbox.state
        record = state.conversations[on.chat_key].messages[on.message_id]
        press = PressRecord(person.id, record.message_id, "(forged)")
        callback = CallbackRecord(
            id=str(secrets.randbits(63)),
            bot_id=self.bot.id,
            user_id=person.id,
            data=data,
            press=press,
            answer=asyncio.get_running_loop().create_future(),
        )
        state.callbacks[callback.id] = callback
        state.conversations[record.key].presses.append(press)
        dispatch.callback_pressed(state, callback, record)
        answer = await asyncio.wait_for(callback.answer, 5.0)
        person.last_answer = answer
        return answer.text

    def joins_by_link(self, group: Group, person: Person) -> None:
        """`person` joins `group` through its link, reported as Telegram reports it to an
        administrator bot: a chat_member update (`Group.add_member` sends the service
        message instead)."""
        state = self.sandbox.state
        members = state.groups[group.id].members
        old = members.get(person.id, "left")
        members[person.id] = "member"
        change = ChatMemberUpdated(
            chat=render.chat(state, group.id),
            from_user=render.user(state.users[person.id]),
            date=render.timestamp(state.now()),
            old_chat_member=render.member(state, old, person.id),
            new_chat_member=render.member(state, "member", person.id),
        )
        state.push_update(
            state.bots[self.bot.id], "chat_member", lambda uid: Update(uid, chat_member=change)
        )
        state.touch()


def telegram_worker(
    bot: telegram.Bot,
    store: Store,
    photos: PhotoStore,
    data_dir: Path,
    schemes: SchemesFile,
    *,
    processes: int = 1,
    idle_poll_seconds: float = IDLE_POLL_SECONDS,
) -> OutboxWorker:
    """An outbox worker of its own, sending through `bot` with the bot's Telegram senders."""
    worker = OutboxWorker(
        store, metrics=Metrics(), processes=processes, idle_poll_seconds=idle_poll_seconds
    )
    senders = telegram_senders(bot, store, photos, data_dir, schemes, wake=worker.wake)
    for kind, sender in senders.items():
        worker.register(kind, sender)
    return worker


def radio_of(town: Town) -> RadioBridge | None:
    """The town's radio bridge, when a scheme of it has its radio on."""
    radio = town.runtime.plugin(RadioPlugin)
    return None if radio is None else radio.bridge


def town_settings(
    sandbox: BotApiSandbox,
    directory: Path,
    *,
    webhook_port: int | None = None,
    **overrides: object,
) -> Settings:
    """The settings of a town's bot; with `webhook_port`, it takes updates by webhook there."""
    values: dict[str, object] = {
        "bot_token": BOT_TOKEN,
        "telegram_api_url": sandbox.base_url,
        "telegram_file_url": sandbox.base_file_url,
        "database_url": f"sqlite+aiosqlite:///{directory / 'shopwatch.db'}",
        "schemes_file": EXAMPLE_SCHEMES,
        "data_dir": directory / "data",
        "listen_host": "127.0.0.1",
        "listen_port": 0,
    }
    if webhook_port is not None:
        values |= {
            "webhook_url": f"http://127.0.0.1:{webhook_port}/telegram",
            "webhook_secret": WEBHOOK_SECRET,
            "listen_port": webhook_port,
        }
    values |= overrides
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@asynccontextmanager
async def running_town(
    directory: Path,
    *,
    webhook: bool = False,
    limits: SandboxLimits | None = None,
    schemes: SchemesFile | None = None,
    database_url: str | None = None,
    settings: Mapping[str, Any] | None = None,
) -> AsyncIterator[Town]:
    """`database_url` puts the log elsewhere than a SQLite file in `directory`; `settings`
    are more of the bot's settings."""
    schemes = schemes or load_schemes(EXAMPLE_SCHEMES)
    norwich = schemes.scheme("norwich")
    async with BotApiSandbox(limits=limits or SandboxLimits.off()) as sandbox:
        bot = sandbox.add_bot(BOT_TOKEN, "shopwatch_bot", "ShopWatch")
        coordinator = sandbox.user(norwich.coordinators[0], "Carol", username="carol_coord")
        group = sandbox.group(
            norwich.group_chat_id, norwich.name, members=[coordinator], bots=[bot]
        )
        control_room = sandbox.group(
            norwich.control_room_chat_id, f"{norwich.name} control room", bots=[bot]
        )
        for other in schemes.schemes[1:]:
            sandbox.group(other.group_chat_id, other.name, bots=[bot])
            sandbox.group(other.control_room_chat_id, f"{other.name} control room", bots=[bot])
        overrides = {} if database_url is None else {"database_url": database_url}
        overrides |= settings or {}
        listen = listening_socket() if webhook else None
        runtime = BotRuntime(
            town_settings(
                sandbox, directory, webhook_port=port_of(listen) if listen else None, **overrides
            ),
            schemes,
            listen_socket=listen,
        )
        await runtime.start()
        try:
            yield Town(sandbox, bot, runtime, schemes, coordinator, group, control_room)
        finally:
            await runtime.stop()
