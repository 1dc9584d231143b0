"""Features as plugins: what each brings to the bot, so the core names none of them.

Modelled on maubot's plugins. A feature is built from `Assembly` (the settings, the
schemes file, the log, the outbox's wake-up) and brings, each optional:
- its handlers, registered after the core's access check, membership, chat guard
  and /start, and before search, /report and the alert handlers;
- its fan-out (`broadcast.fanout.FanOut`), asked by the alert service for the rows
  of every new report and every event;
- its senders, one per outbox kind it owns, registered on the outbox worker;
- its scheduled jobs, its web routes (on the bot's own aiohttp server);
- its start and stop, run by `bot.runtime` after the outbox worker starts and after
  it stops.

`plugins()` is the list of this deployment's features, in order (the chats first:
their rows are queued first). A new feature adds a module here with a `Plugin`
subclass and one line in `plugins()`; `bot/app.py`, `bot/services.py` and
`bot/runtime.py` stay as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from bot.plugins.base import Assembly, Plugin
from bot.plugins.chats import ChatsPlugin
from bot.plugins.federation import FederationPlugin
from bot.plugins.radio import RadioPlugin
from bot.plugins.subjects import SubjectsPlugin

P = TypeVar("P", bound=Plugin)


def plugins(assembly: Assembly) -> list[Plugin]:
    """This deployment's features, in the order their rows are queued and handlers run."""
    found: list[Plugin | None] = [
        ChatsPlugin(assembly),
        FederationPlugin.build(assembly),
        RadioPlugin.build(assembly),
        SubjectsPlugin(assembly),
    ]
    return [plugin for plugin in found if plugin is not None]


def find(found: Sequence[Plugin], kind: type[P]) -> P | None:
    """The running plugin of that class, if this deployment has it."""
    return next((plugin for plugin in found if isinstance(plugin, kind)), None)


__all__ = ["Assembly", "Plugin", "find", "plugins"]
