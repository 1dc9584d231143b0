"""Updates of different chats handled side by side; one chat's, one person's, in order.

python-telegram-bot handles one update at a time unless told otherwise, so one slow
update (a 7070 x 7070 picture, an export, a chat whose reply hangs) held up every
town's alerts behind it. With `concurrent_updates` above one, it hands each update
to an update processor as its own task; `ChatOrderedUpdates` is that processor.

Order. Each update waits for its turn in the line of its chat and in the line of its
sender (a person's private chat is both), so:

- one chat's updates are handled one after another, in the order Telegram gave them
  (a member's alert and the reply that corrects it; a group's join and first words);
- one person's updates are too, wherever they come from, so a conversation
  (`/report`, keyed by chat and user) never sees its answers out of order, and a
  member's group message and private message never race;
- updates with neither chat nor sender (none of the kinds the bot asks for) wait
  for nobody.

Places in the lines are taken when the update is taken from the queue, in Telegram's
order, not when its task first runs, so the order does not depend on how asyncio
schedules the tasks.

What a crash loses. The update queue (`InHandQueue`) gives out an update only while
fewer than `concurrent_updates` are in hand (being handled, or waiting for their
turn), and itself holds one more. Polling confirms a batch to Telegram only when it
asks for the next, which it does once the last of the batch is in the queue; so a
crash loses at most `concurrent_updates + 1` updates, each unanswered (the member
never read "Alert sent" and sends again). The default, 8, is what keeps four slow
pictures and an export from holding up another member's alert, with room to spare.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

UPDATES_QUEUED = 1
"""Updates taken from Telegram and queued, not yet given out: one, so that polling asks
for the next batch only when the last of this one is in hand."""


def lost_in_a_crash(concurrent_updates: int) -> int:
    """At most this many updates, taken from Telegram by polling, die with the process."""
    return concurrent_updates + UPDATES_QUEUED


Line = tuple[str, int]
"""("chat", chat id) or ("user", user id)."""


def lines_of(update: object) -> tuple[Line, ...]:
    """The lines an update waits in: its chat's and its sender's."""
    if not isinstance(update, Update):
        return ()
    lines: list[Line] = []
    if update.effective_chat is not None:
        lines.append(("chat", update.effective_chat.id))
    if update.effective_user is not None:
        lines.append(("user", update.effective_user.id))
    return tuple(lines)


@dataclass(eq=False)
class _Ticket:
    lines: tuple[Line, ...]
    ahead: int = 0
    """Lines in which someone is still ahead of this update."""
    turn: asyncio.Event = field(default_factory=asyncio.Event)


class ChatOrderedUpdates(BaseUpdateProcessor):
    """Handles updates concurrently, each after those before it in its chat and sender."""

    def __init__(self, max_concurrent_updates: int) -> None:
        super().__init__(max_concurrent_updates)
        self._room = asyncio.Semaphore(max_concurrent_updates)
        self._lines: dict[Line, deque[_Ticket]] = {}
        self._tickets: dict[int, _Ticket] = {}
        self.in_hand = 0
        """Updates given out and not yet handled (being handled or waiting their turn)."""

    async def room(self) -> None:
        """Wait until fewer than `max_concurrent_updates` updates are in hand."""
        await self._room.acquire()

    def give_back_room(self) -> None:
        self._room.release()

    def take(self, update: object) -> None:
        """Give `update` its places in its lines, in the order updates are taken."""
        ticket = _Ticket(lines_of(update))
        for line in ticket.lines:
            waiting = self._lines.setdefault(line, deque())
            if waiting:
                ticket.ahead += 1
            waiting.append(ticket)
        if ticket.ahead == 0:
            ticket.turn.set()
        self._tickets[id(update)] = ticket
        self.in_hand += 1

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        ticket = self._tickets.pop(id(update), None)
        try:
            if ticket is not None:
                await ticket.turn.wait()
            await coroutine
        finally:
            if ticket is not None:
                self._leave(ticket)
                self.in_hand -= 1
                self._room.release()

    def _leave(self, ticket: _Ticket) -> None:
        for line in ticket.lines:
            waiting = self._lines[line]
            waiting.popleft()
            if not waiting:
                del self._lines[line]
                continue
            following = waiting[0]
            following.ahead -= 1
            if following.ahead == 0:
                following.turn.set()

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass


class InHandQueue(asyncio.Queue[object]):
    """The update queue: gives out an update only when the processor has room for it,
    and places it in its lines as it does."""

    def __init__(self, processor: ChatOrderedUpdates, maxsize: int = 0) -> None:
        super().__init__(maxsize)
        self._processor = processor

    async def get(self) -> object:
        await self._processor.room()
        try:
            item = await super().get()
        except BaseException:
            self._processor.give_back_room()
            raise
        if isinstance(item, Update):
            self._processor.take(item)
        else:  # the Application's stop signal: nothing to handle
            self._processor.give_back_room()
        return item
