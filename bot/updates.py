"""Taking updates from Telegram so that one unreadable update cannot stop the ones after it.

python-telegram-bot decodes a whole getUpdates batch at once; when one update in it
cannot be decoded (a required field missing, a number where an object belongs) the
batch is dropped unconfirmed and asked for again, forever: the bot is deaf from then
on. By webhook the same update would be refused, and Telegram would resend it and
hold back everything behind it. Here an update that cannot be read is cut down to
its `update_id`, so it is confirmed and skipped, and is logged (its id and what was
wrong, never its content: a member's words do not go to the log).
"""

from __future__ import annotations

import logging
from typing import Any

from telegram import Bot, Update
from telegram.request import HTTPXRequest

logger = logging.getLogger(__name__)

MAX_ID = 2**63 - 1


def update_id_of(data: object) -> int | None:
    """The update's id when `data` looks like an update from Telegram at all."""
    if not isinstance(data, dict):
        return None
    update_id = data.get("update_id")
    if type(update_id) is not int or not 0 <= update_id <= MAX_ID:
        return None
    return update_id


def decode_update(data: dict[str, Any], bot: Bot | None) -> Update | None:
    """The Update, or None (logged) when python-telegram-bot cannot read it."""
    try:
        return Update.de_json(data, bot)
    except Exception as exc:  # de_json raises whatever the junk provokes
        logger.warning(
            "update %s cannot be read (%s); skipped", data.get("update_id"), type(exc).__name__
        )
        return None


class SkippingUpdatesRequest(HTTPXRequest):
    """The getUpdates connection: unreadable updates reach the bot as bare ids.

    `parse_json_payload` is python-telegram-bot's documented hook for reading
    responses; only getUpdates goes through this request object.
    """

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict[str, Any]:
        data = HTTPXRequest.parse_json_payload(payload)
        result = data.get("result")
        if data.get("ok") is True and isinstance(result, list):
            data["result"] = [_readable(item) for item in result]
        return data


def _readable(item: object) -> object:
    update_id = update_id_of(item)
    if update_id is None or not isinstance(item, dict):
        return item
    return item if decode_update(item, None) is not None else {"update_id": update_id}
