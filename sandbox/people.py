"""The test side: people and groups that act as Telegram users would, so tests read as stories.

Everything a person does becomes the update Telegram would deliver to the bots that see it:
sending in a private chat reaches that bot, sending in a group reaches every bot in the group.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, replace

from telegram import InlineKeyboardButton, MenuButtonWebApp

from sandbox import dispatch
from sandbox.errors import ApiError, SandboxTimeoutError, SandboxUsageError
from sandbox.formatting import detect_entities
from sandbox.media import image_size
from sandbox.state import (
    AdminRights,
    CallbackAnswer,
    CallbackRecord,
    Conversation,
    ConvKey,
    GroupRecord,
    MessageRecord,
    PressRecord,
    SandboxState,
    UserRecord,
)
from sandbox.views import MessageView
from sandbox.waiting import wait_until
from sandbox.web_apps import WebAppLaunch, init_data_for, launch

DEFAULT_TIMEOUT = 5.0
ALBUM_MAX = 10
"""Telegram's largest album."""


@dataclass(frozen=True)
class BotHandle:
    """A bot registered in the sandbox; pass ``token`` to the client under test."""

    id: int
    token: str
    username: str
    first_name: str

    @property
    def mention(self) -> str:
        return f"@{self.username}"


class Group:
    """A group or supergroup shared by every bot that is a member."""

    def __init__(self, state: SandboxState, record: GroupRecord) -> None:
        self._state = state
        self._record = record

    @property
    def id(self) -> int:
        return self._record.id

    @property
    def title(self) -> str:
        return self._record.title

    @property
    def type(self) -> str:
        return self._record.type

    def status(self, member: Person | BotHandle) -> str:
        """``creator``, ``administrator``, ``member``, ``left`` or ``kicked``."""
        return self._record.members.get(member.id, "left")

    def _actor(self, by: Person | None) -> UserRecord:
        if by is not None:
            return self._state.users[by.id]
        for member_id, status in self._record.members.items():
            user = self._state.users[member_id]
            if not user.is_bot and status in {"creator", "administrator"}:
                return user
        for member_id in self._record.members:
            user = self._state.users[member_id]
            if not user.is_bot and self._record.is_active(member_id):
                return user
        raise SandboxUsageError(f"nobody in {self.title!r} could do that; pass by=<person>")

    def _service_message(self, actor: UserRecord) -> MessageRecord:
        conv = self._state.conversation(self._state.group_key(self.id))
        return self._state.new_message(conv, actor)

    def add_member(self, person: Person, *, admin: bool = False) -> None:
        """``person`` joins; bots in the group see the ``new_chat_members`` message."""
        self._record.members[person.id] = "administrator" if admin else "member"
        record = self._service_message(self._state.users[person.id])
        record.new_chat_members = (person.id,)
        dispatch.message_posted(self._state, record)

    def remove_member(self, person: Person) -> None:
        self._record.members[person.id] = "left"
        record = self._service_message(self._state.users[person.id])
        record.left_chat_member = person.id
        dispatch.message_posted(self._state, record)

    def add_bot(self, bot: BotHandle, *, admin: bool = True, by: Person | None = None) -> None:
        """Add ``bot`` as Telegram would: a my_chat_member update, then the join message.

        Bots join as administrators by default, which is how ShopWatch groups are run;
        ``admin=False`` makes a plain member that cannot delete people's messages.
        """
        actor = self._actor(by)
        old = self._record.members.get(bot.id, "left")
        new = "administrator" if admin else "member"
        self._record.members[bot.id] = new
        dispatch.membership_changed(
            self._state,
            self._state.bots[bot.id],
            chat_id=self.id,
            by_user_id=actor.id,
            change=(old, new),
        )
        record = self._service_message(actor)
        record.new_chat_members = (bot.id,)
        dispatch.message_posted(self._state, record)

    def people(self) -> dict[int, str]:
        """Who the chat holds now, by user id: ``creator``, ``administrator``, ``member``,
        ``kicked`` (banned) or ``left``; everyone the chat has ever seen is listed."""
        return dict(self._record.members)

    def holds(self, person: Person) -> bool:
        """``person`` is in the chat now (a member, administrator or owner)."""
        return self._record.is_active(person.id)

    def set_bot_rights(self, bot: BotHandle, *, by: Person | None = None, **rights: bool) -> None:
        """Change what administrator ``bot`` may do (``can_restrict_members=False``...), as
        the chat's owner would; the bot gets a my_chat_member update."""
        if self._record.members.get(bot.id) != "administrator":
            raise SandboxUsageError(f"{bot.mention} is not an administrator of {self.title!r}")
        actor = self._actor(by)
        current = self._record.rights.get(bot.id) or AdminRights()
        for name in rights:
            if not hasattr(current, name):
                raise SandboxUsageError(f"no administrator right {name!r}")
        self._record.rights[bot.id] = replace(current, **rights)
        dispatch.membership_changed(
            self._state,
            self._state.bots[bot.id],
            chat_id=self.id,
            by_user_id=actor.id,
            change=("administrator", "administrator"),
        )

    def kick_bot(self, bot: BotHandle, *, by: Person | None = None) -> None:
        """Remove ``bot``; it gets a my_chat_member update and 403 on its next send here."""
        actor = self._actor(by)
        old = self._record.members.get(bot.id, "left")
        self._record.members[bot.id] = "kicked"
        dispatch.membership_changed(
            self._state,
            self._state.bots[bot.id],
            chat_id=self.id,
            by_user_id=actor.id,
            change=(old, "kicked"),
        )


