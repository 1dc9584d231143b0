"""Neighbouring schemes on other deployments: signed alert exchange between towns.

`link` sends (through the outbox), `inbound` receives (on the bot's web app),
`signing` the HMAC or Ed25519 signatures both sides check, `protocol` the JSON they exchange.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from pydantic import SecretStr

from broadcast.federation.link import FederationLink
from broadcast.federation.peers import Peer, load_peers
from config.schemes import SchemesFile
from storage.store import Store


def federation_link(
    schemes: SchemesFile,
    store: Store,
    private_key: SecretStr | None,
    *,
    old_signatures_until: date | None,
    wake: Callable[[], None],
) -> FederationLink | None:
    """The link to this deployment's peers, or None when the schemes file declares none.

    `private_key` is ours (`SHOPWATCH_FEDERATION_PRIVATE_KEY`), for peers that know
    us by our public key; `old_signatures_until` the migration window of the first
    signature format (`SHOPWATCH_FEDERATION_OLD_SIGNATURES_UNTIL`).
    """
    if not schemes.peers:
        return None
    peers = load_peers(schemes, private_key, old_signatures_until=old_signatures_until)
    return FederationLink(schemes, store, peers, wake=wake)


__all__ = ["FederationLink", "Peer", "federation_link", "load_peers"]
