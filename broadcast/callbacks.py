"""Signed callback data: a button press is only trusted if we made the button.

Telegram returns `callback_data` exactly as we set it, but anyone can craft an
update (a forged webhook call, a modified client) with data of their choosing.
Every button we render carries an HMAC of its parts, so a forged or altered
press is refused before any handler reads it. Telegram allows 64 bytes.
"""

from __future__ import annotations

import hashlib
import hmac

SEPARATOR = ":"
MAX_BYTES = 64
SIGNATURE_CHARS = 12


class CallbackSigner:
    """Signs and checks callback data of the form `part:part:...:signature`."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the callback key must be at least 16 bytes")
        self._key = key

    @classmethod
    def from_token(cls, bot_token: str) -> CallbackSigner:
        """Derive a key from the bot token: secret already, and stable across restarts."""
        return cls(hmac.new(bot_token.encode(), b"shopwatch-callback-v1", hashlib.sha256).digest())

    def _mac(self, body: str) -> str:
        digest = hmac.new(self._key, body.encode(), hashlib.sha256).hexdigest()
        return digest[:SIGNATURE_CHARS]

    def sign(self, *parts: str | int) -> str:
        texts = [str(p) for p in parts]
        if any(SEPARATOR in t for t in texts):
            raise ValueError("callback parts may not contain ':'")
        body = SEPARATOR.join(texts)
        data = f"{body}{SEPARATOR}{self._mac(body)}"
        if len(data.encode()) > MAX_BYTES:
            raise ValueError(f"callback data over {MAX_BYTES} bytes: {data!r}")
        return data

    def verify(self, data: str | None) -> list[str] | None:
        """The signed parts, or None for anything we did not sign."""
        if not data or len(data.encode()) > MAX_BYTES:
            return None
        body, _, signature = data.rpartition(SEPARATOR)
        if not body or not hmac.compare_digest(signature, self._mac(body)):
            return None
        return body.split(SEPARATOR)
