"""`shopwatch federation keygen | check <peer>`: setting up a pair of neighbouring towns.

shopwatch federation keygen          # a new shared secret: give it to the peer too
shopwatch federation check thetford  # signed ping: reachable, secret, clock skew
"""

from __future__ import annotations

import argparse
from typing import Any

from broadcast.federation.check import describe, ping, sender_for
from broadcast.federation.peers import load_peers
from broadcast.federation.signing import new_secret
from config.errors import ConfigError
from config.schemes import load_schemes
from config.settings import Settings


def add_federation_parser(commands: Any) -> None:
    """Add the `federation` subcommand to the `shopwatch` parser's subcommands."""
    federation: argparse.ArgumentParser = commands.add_parser(
        "federation", help="neighbouring schemes on other deployments"
    )
    actions = federation.add_subparsers(dest="federation_command", required=True)
    actions.add_parser("keygen", help="print a new random shared secret for a [[peer]]")
    check = actions.add_parser("check", help="signed ping: reachability, secret and clock skew")
    check.add_argument("peer", help="the peer's slug in the schemes file")


def keygen() -> int:
    print(new_secret())
    return 0


async def run_federation_check(settings: Settings, peer_slug: str) -> int:
    schemes = load_schemes(settings.schemes_file)
    if peer_slug not in {p.slug for p in schemes.peers}:
        raise ConfigError(f"{settings.schemes_file}: no [[peer]] with slug {peer_slug!r}")
    peer = load_peers(schemes)[peer_slug]
    result = await ping(peer, sender_for(schemes, peer_slug))
    print(describe(peer, result))
    return 0 if result.ok else 1
