"""Signed requests between deployments: a shared secret (HMAC-SHA256) or Ed25519 keys.

The signature covers the timestamp, the method, the path, the idempotency key,
the sender, the recipient and the body, each as a length-prefixed field (a
netstring), so no field can be changed, moved into its neighbour or sent to
another deployment; the timestamp bounds a captured request's useful life to
`MAX_SKEW`, and the receiver's record of idempotency keys refuses it within
that window.

The first format joined the fields with "." (path `/a.x` with key `k` signed as
path `/a` with key `x.k`) and named no recipient, so an Ed25519 request one
neighbour received could be replayed to another. It is still sent beside the
new one, and still accepted, while `SHOPWATCH_FEDERATION_OLD_SIGNATURES_UNTIL`
says so (the migration window, a date), and refused after.

Both kinds sign the same text and travel in the same header, told apart by its
prefix (`sha256=` or `ed25519=`). With Ed25519 neither town holds anything that
lets it sign as the other: each keeps its private key and gives out its public key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import ClassVar, Protocol

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from pydantic import SecretStr

from config.schemes import ed25519_key_bytes

PEER_HEADER = "X-ShopWatch-Peer"
TIMESTAMP_HEADER = "X-ShopWatch-Timestamp"
RECIPIENT_HEADER = "X-ShopWatch-Recipient"
SIGNATURE_HEADER = "X-ShopWatch-Signature-V2"
OLD_SIGNATURE_HEADER = "X-ShopWatch-Signature"
"""The first format's signature: sent and taken only during the migration window."""
IDEMPOTENCY_HEADER = "Idempotency-Key"
MAX_SKEW = 300
"""Seconds a request's timestamp may differ from the receiver's clock (5 minutes)."""
SECRET_BYTES = 32
HMAC_PREFIX = "sha256="
ED25519_PREFIX = "ed25519="


class PeerKeys(Protocol):
    """What signs our requests to one peer and verifies the peer's requests to us."""

    @property
    def kind(self) -> str: ...

    def sign(self, message: bytes) -> str: ...

    def verify(self, message: bytes, given: str) -> bool: ...


@dataclass(frozen=True)
class SharedSecret:
    """HMAC-SHA256 with a secret both towns hold."""

    secret: SecretStr
    kind: ClassVar[str] = "shared secret"

    def sign(self, message: bytes) -> str:
        key = self.secret.get_secret_value().encode()
        return HMAC_PREFIX + hmac.new(key, message, hashlib.sha256).hexdigest()

    def verify(self, message: bytes, given: str) -> bool:
        return hmac.compare_digest(given.encode(), self.sign(message).encode())


@dataclass(frozen=True)
class Ed25519Keys:
    """Our private key signs what we send; the peer's public key checks what it sends."""

    ours: Ed25519PrivateKey = field(repr=False)
    theirs: Ed25519PublicKey = field(repr=False)
    kind: ClassVar[str] = "Ed25519 keys"

    def sign(self, message: bytes) -> str:
        return ED25519_PREFIX + base64.b64encode(self.ours.sign(message)).decode()

    def verify(self, message: bytes, given: str) -> bool:
        if not given.startswith(ED25519_PREFIX):
            return False
        try:
            raw = base64.b64decode(given.removeprefix(ED25519_PREFIX), validate=True)
            self.theirs.verify(raw, message)
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True


def new_secret() -> str:
    """A fresh shared secret (256 bits, URL-safe), for `shopwatch federation keygen`."""
    return secrets.token_urlsafe(SECRET_BYTES)


def new_ed25519_key() -> str:
    """A fresh private key, base64 of its raw 32 bytes, for `keygen --ed25519`."""
    raw = Ed25519PrivateKey.generate().private_bytes_raw()
    return base64.b64encode(raw).decode()


