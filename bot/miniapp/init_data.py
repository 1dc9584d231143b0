"""Who opened the Mini App: Telegram's signed `initData`, checked on every request.

Telegram signs the launch data it hands the page: HMAC-SHA256 of the fields other
than `hash`, sorted and joined as `key=value` lines, keyed with
HMAC-SHA256(key="WebAppData", message=bot token)
(core.telegram.org/bots/webapps#validating-data-received-via-the-mini-app). Only
Telegram and this bot know the token, so a page cannot claim another person, and
`initData` made for another bot does not verify here. `auth_date` is when Telegram
signed it: older than the deployment allows (`miniapp_max_age_seconds`), or from the
future, it is refused, so a copied `initData` stops working soon.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from urllib.parse import parse_qsl

MAX_INIT_DATA_CHARS = 4096
CLOCK_SKEW_SECONDS = 60
"""How far in the future an `auth_date` may be: Telegram's clock and ours differ a little."""


class InitDataError(Exception):
    """Refused `initData`; `reason` is a code for the audit and the page."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class WebAppUser:
    """The Telegram user the signed `initData` names."""

    id: int
    first_name: str
    auth_date: int


def secret_key(bot_token: str) -> bytes:
    return hmac.new(b"WebAppData", bot_token.encode(), hashlib.sha256).digest()


class InitDataChecker:
    def __init__(self, bot_token: str, max_age_seconds: int) -> None:
        self._key = secret_key(bot_token)
        self._max_age = max_age_seconds

    def check(self, init_data: str, now: float | None = None) -> WebAppUser:
        """The user `init_data` was signed for, or `InitDataError` saying why not."""
        if not init_data or len(init_data) > MAX_INIT_DATA_CHARS:
            raise InitDataError("missing" if not init_data else "malformed")
        try:
            pairs = parse_qsl(init_data, keep_blank_values=True, strict_parsing=True)
        except ValueError:
            raise InitDataError("malformed") from None
        fields = dict(pairs)
        if len(fields) != len(pairs):
            raise InitDataError("malformed")  # a field twice: which one was signed?
        given = fields.pop("hash", "")
        check = "\n".join(f"{key}={fields[key]}" for key in sorted(fields))
        expected = hmac.new(self._key, check.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(given.encode(), expected.encode()):
            raise InitDataError("signature")
        try:
            auth_date = int(fields.get("auth_date", ""))
        except ValueError:
            raise InitDataError("malformed") from None
        clock = time.time() if now is None else now
        if auth_date > clock + CLOCK_SKEW_SECONDS:
            raise InitDataError("from_the_future")
        if clock - auth_date > self._max_age:
            raise InitDataError("expired")
        return _user(fields.get("user", ""), auth_date)


def _user(raw: str, auth_date: int) -> WebAppUser:
    try:
        user = json.loads(raw)
    except ValueError:
        raise InitDataError("malformed") from None
    if not isinstance(user, dict):
        raise InitDataError("malformed")
    user_id = user.get("id")
    if not isinstance(user_id, int) or isinstance(user_id, bool) or not 0 < user_id < 2**52:
        raise InitDataError("malformed")
    name = user.get("first_name")
    return WebAppUser(user_id, name if isinstance(name, str) else "", auth_date)
