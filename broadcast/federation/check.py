"""`shopwatch federation check <peer>`: a signed ping, to set up a pair of towns by.

Reports what a coordinator needs to fix: the peer not reachable, not knowing
us, a secret or key that differs, or clocks more than five minutes apart (which would
make every alert look stale).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import aiohttp

from broadcast.federation import protocol, signing
from broadcast.federation.addresses import peer_connector
from broadcast.federation.peers import Peer
from config.schemes import SchemesFile

PING_SECONDS = 10.0
_MATCHED = {
    signing.SharedSecret.kind: "the shared secret matches",
    signing.Ed25519Keys.kind: "it holds our public key, and we hold its",
}


@dataclass(frozen=True)
class PingResult:
    reachable: bool
    status: int | None
    problem: str | None
    skew_seconds: float | None
    round_trip_ms: float | None

    @property
    def ok(self) -> bool:
        return self.status == 200 and self.problem is None


def sender_for(schemes: SchemesFile, peer: str) -> str:
    """Our scheme the peer knows us as: the one naming it as a neighbour, else the first."""
    for scheme in schemes.schemes:
        if any(rule.slug == peer for rule in scheme.neighbours):
            return scheme.slug
    return schemes.schemes[0].slug


async def ping(peer: Peer, sender: str) -> PingResult:
    path = protocol.PING_PATH
    headers = peer.sign(sender, "GET", path)
    started = time.time()
    try:
        async with (
            aiohttp.ClientSession(
                connector=peer_connector([peer.config]),
                timeout=aiohttp.ClientTimeout(total=PING_SECONDS),
            ) as session,
            session.get(peer.url + path, headers=headers, allow_redirects=False) as response,
        ):
            answer = await response.json(content_type=None)
            status = response.status
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        return PingResult(False, None, f"unreachable: {type(exc).__name__}: {exc}", None, None)
    finished = time.time()
    their_time = answer.get("time") if isinstance(answer, dict) else None
    skew = None
    if isinstance(their_time, int | float):
        skew = float(their_time) - (started + finished) / 2
    problem = None
    if status != 200:
        reason = answer.get("error") if isinstance(answer, dict) else None
        problem = f"refused ({status}): {reason or 'no reason given'}"
    return PingResult(True, status, problem, skew, (finished - started) * 1000)


def describe(peer: Peer, result: PingResult) -> str:
    """One line per finding, for the terminal."""
    lines = [f"peer {peer.slug} at {peer.url}"]
    if not result.reachable:
        lines.append(f"  FAIL {result.problem}")
        return "\n".join(lines)
    lines.append(f"  OK   reachable (round trip {result.round_trip_ms or 0:.0f} ms)")
    if result.skew_seconds is not None:
        verdict = "OK  " if abs(result.skew_seconds) < signing.MAX_SKEW / 2 else "FAIL"
        lines.append(f"  {verdict} clock skew {result.skew_seconds:+.1f} s (limit 300 s)")
    if result.problem is None:
        lines.append(f"  OK   signed ping accepted: {_MATCHED[peer.keys.kind]}")
    else:
        lines.append(f"  FAIL {result.problem}")
    return "\n".join(lines)
