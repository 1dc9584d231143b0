"""`shopwatch federation keygen | check <peer>`: setting up a pair of neighbouring towns.

shopwatch federation keygen                   # a new shared secret: give it to the peer too
shopwatch federation keygen --ed25519         # our key pair: keep the private key, give out
                                              # the public one
shopwatch federation keygen --ed25519 --out federation.env   # private key to a 0600 file
shopwatch federation check thetford           # signed ping: reachable, keys, clock skew
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from broadcast.federation.check import describe, ping, sender_for
from broadcast.federation.peers import load_peers
from broadcast.federation.signing import (
    new_ed25519_key,
    new_secret,
    private_key,
    public_key_text,
)
from config.errors import ConfigError
from config.schemes import load_schemes
from config.settings import Settings

PRIVATE_KEY_VARIABLE = "SHOPWATCH_FEDERATION_PRIVATE_KEY"


def add_federation_parser(commands: Any) -> None:
    """Add the `federation` subcommand to the `shopwatch` parser's subcommands."""
    federation: argparse.ArgumentParser = commands.add_parser(
        "federation", help="neighbouring schemes on other deployments"
    )
    actions = federation.add_subparsers(dest="federation_command", required=True)
    keygen_parser = actions.add_parser(
        "keygen", help="a new shared secret, or with --ed25519 this deployment's key pair"
    )
    keygen_parser.add_argument(
        "--ed25519",
        action="store_true",
        help="an Ed25519 key pair: the private key for SHOPWATCH_FEDERATION_PRIVATE_KEY, "
        "the public key for the peers' schemes files",
    )
    keygen_parser.add_argument(
        "--out",
        type=Path,
        help="with --ed25519: write the private key to this new file (mode 0600, "
        "a line for the environment or .env) instead of printing it",
    )
    check = actions.add_parser("check", help="signed ping: reachability, keys and clock skew")
    check.add_argument("peer", help="the peer's slug in the schemes file")


def keygen(*, ed25519: bool = False, out: Path | None = None) -> int:
    if not ed25519:
        if out is not None:
            raise ConfigError("--out is for --ed25519: a shared secret is given to both towns")
        print(new_secret())
        return 0
    secret = new_ed25519_key()
    line = f"{PRIVATE_KEY_VARIABLE}={secret}\n"
    if out is None:
        print(line, end="")
    else:
        try:
            descriptor = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise ConfigError(f"{out}: already exists; a key is never overwritten") from None
        with os.fdopen(descriptor, "w", encoding="utf-8") as file:
            file.write(line)
        print(f"# private key written to {out} (mode 0600): keep it secret")
    print(f'public_key = "{public_key_text(private_key(secret))}"   # for the peers\' [[peer]]')
    return 0


async def run_federation_check(settings: Settings, peer_slug: str) -> int:
    schemes = load_schemes(settings.schemes_file)
    if peer_slug not in {p.slug for p in schemes.peers}:
        raise ConfigError(f"{settings.schemes_file}: no [[peer]] with slug {peer_slug!r}")
    peers = load_peers(
        schemes,
        settings.federation_private_key,
        old_signatures_until=settings.federation_old_signatures_until,
    )
    peer = peers[peer_slug]
    result = await ping(peer, sender_for(schemes, peer_slug))
    print(describe(peer, result))
    return 0 if result.ok else 1