Target = BotHandle | Group


class Person:
    """Someone with a Telegram account, able to talk to bots and in groups."""

    def __init__(self, state: SandboxState, record: UserRecord) -> None:
        self._state = state
        self._record = record
        self._cursors: dict[ConvKey, int] = {}
        self.last_answer: CallbackAnswer | None = None

    def __repr__(self) -> str:
        return f"Person({self.id}, {self.name!r})"

    @property
    def id(self) -> int:
        return self._record.id

    @property
    def name(self) -> str:
        return self._record.display_name

    @property
    def first_name(self) -> str:
        return self._record.first_name

    @property
    def username(self) -> str | None:
        return self._record.username

    def _key(self, where: Target) -> ConvKey:
        if isinstance(where, BotHandle):
            if where.id not in self._state.bots:
                raise SandboxUsageError(f"{where.mention} is not in this sandbox")
            return self._state.private_key(where.id, self.id)
        return self._state.group_key(where.id)

    def _conversation(self, where: Target) -> Conversation:
        """The chat to write in; writing to a blocked bot unblocks it, as the app does."""
        if isinstance(where, Group):
            group = self._state.groups[where.id]
            if not group.is_active(self.id):
                raise SandboxUsageError(f"{self.name} is not a member of {group.title!r}")
        else:
            self.open_chat(where)
            if where.id in self._record.blocked_bots:
                self.unblock(where)
        return self._state.conversation(self._key(where))

    def open_chat(self, bot: BotHandle) -> None:
        """Mark the private chat as started long ago (no update), so the bot may write first."""
        self._state.conversation(self._key(bot)).opened = True

    def block(self, bot: BotHandle) -> None:
        """Block ``bot``: it is told via my_chat_member and gets 403 on its next send."""
        if bot.id in self._record.blocked_bots:
            return
        self._record.blocked_bots.add(bot.id)
        dispatch.membership_changed(
            self._state,
            self._state.bots[bot.id],
            chat_id=self.id,
            by_user_id=self.id,
            change=("member", "kicked"),
        )

    def unblock(self, bot: BotHandle) -> None:
        if bot.id not in self._record.blocked_bots:
            return
        self._record.blocked_bots.discard(bot.id)
        dispatch.membership_changed(
            self._state,
            self._state.bots[bot.id],
            chat_id=self.id,
            by_user_id=self.id,
            change=("kicked", "member"),
        )

    async def _post(self, record: MessageRecord) -> MessageView:
        dispatch.message_posted(self._state, record)
        await asyncio.sleep(0)
        return MessageView.of(record)

    def _new(self, where: Target, reply_to: MessageView | int | None) -> MessageRecord:
        conv = self._conversation(where)
        wanted = reply_to.message_id if isinstance(reply_to, MessageView) else reply_to
        if wanted is not None and wanted not in conv.messages:
            raise SandboxUsageError(f"no message {wanted} to reply to")
        record = self._state.new_message(conv, self._record)
        record.reply_to = wanted
        return record

    async def send(
        self, where: Target, text: str, *, reply_to: MessageView | int | None = None
    ) -> MessageView:
        """Send text (or a /command) to a bot's private chat or to a group."""
        if not text.strip():
            raise SandboxUsageError("Telegram apps do not send empty messages")
        record = self._new(where, reply_to)
        record.text = text
        record.entities = detect_entities(text)
        return await self._post(record)

    async def send_photo(
        self,
        where: Target,
        data: bytes,
        caption: str | None = None,
        *,
        reply_to: MessageView | int | None = None,
    ) -> MessageView:
        _, _, extension = _image_size(data)
        record = self._new(where, reply_to)
        record.photo = self._state.store_photo(data, extension=extension)
        if caption:
            record.caption = caption
            record.caption_entities = detect_entities(caption)
        return await self._post(record)

    async def send_document(
        self,
        where: Target,
        data: bytes,
        file_name: str,
        caption: str | None = None,
        *,
        mime_type: str = "application/octet-stream",
    ) -> MessageView:
        record = self._new(where, None)
        suffix = file_name[file_name.rfind(".") :] if "." in file_name else ""
        record.document = self._state.store_file(
            "document", data, extension=suffix, file_name=file_name, mime_type=mime_type
        )
        if caption:
            record.caption = caption
            record.caption_entities = detect_entities(caption)
        return await self._post(record)

    async def send_album(
        self, where: Target, photos: Sequence[bytes], caption: str | None = None
    ) -> list[MessageView]:
        """Photos sent together, as the app sends an album: one message (one update) a
        photo, back to back, sharing a ``media_group_id``; the caption is on the first."""
        if not 2 <= len(photos) <= ALBUM_MAX:
            raise SandboxUsageError(f"an album holds 2 to {ALBUM_MAX} items")
        group = self._state.new_media_group_id()
        sent: list[MessageView] = []
        for number, data in enumerate(photos):
            _, _, extension = _image_size(data)
            record = self._new(where, None)
            record.photo = self._state.store_photo(data, extension=extension)
            record.media_group_id = group
            if caption and number == 0:
                record.caption = caption
                record.caption_entities = detect_entities(caption)
            sent.append(await self._post(record))
        return sent

    async def send_video(
        self,
        where: Target,
        data: bytes,
        caption: str | None = None,
        *,
        width: int = 640,
        height: int = 480,
        duration: int = 1,
        file_name: str = "video.mp4",
    ) -> MessageView:
        """A video as the app sends one (an MP4 it has compressed), with its size and length
        as the app reports them (the sandbox does not decode it)."""
        record = self._new(where, None)
        record.video = self._state.store_file(
            "video",
            data,
            extension=".mp4",
            width=width,
            height=height,
            file_name=file_name,
            mime_type="video/mp4",
            duration=duration,
        )
        if caption:
            record.caption = caption
            record.caption_entities = detect_entities(caption)
        return await self._post(record)

    async def send_video_note(
        self, where: Target, data: bytes, *, length: int = 384, duration: int = 1
    ) -> MessageView:
        """A round video message: square, no caption (the app offers none)."""
        record = self._new(where, None)
        record.video_note = self._state.store_file(
            "video_note", data, extension=".mp4", width=length, height=length, duration=duration
        )
        return await self._post(record)

    async def send_voice(self, where: Target, data: bytes, *, duration: int = 1) -> MessageView:
        record = self._new(where, None)
        record.voice = self._state.store_file(
            "voice", data, extension=".oga", mime_type="audio/ogg", duration=duration
        )
        return await self._post(record)

    async def send_location(self, where: Target, latitude: float, longitude: float) -> MessageView:
        record = self._new(where, None)
        record.location = (latitude, longitude)
        return await self._post(record)

    async def edit(self, message: MessageView, text: str) -> MessageView:
        """Edit one of her own text messages; bots get an ``edited_message`` update."""
        record = self._record_of(message)
        if record.sender_id != self.id or record.text is None:
            raise SandboxUsageError("people can only edit their own text messages")
        record.text = text
        record.entities = detect_entities(text)
        record.edit_date = self._state.now()
        record.edits += 1
        dispatch.message_posted(self._state, record, edited=True)
        await asyncio.sleep(0)
        return MessageView.of(record)

    def _record_of(self, message: MessageView) -> MessageRecord:
        conv = self._state.conversations.get(message.chat_key)
        record = conv.messages.get(message.message_id) if conv else None
        if record is None or record.deleted:
            raise SandboxUsageError(f"message {message.message_id} is gone")
        return record

    def _button(self, record: MessageRecord, label: str) -> InlineKeyboardButton:
        markup = record.reply_markup
        buttons = [b for row in markup.inline_keyboard for b in row] if markup else []
        for button in buttons:
            if label in (button.text, button.callback_data):
                return button
        raise SandboxUsageError(
            f"message {record.message_id} has no button {label!r}; "
            f"it has {[b.text for b in buttons]}"
        )

    async def press(
        self,
        message: MessageView,
        button: str,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - a wait on the bot, not I/O
    ) -> str | None:
        """Press an inline button (by text or callback_data) on the message as it is NOW.

        Waits for the bot's answerCallbackQuery and returns its text (None when answered
        without text; the full answer is in ``last_answer``). ``timeout=None`` returns at
        once. An unanswered query raises, since a Telegram app would show a stuck spinner;
        an answer after the timeout is refused as "query is too old", as on Telegram.
        """
        record = self._record_of(message)
        if record.key[0] == 0 and not self._state.groups[record.chat_id].is_active(self.id):
            raise SandboxUsageError(f"{self.name} is not in the chat of that message")
        if record.key[0] != 0 and record.key[1] != self.id:
            raise SandboxUsageError(f"{self.name} cannot see someone else's private chat")
        chosen = self._button(record, button)
        if chosen.callback_data is None:
            raise SandboxUsageError(f"button {chosen.text!r} is not a callback button")
        if not record.sender_is_bot:
            raise SandboxUsageError("only bots' messages carry inline keyboards")
        press = PressRecord(self.id, record.message_id, chosen.text)
        callback = CallbackRecord(
            id=str(secrets.randbits(63)),
            bot_id=record.sender_id,
            user_id=self.id,
            data=str(chosen.callback_data),
            press=press,
            answer=asyncio.get_running_loop().create_future(),
        )
        self._state.callbacks[callback.id] = callback
        self._state.conversations[record.key].presses.append(press)
        dispatch.callback_pressed(self._state, callback, record)
        if timeout is None:
            await asyncio.sleep(0)
            return None
        try:
            answer = await asyncio.wait_for(callback.answer, timeout)
        except TimeoutError:
            bot = self._state.users[record.sender_id].display_name
            raise SandboxTimeoutError(
                f"{bot} did not answer the press of {chosen.text!r} within {timeout}s"
            ) from None
        self.last_answer = answer
        return answer.text

    def open_web_app(
        self, message: MessageView, button: str, *, theme: str = "light"
    ) -> WebAppLaunch:
        """Tap a web-app button (by text) on a bot's message in my private chat: the page
        to load, with `initData` signed for that bot as Telegram signs it."""
        record = self._record_of(message)
        if record.key[0] == 0 or record.key[1] != self.id:
            raise SandboxUsageError("web-app buttons open only in one's own private chat")
        chosen = self._button(record, button)
        if chosen.web_app is None:
            raise SandboxUsageError(f"button {chosen.text!r} is not a web-app button")
        return self._launch(record.sender_id, chosen.web_app.url, theme)

    def open_menu_app(self, bot: BotHandle, *, theme: str = "light") -> WebAppLaunch:
        """Tap the menu button of my chat with `bot`, where the bot made it a web app."""
        record = self._state.bots[bot.id]
        button = record.menu_buttons.get(self.id, record.menu_buttons.get(None))
        if not isinstance(button, MenuButtonWebApp):
            raise SandboxUsageError(f"{bot.mention}'s menu button in this chat opens no web app")
        return self._launch(bot.id, button.web_app.url, theme)

    def _launch(self, bot_id: int, url: str, theme: str) -> WebAppLaunch:
        token = self._state.bots[bot_id].token
        return launch(url, init_data_for(token, self._record, self._state.now()), theme)

    async def next_reply(
        self,
        where: Target,
        *,
        from_bot: BotHandle | None = None,
        timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - a wait on the bot, not I/O
    ) -> MessageView:
        """The next bot message in that chat she has not yet read through this method.

        Messages are consumed in order, so two replies to one command come out one per call.
        In a group, ``from_bot`` picks one bot's messages (skipping others' unread ones).
        """
        key = self._key(where)

        def probe() -> MessageRecord | None:
            conv = self._state.conversations.get(key)
            last = self._cursors.get(key, 0)
            for record in conv.messages.values() if conv else ():
                if (
                    record.message_id > last
                    and record.sender_is_bot
                    and (from_bot is None or record.sender_id == from_bot.id)
                ):
                    return record
            return None

        def describe() -> str:
            return f"no new bot message for {self.name} in {_describe_target(where)}"

        found = await wait_until(self._state, probe, timeout, describe)
        self._cursors[key] = found.message_id
        return MessageView.of(found)

    async def ask_to_join(self, link: str) -> str:
        """Open an invite link as the app does: ``"requested"`` for a link that makes a join
        request (the group's administrator bots get a chat_join_request), ``"joined"`` for
        a plain link; ``"expired"`` for a revoked or expired link, ``"banned"`` when banned
        from the chat, ``"member"`` when already in it. Nothing changes but the request."""
        found = [
            (group, group.links[link])
            for group in self._state.groups.values()
            if link in group.links
        ]
        if not found:
            raise SandboxUsageError(f"{link!r} is no invite link of this sandbox")
        group, record = found[0]
        expired = record.expire_date is not None and record.expire_date <= self._state.now()
        full = record.member_limit is not None and record.joined >= record.member_limit
        status = group.members.get(self.id, "left")
        if record.revoked or expired or full:
            answer = "expired"
        elif status == "kicked":
            answer = "banned"
        elif group.is_active(self.id):
            answer = "member"
        elif record.creates_join_request:
            group.join_requests[self.id] = link
            dispatch.join_requested(self._state, group, self.id, record)
            answer = "requested"
        else:
            record.joined += 1
            dispatch.joined(self._state, group, self.id, record)
            answer = "joined"
        await asyncio.sleep(0)
        return answer

    def skip_replies(self, where: Target) -> None:
        """Mark everything so far as read, so next_reply waits for something new."""
        conv = self._state.conversations.get(self._key(where))
        if conv is not None and conv.messages:
            self._cursors[conv.key] = max(conv.messages)


def _image_size(data: bytes) -> tuple[int, int, str]:
    try:
        return image_size(data)
    except ApiError as error:
        raise SandboxUsageError(f"Telegram would refuse that image: {error}") from None


def _describe_target(where: Target) -> str:
    if isinstance(where, BotHandle):
        return f"the private chat with {where.mention}"
    return repr(where.title)
