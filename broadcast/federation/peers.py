"""The peers of this deployment, each with its shared secret read from the environment once."""

from __future__ import annotations

import os
import zlib
from collections.abc import Mapping
from dataclasses import dataclass

from pydantic import SecretStr

from config.errors import ConfigError
from config.schemes import PeerConfig, SchemesFile

_PEER_CHATS = 1 << 60


@dataclass(frozen=True)
class Peer:
    config: PeerConfig
    secret: SecretStr

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


def load_peers(schemes: SchemesFile, environ: Mapping[str, str] | None = None) -> dict[str, Peer]:
    """Every `[[peer]]` with its secret; a secret missing from the environment stops start-up."""
    env = os.environ if environ is None else environ
    peers: dict[str, Peer] = {}
    for config in schemes.peers:
        secret = env.get(config.secret_env, "").strip()
        if len(secret) < 16:
            raise ConfigError(
                f"peer {config.slug}: {config.secret_env} must hold the shared secret "
                "(at least 16 characters; `shopwatch federation keygen` makes one)"
            )
        peers[config.slug] = Peer(config, SecretStr(secret))
    return peers
