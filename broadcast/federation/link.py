"""Alerts out to peers and their status changes back, always through the outbox.

`AlertService` asks this link for the federation rows of a new report or a new
event and stores them in the same transaction as the report or event, so a peer
hears of an alert exactly when the local chats do, and a peer that is down gets
it when it is back (the worker retries with back-off; the receiver's record of
idempotency keys makes a retry that did arrive harmless).

Which alerts go out: a scheme's `[[scheme.neighbour]]` rule naming a peer must
want the category and urgency, and the peer's `receives` must list the category.
Alerts that came from a peer are never passed on to another peer.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import timedelta
from typing import Any

import aiohttp

from broadcast.delivery import (
    MAX_ATTEMPTS,
    Delivered,
    RetryLaterError,
    Sender,
    UndeliverableError,
)
from broadcast.fanout import NewReport, ReportChanged
from broadcast.federation import protocol
from broadcast.federation.addresses import peer_connector
from broadcast.federation.peers import Peer
from broadcast.notices import tell_coordinators
from broadcast.render import AlertView
from broadcast.texts import federation as federation_texts
from config.schemes import SchemeConfig, SchemesFile
from config.vocabulary import OPERATOR_STATUSES, EventKind, OutboxKind, ReportChange, ReportStatus
from storage import federation as log
from storage.ids import stored_id
from storage.models import OutboxRow, Report, ReportEvent, utcnow
from storage.outbox import Delivery
from storage.outbox_payloads import FederationReceipt, FederationRequest, read_federation
from storage.places import police_place
from storage.store import Store

logger = logging.getLogger(__name__)

_FORWARDED_CHANGES = ("status", "category", "urgency", "latitude", "longitude")
_DESCRIBED_CHANGES = (
    "description",
    "subject_description",
    "direction",
    "value_pence",
    "police_reference",
    "property_description",
)
"""What a guided report's later answers change that the alert itself carried."""
REQUEST_SECONDS = 15.0
MAX_PHOTO_BYTES = protocol.MAX_PHOTO_BYTES
PHOTO_FETCHES = 2
"""Peer photos fetched (and so re-encoded) at once; more wait their turn."""
"""As the photo store's own bound: a larger answer is not read to the end."""


