"""Neighbouring schemes on other deployments: signed alert exchange between towns.

`link` sends (through the outbox), `inbound` receives (on the bot's web app),
`signing` is the HMAC both sides share, `protocol` the JSON they exchange.
"""

from __future__ import annotations

from broadcast.federation.link import FederationLink
from broadcast.federation.peers import Peer, load_peers
from config.schemes import SchemesFile
from storage.store import Store


def federation_link(schemes: SchemesFile, store: Store) -> FederationLink | None:
    """The link to this deployment's peers, or None when the schemes file declares none."""
    if not schemes.peers:
        return None
    return FederationLink(schemes, store, load_peers(schemes))


__all__ = ["FederationLink", "Peer", "federation_link", "load_peers"]
