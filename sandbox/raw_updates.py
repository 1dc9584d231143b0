"""Updates no Telegram app would make: whatever JSON a test wants the bot to receive.

The sandbox's people only send what a real client can. To see what the bot does with
a malformed update (a field missing, a wrong type, an id past 2^63) a test queues the
raw body here; it then reaches the bot like any other update, by getUpdates or by the
webhook, and stays queued until the bot has taken it.
"""

from __future__ import annotations

from collections.abc import Mapping

from sandbox.people import BotHandle
from sandbox.state import SandboxState


def push_raw_update(state: SandboxState, bot: BotHandle, body: Mapping[str, object]) -> int:
    """Queue `body` for `bot` as it is, but for a fresh `update_id`; returns that id.

    The id is the sandbox's because delivery depends on it: getUpdates' offset
    confirms by id, as on Telegram, which never sends an update without one.
    """
    record = state.bots[bot.id]
    update_id = record.next_update_id
    record.next_update_id += 1
    record.pending.append({**body, "update_id": update_id})
    record.updates_signal.notify()
    state.touch()
    return update_id