class FederationLink:
    """The peers, their rows in the outbox, and the HTTP client that delivers them.

    A fan-out of the alert service (`broadcast.fanout.FanOut`) and the outbox's sender
    of kind `federation`; `wake` tells the outbox worker of rows it queues itself.
    """

    def __init__(
        self,
        schemes: SchemesFile,
        store: Store,
        peers: Mapping[str, Peer],
        *,
        wake: Callable[[], None],
    ) -> None:
        self.schemes = schemes
        self.store = store
        self.peers = dict(peers)
        self.log = log.FederationLog(store.sessions)
        self._session: aiohttp.ClientSession | None = None
        self._wake = wake

    # --- stop --------------------------------------------------------------------------

    async def stop(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            await session.close()

    @functools.cached_property
    def _photo_fetches(self) -> asyncio.Semaphore:
        return asyncio.Semaphore(PHOTO_FETCHES)

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=peer_connector(peer.config for peer in self.peers.values()),
                timeout=aiohttp.ClientTimeout(total=REQUEST_SECONDS),
            )
        return self._session

    # --- what AlertService stores with a report or an event ---------------------------

    def new_report(self, new: NewReport) -> list[Delivery]:
        hashes = [photo.sha256 for photo in new.photos]
        return self.alert_deliveries(new.report, new.scheme, hashes)

    async def report_changed(self, change: ReportChanged) -> list[Delivery]:
        return await self.event_deliveries(
            change.report,
            change.scheme,
            change.event,
            change.changes,
            from_peer=change.from_peer,
            photos=[photo.sha256 for photo in change.photos],
        )

    async def reached(self, report: Report, scheme: SchemeConfig) -> list[str]:
        return await self.names_sent(report)

    async def refreshed(self, view: AlertView, scheme: SchemeConfig) -> list[Delivery]:
        """A peer keeps its own cards: a subject linked here is not news to it."""
        return []

    def origin_name(self, report: Report) -> str | None:
        """The name of the scheme a federated report came from, for its cards."""
        if report.origin_scheme is None:
            return None
        peer = self.peers.get(report.origin_scheme)
        return peer.name if peer is not None else report.origin_scheme

    async def names_sent(self, report: Report) -> list[str]:
        """The peers this report is on its way to (or reached), by name."""
        if report.origin_scheme is not None:
            return []
        payloads = [read_federation(row) for row in await self.log.exchanges(stored_id(report))]
        slugs = dict.fromkeys(p.peer for p in payloads if p.op == log.ALERT)
        return [self.peers[slug].name for slug in slugs if slug in self.peers]

    def alert_deliveries(
        self, report: Report, origin: SchemeConfig, photo_hashes: list[str]
    ) -> list[Delivery]:
        """One row per peer that should get this new report (none for a peer's own alert)."""
        return [delivery for _, delivery in self._alerts(report, origin, photo_hashes)]

    def _alerts(
        self, report: Report, origin: SchemeConfig, photo_hashes: list[str]
    ) -> list[tuple[str, Delivery]]:
        """The peers that should get this new report, each with its row."""
        if report.origin_scheme is not None:
            return []
        out: list[tuple[str, Delivery]] = []
        for rule in origin.neighbours:
            peer = self.peers.get(rule.slug)
            if peer is None or not rule.wants(report.category, report.urgency):
                continue
            if report.category not in peer.config.receives:
                continue
            body = _alert_body(report, origin.slug, peer, photo_hashes)
            key = log.alert_key(origin.slug, stored_id(report))
            request = FederationRequest(
                op=log.ALERT,
                peer=peer.slug,
                sender=origin.slug,
                key=key,
                path=protocol.ALERTS_PATH,
                body=body,
            )
            delivery = Delivery(peer.chat_id, request, dedupe_key=f"fedout:{peer.slug}:{key}")
            out.append((peer.slug, delivery))
        return out

    async def event_deliveries(
        self,
        report: Report,
        local: SchemeConfig,
        event: ReportEvent,
        changes: Mapping[str, Any] | None,
        *,
        from_peer: str | None = None,
        photos: Sequence[str] = (),
    ) -> list[Delivery]:
        """The event for every peer that got the report (or sent it), but the one it came from.

        The scheme an alert came from hears only the control room's calls; a peer
        we sent an alert to hears everything that changes it, the guided report's
        later answers and photos (`photos`, by hash, fetched as the alert's are) too.
        A peer that did not take the alert's old category but takes its new one gets
        the alert now.
        """
        rows = await self.log.exchanges(stored_id(report))
        late: list[Delivery] = []
        if changes and ("category" in changes or "urgency" in changes):
            late = await self._late_alerts(report, local, rows)
        return late + await self._events(
            report, local, event, changes, rows, from_peer=from_peer, photos=photos
        )

    async def _late_alerts(
        self, report: Report, local: SchemeConfig, rows: list[OutboxRow]
    ) -> list[Delivery]:
        """The alert, as it is now, for each peer that wants it only since it was reclassified.

        Only while it is open and younger than the chat TTL, as a new local copy
        would be. Once only: a peer already sent it is left to the events; one that
        refused or never got it before is sent it under a fresh row, with the same
        idempotency key, so the peer takes it at most once however it went.
        """
        if report.origin_scheme is not None or report.status != ReportStatus.OPEN:
            return []
        if utcnow() - report.created_at >= timedelta(hours=local.chat_ttl_hours):
            return []  # as for local chats: past the TTL it is no longer news
        report_id = stored_id(report)
        had = {p.peer for p in map(read_federation, rows) if p.op == log.ALERT}
        wanted = {
            slug for slug in self.peers if slug not in had and self._wanted(local, slug, report)
        }
        if not wanted:
            return []
        tries = await self.store.outbox.for_report(report_id, kind=OutboxKind.FEDERATION)
        tried = [read_federation(row) for row in tries]
        hashes = [photo.sha256 for photo in await self.store.reports.photos(report_id)]
        out = []
        for slug, first in self._alerts(report, local, hashes):
            if slug not in wanted:
                continue
            failed = sum(1 for p in tried if p.op == log.ALERT and p.peer == slug)
            # A row given up on keeps its dedupe key: this try needs another.
            out.append(
                replace(first, dedupe_key=f"{first.dedupe_key}:{failed}") if failed else first
            )
        logger.info("report %s reclassified: now sent to %d more peer(s)", report_id, len(out))
        return out

    async def _events(
        self,
        report: Report,
        local: SchemeConfig,
        event: ReportEvent,
        changes: Mapping[str, Any] | None,
        rows: list[OutboxRow],
        *,
        from_peer: str | None,
        photos: Sequence[str] = (),
    ) -> list[Delivery]:
        payloads = [read_federation(row) for row in rows]
        origin, origin_id = local.slug, stored_id(report)
        if report.origin_scheme is not None:
            if event.kind != EventKind.STATUS or event.status not in OPERATOR_STATUSES:
                return []
            receipts = (p for p in payloads if isinstance(p, FederationReceipt))
            receipt = next(receipts, None)
            if receipt is None:
                return []
            origin, origin_id = report.origin_scheme, receipt.origin_id
        elif event.kind not in (EventKind.STATUS, EventKind.UPDATE, EventKind.NOTE):
            return []
        targets = {p.peer for p in payloads if p.op == log.ALERT}
        if report.origin_scheme is not None:
            targets = {report.origin_scheme}
        targets = {slug for slug in targets if slug in self.peers and slug != from_peer}
        if not targets:
            return []
        if photos:  # only to peers that take photos at all
            targets = {slug for slug in targets if self.peers[slug].config.photos}
            if not targets:
                return []
        kept = _DESCRIBED_CHANGES if event.status == ReportChange.DESCRIBED else _FORWARDED_CHANGES
        forwarded = {k: v for k, v in (changes or {}).items() if k in kept}
        if report.origin_scheme is not None:
            forwarded = {}  # a call here does not change the sending town's report
        body = {
            "origin": origin,
            "id": origin_id,
            "kind": str(event.kind),
            "status": event.status,
            "text": event.text,
            "by": await self._by(event),
            "changes": forwarded,
            **({"photos": list(photos[: protocol.MAX_PHOTOS])} if photos else {}),
        }
        key = f"{local.slug}:{origin}:{origin_id}:event:{uuid.uuid4().hex}"
        reclassified = report.origin_scheme is None and (
            "category" in forwarded or "urgency" in forwarded
        )

        def for_peer(slug: str) -> dict[str, Any]:
            if not reclassified:
                return body
            if self._wanted(local, slug, report):  # both, in case it was log-only there
                now = {"category": str(report.category), "urgency": str(report.urgency)}
                return body | {"changes": forwarded | now}
            # No longer for this peer: its copies come down (log-only is never
            # broadcast) and it is not told a category it never agreed to take.
            rest = {k: v for k, v in forwarded.items() if k not in ("category", "urgency")}
            return body | {"changes": rest | {"urgency": "log"}}

        return [
            Delivery(
                self.peers[slug].chat_id,
                FederationRequest(
                    op=log.EVENT,
                    peer=slug,
                    sender=local.slug,
                    key=key,
                    path=protocol.events_path(origin_id),
                    body=for_peer(slug),
                ),
            )
            for slug in sorted(targets)
        ]

    def _wanted(self, local: SchemeConfig, slug: str, report: Report) -> bool:
        """Would this peer get the report, as it is now, if it were new?"""
        peer = self.peers[slug]
        return report.category in peer.config.receives and any(
            rule.slug == slug and rule.wants(report.category, report.urgency)
            for rule in local.neighbours
        )

    async def _by(self, event: ReportEvent) -> str | None:
        if event.member_id is None:
            return None
        member = await self.store.members.get_by_id(event.member_id)
        return member.display_name

    # --- the outbox's sender -----------------------------------------------------------

    @property
    def sender(self) -> Sender:
        return Sender(self.send)

    async def send(self, row: OutboxRow) -> Delivered:
        """POST the row's request; 2xx and 409 (already there) are done.

        Network errors, 408, 429 and 5xx are tried again later; any other refusal
        is final (the peer will not take it however often it is sent).
        """
        payload = read_federation(row)
        if isinstance(payload, FederationReceipt):
            return Delivered()  # a record of what came in; nothing to send
        peer = self.peers.get(payload.peer)
        if peer is None:
            raise UndeliverableError(f"{payload.peer} is no longer a peer here")
        body = json.dumps(payload.body, separators=(",", ":")).encode()
        path, key, sender = payload.path, payload.key, payload.sender
        try:
            status, text = await self.request(peer, "POST", path, body, key=key, sender=sender)
            if status in (408, 429) or status >= 500:
                raise RetryLaterError(f"{peer.slug} answered {status}")
        except RetryLaterError as exc:
            if row.attempts >= MAX_ATTEMPTS:  # the worker gives up on it now
                await self._tell_coordinators(row, peer, str(exc))
            raise
        if status < 300 or status == 409:
            logger.info("federation %s to %s: %s", payload.op, peer.slug, status)
            return Delivered()
        await self._tell_coordinators(row, peer, f"refused: {status}")
        raise UndeliverableError(f"{peer.slug} refused it: {status} {text[:200]}")

    async def _tell_coordinators(self, row: OutboxRow, peer: Peer, error: str) -> None:
        """An alert a peer will never get is told to the sending scheme's coordinators."""
        if read_federation(row).op != log.ALERT:
            return
        text = federation_texts.peer_not_reached(peer.name, row.report_id, error)
        await tell_coordinators(self.store, row.scheme_id, text, key=f"fedlost:{stored_id(row)}")
        self._wake()

    async def request(
        self,
        peer: Peer,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        key: str = "",
        sender: str,
    ) -> tuple[int, str]:
        """One signed request to the peer; network failures become `RetryLaterError`."""
        headers = peer.sign(sender, method, path, body, key=key)
        if body:
            headers["Content-Type"] = "application/json"
        try:
            # Never a redirect: it would carry our signed headers to wherever it points.
            async with self._client().request(
                method, peer.url + path, data=body or None, headers=headers, allow_redirects=False
            ) as response:
                return response.status, await response.text()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RetryLaterError(f"{peer.slug} unreachable: {type(exc).__name__}") from exc

    async def fetch_photo(self, peer: Peer, sha256: str, *, sender: str) -> bytes:
        """A photo of the peer's alert, by authenticated fetch; the caller checks its hash."""
        path = protocol.photo_path(sha256)
        headers = peer.sign(sender, "GET", path)
        data = bytearray()
        try:
            async with (
                self._photo_fetches,  # a few at a time: each may be 20 MB to re-encode
                self._client().get(
                    peer.url + path, headers=headers, allow_redirects=False
                ) as response,
            ):
                if response.status != 200:
                    raise RetryLaterError(f"{peer.slug} gave no photo: {response.status}")
                async for chunk in response.content.iter_chunked(64 * 1024):
                    data += chunk
                    if len(data) > MAX_PHOTO_BYTES:
                        raise UndeliverableError(f"{peer.slug} sent a photo over 4 MiB")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise RetryLaterError(f"{peer.slug} unreachable: {type(exc).__name__}") from exc
        return bytes(data)


def _alert_body(
    report: Report, origin: str, peer: Peer, photo_hashes: list[str]
) -> dict[str, Any]:
    return {
        "origin": origin,
        "id": stored_id(report),
        "to": peer.slug,
        "category": str(report.category),
        "urgency": str(report.urgency),
        "description": report.description,
        "subject_description": report.subject_description,
        # The peer's police see it: the street, never the reporting shop's name.
        "location_text": police_place(report),
        "latitude": report.latitude,
        "longitude": report.longitude,
        "direction": report.direction,
        "value_pence": report.value_pence,
        "police_reference": report.police_reference,
        "occurred_at": report.occurred_at.isoformat(),
        "photos": photo_hashes[: protocol.MAX_PHOTOS] if peer.config.photos else [],
    }
