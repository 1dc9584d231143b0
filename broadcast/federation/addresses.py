"""Where requests to peers may go: public addresses only, unless the peer is allowed.

A peer names itself by a URL whose host its own DNS answers for; pointed at
127.0.0.1, 10.0.0.7 or 169.254.169.254, our signed requests would reach a service
inside our network (and a failure would tell the peer what answered). So every
name is resolved by `PublicOnlyResolver`, which keeps only public addresses for
any peer not marked `allow_private_address` in the schemes file, and connects to
what it checked (no second look-up to rebind). An address written as such in the
URL is checked when the schemes file is read (`config.schemes`).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from config.schemes import PeerConfig, private_address

logger = logging.getLogger(__name__)


class PublicOnlyResolver(AbstractResolver):
    """The default resolver, less every private, loopback or link-local address."""

    def __init__(self, allowed_hosts: Iterable[str] = ()) -> None:
        self._allowed = frozenset(host.lower() for host in allowed_hosts)
        self._inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        if host.lower().rstrip(".") in self._allowed:
            return found
        public = [result for result in found if not private_address(result["host"])]
        if not public:
            logger.warning("peer host %r resolves only to private addresses: not called", host)
            raise OSError(f"{host} resolves only to private addresses")
        return public

    async def close(self) -> None:
        await self._inner.close()


def peer_connector(peers: Iterable[PeerConfig]) -> aiohttp.TCPConnector:
    """A connector for requests to these peers, keeping to public addresses but for
    the peers allowed a private one."""
    allowed = [
        (urlsplit(peer.url).hostname or "").rstrip(".")
        for peer in peers
        if peer.allow_private_address
    ]
    return aiohttp.TCPConnector(resolver=PublicOnlyResolver(allowed))