def private_key(text: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(ed25519_key_bytes(text))


def public_key(text: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(ed25519_key_bytes(text))


def public_key_text(key: Ed25519PrivateKey) -> str:
    """The public half, as a peer writes it in its `[[peer]]` entry's `public_key`."""
    raw = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


VERSION = b"shopwatch-federation-2"


def _netstring(field: bytes) -> bytes:
    return str(len(field)).encode() + b":" + field + b","


def signed_text(
    timestamp: str,
    method: str,
    path: str,
    *,
    key: str,
    sender: str,
    recipient: str,
    body: bytes,
) -> bytes:
    """Every field length-prefixed: whatever a field holds, it cannot be read as two."""
    fields = (timestamp, method.upper(), path, key, sender, recipient)
    return b"".join(_netstring(f) for f in (VERSION, *(f.encode() for f in fields), body))


def old_signed_text(timestamp: str, method: str, path: str, *, key: str, body: bytes) -> bytes:
    """The first format, ambiguous and naming no recipient: only for the migration window."""
    return f"{timestamp}.{method.upper()}.{path}.{key}.".encode() + body


def old_format_open(until: date | None, now: float) -> bool:
    """Whether the first format is still sent and taken: up to and including `until` (UTC)."""
    return until is not None and datetime.fromtimestamp(now, UTC).date() <= until


def sign(
    keys: PeerKeys,
    our_slug: str,
    method: str,
    path: str,
    body: bytes = b"",
    *,
    recipient: str,
    key: str = "",
    now: float | None = None,
    old_until: date | None = None,
) -> dict[str, str]:
    """The headers that make a request from `our_slug` to `recipient` verifiable by it.

    During the migration window (`old_until`) the first format's signature goes too,
    so a peer that has not upgraded yet still takes the request.
    """
    moment = time.time() if now is None else now
    timestamp = str(int(moment))
    text = signed_text(
        timestamp, method, path, key=key, sender=our_slug, recipient=recipient, body=body
    )
    headers = {
        PEER_HEADER: our_slug,
        TIMESTAMP_HEADER: timestamp,
        RECIPIENT_HEADER: recipient,
        SIGNATURE_HEADER: keys.sign(text),
    }
    if old_format_open(old_until, moment):
        old = old_signed_text(timestamp, method, path, key=key, body=body)
        headers[OLD_SIGNATURE_HEADER] = keys.sign(old)
    if key:
        headers[IDEMPOTENCY_HEADER] = key
    return headers


def check(
    keys: PeerKeys,
    headers: Mapping[str, str],
    method: str,
    path: str,
    body: bytes,
    *,
    recipients: Collection[str],
    old_until: date | None = None,
    now: float | None = None,
) -> str | None:
    """Why the request is not authentic ("unsigned", "bad signature", "stale", ...), or None.

    `recipients` are the names this deployment answers to (its schemes' slugs): a
    request signed for another is refused, however good its signature.
    """
    moment = time.time() if now is None else now
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    given = headers.get(SIGNATURE_HEADER, "")
    old = headers.get(OLD_SIGNATURE_HEADER, "")
    if not timestamp or not (given or old):
        return "unsigned"
    key = headers.get(IDEMPOTENCY_HEADER, "")
    if given:  # the new format is checked whenever it is there, never the old beside it
        recipient = headers.get(RECIPIENT_HEADER, "")
        text = signed_text(
            timestamp,
            method,
            path,
            key=key,
            sender=headers.get(PEER_HEADER, ""),
            recipient=recipient,
            body=body,
        )
        if not keys.verify(text, given):
            return "bad signature"
        if recipient not in recipients:
            return "signed for another recipient"
    elif not old_format_open(old_until, moment):
        closed = f" after {old_until.isoformat()}" if old_until is not None else ""
        return f"signature in the old format, not taken{closed}: the sender must upgrade"
    elif not keys.verify(old_signed_text(timestamp, method, path, key=key, body=body), old):
        return "bad signature"
    try:
        sent_at = int(timestamp)
    except ValueError:
        return "bad signature"
    if abs(moment - sent_at) > MAX_SKEW:
        return "stale"
    return None
