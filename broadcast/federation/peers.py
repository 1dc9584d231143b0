"""The peers of this deployment, each with the keys that sign and check its requests.

A peer with `secret_env` shares a secret with us, read from the environment once;
a peer with `public_key` is checked by that key, and we sign to it with our own
private key (`SHOPWATCH_FEDERATION_PRIVATE_KEY`).
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date

from pydantic import SecretStr

from broadcast.federation import signing
from broadcast.federation.signing import Ed25519Keys, PeerKeys, SharedSecret
from broadcast.federation.signing import private_key as read_private_key
from broadcast.federation.signing import public_key as read_public_key
from config.errors import ConfigError
from config.schemes import PeerConfig, SchemesFile

_PEER_CHATS = 1 << 60


@dataclass(frozen=True)
class Peer:
    config: PeerConfig
    keys: PeerKeys
    old_signatures_until: date | None = None
    """The migration window of the first signature format (`signing`), ours."""

    @property
    def slug(self) -> str:
        return self.config.slug

    @property
    def name(self) -> str:
        return self.config.name or self.config.slug

    @property
    def url(self) -> str:
        return self.config.url.rstrip("/")

    @property
    def chat_id(self) -> int:
        """The outbox "chat" of this peer, far outside Telegram's ids.

        The worker keeps each chat's rows in order and holds them back behind a
        retry, so one peer per chat means an event never overtakes its alert and a
        peer that is down holds up only its own rows (not the radio's, nor
        another peer's).
        """
        return -_PEER_CHATS - zlib.crc32(self.slug.encode())

    def sign(
        self, sender: str, method: str, path: str, body: bytes = b"", *, key: str = ""
    ) -> dict[str, str]:
        """The headers of a request from our scheme `sender` to this peer."""
        return signing.sign(
            self.keys,
            sender,
            method,
            path,
            body,
            recipient=self.slug,
            key=key,
            old_until=self.old_signatures_until,
        )

    def check(
        self,
        headers: Mapping[str, str],
        method: str,
        path: str,
        body: bytes,
        *,
        recipients: Collection[str],
    ) -> str | None:
        """Why this peer's request to us (one of `recipients`) is not authentic, or None."""
        return signing.check(
            self.keys,
            headers,
            method,
            path,
            body,
            recipients=recipients,
            old_until=self.old_signatures_until,
        )


def load_peers(
    schemes: SchemesFile,
    private_key: SecretStr | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    old_signatures_until: date | None = None,
) -> dict[str, Peer]:
    """Every `[[peer]]` with its keys; a secret or key that is missing stops start-up."""
    env = os.environ if environ is None else environ
    peers: dict[str, Peer] = {}
    for config in schemes.peers:
        keys: PeerKeys
        if config.public_key is not None:
            if private_key is None:
                raise ConfigError(
                    f"peer {config.slug} is known by its public key, so "
                    "SHOPWATCH_FEDERATION_PRIVATE_KEY must hold ours "
                    "(`shopwatch federation keygen --ed25519` makes one)"
                )
            ours = read_private_key(private_key.get_secret_value())
            keys = Ed25519Keys(ours, read_public_key(config.public_key))
        else:
            assert config.secret_env is not None  # the schemes file has one or the other
            secret = env.get(config.secret_env, "").strip()
            if len(secret) < 16:
                raise ConfigError(
                    f"peer {config.slug}: {config.secret_env} must hold the shared secret "
                    "(at least 16 characters; `shopwatch federation keygen` makes one)"
                )
            keys = SharedSecret(SecretStr(secret))
        peers[config.slug] = Peer(config, keys, old_signatures_until)
    return peers
