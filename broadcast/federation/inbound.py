"""The peers' way in: `/federation/v1/...` on the bot's own web server.

Every request is checked in the same order before anything is stored: size
(413), a known peer and a good, fresh signature (401), the peer's rate (429),
JSON that fits the protocol (422), what that peer may send (403), and its
idempotency key not taken before (409). Each refusal is audited (a burst of
429s once) and stores nothing else; an alert
that passes is stored and routed by `AlertService` like a member's, marked as
from the peer (source `federation`, `origin_scheme`), with its receipt in the
same transaction.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import re
import time
import warnings
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from aiohttp import web
from PIL import Image, UnidentifiedImageError
from pydantic import BaseModel, ValidationError

from broadcast.alerts import AlertService, ReportDraft, member_text, one_line, text_problem
from broadcast.delivery import RetryLaterError, UndeliverableError
from broadcast.federation import protocol, signing
from broadcast.federation.link import FederationLink
from broadcast.federation.peers import Peer
from config.errors import DuplicateError, InvalidPhotoError, NotFoundError
from config.vocabulary import OPERATOR_STATUSES, AuditOutcome, EventKind, ReportSource
from storage import federation as log
from storage.ids import stored_id
from storage.models import ReportEvent
from storage.outbox import Delivery
from storage.outbox_payloads import FederationReceipt

logger = logging.getLogger(__name__)

MAX_KEY = 150
_KEY = re.compile(r"^[A-Za-z0-9:._-]{1,150}$")
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


class RefusedError(Exception):
    """A request the receiver will not take: its HTTP status and a short reason."""

    def __init__(
        self, status: int, reason: str, peer: str | None = None, *, retry_after: int = 0
    ) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.peer = peer
        self.retry_after = retry_after


def _refusal(refused: RefusedError) -> web.Response:
    headers = {"Retry-After": str(refused.retry_after)} if refused.retry_after else None
    return web.json_response(
        {"ok": False, "error": refused.reason, "time": time.time()},
        status=refused.status,
        headers=headers,
    )


class PeerRates:
    """Each peer's requests, a token bucket apiece: `burst` at once, then
    `requests_per_minute`; one peer's flood leaves the others' buckets alone.

    The first refusal of a burst is audited and logged, with the count of the last
    burst's others; the rest of the burst only counts, so a flood cannot grow the
    audit table or the log any more than it can the log of reports.
    """

    def __init__(self) -> None:
        self._tokens: dict[str, float] = {}
        self._at: dict[str, float] = {}
        self._in_burst: dict[str, int] = {}
        self._last_burst: dict[str, int] = {}

    def take(self, peer: Peer, now: float | None = None) -> None:
        """One request's token, or `RefusedError(429)` saying when the next one is due."""
        moment = time.monotonic() if now is None else now
        per_second = peer.config.requests_per_minute / 60.0
        capacity = float(peer.config.burst)
        tokens = self._tokens.get(peer.slug, capacity)
        tokens = min(capacity, tokens + (moment - self._at.get(peer.slug, moment)) * per_second)
        self._at[peer.slug] = moment
        if tokens >= 1.0:
            self._tokens[peer.slug] = tokens - 1.0
            refused = self._in_burst.pop(peer.slug, 0)
            if refused:
                self._last_burst[peer.slug] = refused - 1  # the audited first not counted
            return
        self._tokens[peer.slug] = tokens
        self._in_burst[peer.slug] = self._in_burst.get(peer.slug, 0) + 1
        wait = math.ceil((1.0 - tokens) / per_second)
        raise RefusedError(
            429, f"more than {peer.config.burst} requests at once", peer.slug, retry_after=wait
        )

    def suppressed(self, refused: RefusedError) -> int | None:
        """For a 429: None when it is not the first of its burst, else how many the
        last burst left out of the audit."""
        assert refused.peer is not None
        if self._in_burst.get(refused.peer, 0) > 1:
            return None
        return self._last_burst.pop(refused.peer, 0)


class RefusalSampler:
    """Unauthenticated refusals (401) are audited at most once per reason a minute.

    Anyone can send them, so auditing each would let a stranger grow the audit table
    without bound; the entry that is written counts the ones left out since the last.
    Refusals of a peer that signed correctly are each audited.
    """

    WINDOW_SECONDS = 60.0

    def __init__(self) -> None:
        self._last: dict[str, float] = {}
        self._left_out: dict[str, int] = {}

    def suppressed(self, refused: RefusedError) -> int | None:
        """None: leave this one out of the audit; else how many were left out before it."""
        if refused.status != 401:
            return 0
        now = time.monotonic()
        last = self._last.get(refused.reason)
        if last is not None and now - last < self.WINDOW_SECONDS:
            self._left_out[refused.reason] = self._left_out.get(refused.reason, 0) + 1
            return None
        self._last[refused.reason] = now
        return self._left_out.pop(refused.reason, 0)


M = TypeVar("M", bound=BaseModel)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class FederationReceiver:
    """The inbound routes of one deployment."""

    def __init__(self, link: FederationLink, alerts: AlertService) -> None:
        self.link = link
        self.alerts = alerts
        self.store = link.store
        self._sampler = RefusalSampler()
        self._rates = PeerRates()
        self._ours = frozenset(scheme.slug for scheme in link.schemes.schemes)

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post(protocol.ALERTS_PATH, self._guarded(self.receive_alert)),
            web.post(protocol.EVENTS_PATH, self._guarded(self.receive_event)),
            web.get(protocol.PHOTOS_PATH, self._guarded(self.serve_photo)),
            web.get(protocol.PING_PATH, self._guarded(self.ping)),
            web.post(protocol.PING_PATH, self._guarded(self.ping)),
        ]

    def _guarded(self, handler: Handler) -> Handler:
        async def guarded(request: web.Request) -> web.StreamResponse:
            try:
                return await handler(request)
            except RefusedError as refused:
                if refused.status == 429:
                    suppressed = self._rates.suppressed(refused)
                else:
                    suppressed = self._sampler.suppressed(refused)
                if suppressed is None:
                    return _refusal(refused)
                peer = refused.peer or request.headers.get(signing.PEER_HEADER, "")[:63]
                # %r throughout: the path and the peer's name are the caller's words, and a
                # decoded "%0A" in them must not write a line of its own into the log.
                logger.warning(
                    "federation %r %r from %r refused (%s): %r",
                    request.method,
                    request.path[:200],
                    peer,
                    refused.status,
                    refused.reason,
                )
                await self.store.audit.record(
                    None,
                    "federation.refused",
                    AuditOutcome.REFUSED,
                    detail={
                        "peer": peer,
                        "path": request.path,
                        "status": refused.status,
                        "reason": refused.reason,
                        **({"retry_after": refused.retry_after} if refused.retry_after else {}),
                        **({"suppressed": suppressed} if suppressed else {}),
                    },
                )
                return _refusal(refused)

        return guarded

    # --- checks every request passes ---------------------------------------------------

    async def _authentic(self, request: web.Request) -> tuple[Peer, bytes]:
        body = await _read_body(request)
        slug = request.headers.get(signing.PEER_HEADER, "")
        peer = self.link.peers.get(slug)
        if peer is None:
            raise RefusedError(401, "unknown peer")
        problem = peer.check(
            request.headers, request.method, request.path, body, recipients=self._ours
        )
        if problem is not None:
            raise RefusedError(401, problem, peer.slug)
        self._rates.take(peer)
        return peer, body

    async def _fresh_key(self, request: web.Request, peer: Peer) -> str:
        key = request.headers.get(signing.IDEMPOTENCY_HEADER, "")
        if not _KEY.match(key):
            raise RefusedError(422, "missing or malformed Idempotency-Key", peer.slug)
        if await self.link.log.receipt(peer.slug, key) is not None:
            raise RefusedError(409, "already received", peer.slug)
        return key

    # --- the routes --------------------------------------------------------------------

    async def receive_alert(self, request: web.Request) -> web.Response:
        peer, body = await self._authentic(request)
        alert = _parse(protocol.AlertMessage, body, peer)
        if request.headers.get(signing.IDEMPOTENCY_HEADER) != log.alert_key(
            alert.origin, alert.id
        ):
            raise RefusedError(422, "the Idempotency-Key of an alert is <origin>:<id>", peer.slug)
        if alert.origin != peer.slug:
            raise RefusedError(403, "an alert's origin must be the peer that signs it", peer.slug)
        if alert.to not in {scheme.slug for scheme in self.link.schemes.schemes}:
            raise RefusedError(403, f"no scheme {alert.to} here", peer.slug)
        target = self.link.schemes.scheme(alert.to)
        if not any(rule.slug == peer.slug for rule in target.neighbours):
            # Only a scheme that has an agreement with the peer (a neighbour rule naming
            # it) takes its alerts; any other scheme of this deployment is not its business.
            raise RefusedError(403, f"{alert.to} has no agreement with {peer.slug}", peer.slug)
        if alert.category not in peer.config.sends:
            raise RefusedError(403, f"{peer.slug} may not send {alert.category} alerts", peer.slug)
        key = await self._fresh_key(request, peer)
        photos = await self._photos(peer, alert.photos, alert.to) if peer.config.photos else ()
        scheme = await self.store.schemes.get_by_slug(alert.to)
        scheme_id = stored_id(scheme)
        draft = ReportDraft(
            scheme_id=scheme_id,
            member_id=None,
            category=alert.category,
            urgency=alert.urgency,
            description=alert.description,
            subject_description=alert.subject_description,
            location_text=one_line(member_text(alert.location_text))
            if alert.location_text
            else None,
            latitude=alert.latitude,
            longitude=alert.longitude,
            direction=alert.direction,
            value_pence=alert.value_pence,
            police_reference=alert.police_reference,
            photos=photos,
            source=ReportSource.FEDERATION,
            origin_scheme=peer.slug,
            occurred_at=alert.occurred_at,
        )
        receipt = _receipt(peer, key, alert.id)
        try:
            submitted = await self.alerts.submit(draft, also=(receipt,))
        except DuplicateError:
            raise RefusedError(409, "already received", peer.slug) from None
        except (InvalidPhotoError, ValueError) as exc:
            raise RefusedError(422, str(exc), peer.slug) from None
        report_id = stored_id(submitted.report)
        await self.store.audit.record(
            None,
            "federation.alert",
            AuditOutcome.ALLOWED,
            scheme_id=scheme_id,
            detail={"peer": peer.slug, "origin_id": alert.id, "report": report_id},
        )
        return web.json_response({"ok": True, "id": report_id}, status=201)

    async def _photos(self, peer: Peer, hashes: list[str], to: str) -> tuple[bytes, ...]:
        """Fetched from the sender (a few at a time, stopping at 4 MiB), checked against
        the hash it signed and against what a ShopWatch serves (a JPEG of at most 2048 px
        a side, read from its header, before any pixel is decoded); re-encoded on storing
        in the photo store's own processes (`PhotoStore.ingest_async`), like every photo."""
        out: list[bytes] = []
        for sha256 in hashes:
            try:
                data = await self.link.fetch_photo(peer, sha256, sender=to)
            except RetryLaterError as exc:
                # What went wrong stays here: telling the peer would make us its port
                # scanner (which address answered what).
                logger.warning("photo %s from %r not fetched: %r", sha256, peer.slug, str(exc))
                raise RefusedError(
                    503, "could not fetch a photo; try again later", peer.slug
                ) from None
            except UndeliverableError as exc:
                raise RefusedError(422, str(exc), peer.slug) from None
            if hashlib.sha256(data).hexdigest() != sha256:
                raise RefusedError(422, f"photo {sha256} does not match its hash", peer.slug)
            problem = _not_a_peer_photo(data)
            if problem is not None:
                raise RefusedError(422, f"photo {sha256} {problem}", peer.slug)
            out.append(data)
        return tuple(out)

    async def receive_event(self, request: web.Request) -> web.Response:
        peer, body = await self._authentic(request)
        message = _parse(protocol.EventMessage, body, peer)
        if request.match_info.get("id") != str(message.id):
            raise RefusedError(422, "the path and the body name different alerts", peer.slug)
        report_id = await self._report_for(peer, message)
        key = await self._fresh_key(request, peer)
        # A peer's words pass the same filter as a member's (no NUL, no control
        # characters); a name stays on one line.
        text = member_text(message.text) or None if message.text is not None else None
        if message.kind == "status" and message.status in OPERATOR_STATUSES:
            by = one_line(member_text(message.by)) if message.by else ""
            text = f"{by}, {peer.name}" if by else peer.name
        event = ReportEvent(
            report_id=report_id,
            member_id=None,
            kind=EventKind(message.kind),
            status=message.status,
            text=text,
        )
        changes = _cleaned(message.changes.model_dump(exclude_none=True), peer) or None
        photos: tuple[bytes, ...] = ()
        if message.photos and peer.config.photos:
            report = await self.store.reports.get(report_id)
            here = await self.store.schemes.get(report.scheme_id)
            photos = await self._photos(peer, message.photos, here.slug)
        try:
            await self.alerts.record_from_peer(
                report_id,
                event,
                changes,
                peer=peer.slug,
                receipt=_receipt(peer, key, message.id),
                photos=photos,
            )
        except DuplicateError:
            raise RefusedError(409, "already received", peer.slug) from None
        except (InvalidPhotoError, ValueError) as exc:
            raise RefusedError(422, str(exc), peer.slug) from None
        await self.store.audit.record(
            None,
            "federation.event",
            AuditOutcome.ALLOWED,
            detail={"peer": peer.slug, "report": report_id, "status": message.status},
        )
        return web.json_response({"ok": True}, status=201)

    async def _report_for(self, peer: Peer, message: protocol.EventMessage) -> int:
        """Our report the event is about, if this peer may change it so."""
        if message.origin == peer.slug:  # the scheme the alert came from
            receipt = await self.link.log.receipt(peer.slug, log.alert_key(peer.slug, message.id))
            if receipt is None or receipt.report_id is None:
                raise RefusedError(404, "no such alert from this peer", peer.slug)
            category = message.changes.category
            if category is not None and category not in peer.config.sends:
                raise RefusedError(403, f"{peer.slug} may not send {category} alerts", peer.slug)
            return receipt.report_id
        if message.origin not in {scheme.slug for scheme in self.link.schemes.schemes}:
            raise RefusedError(403, "the alert is neither the peer's nor ours", peer.slug)
        try:
            report = await self.store.reports.get(message.id)
        except NotFoundError:
            raise RefusedError(404, "no such alert", peer.slug) from None
        scheme = await self.store.schemes.get_by_slug(message.origin)
        if report.scheme_id != scheme.id or peer.slug not in await self.link.log.peers_of(
            message.id
        ):
            raise RefusedError(404, "no such alert sent to this peer", peer.slug)
        only_a_call = message.kind == "status" and message.status in OPERATOR_STATUSES
        if not only_a_call or message.changes.model_dump(exclude_none=True) or message.photos:
            raise RefusedError(
                403, "a receiving scheme sends only its control room's calls", peer.slug
            )
        return message.id

    async def serve_photo(self, request: web.Request) -> web.Response:
        peer, _ = await self._authentic(request)
        sha256 = request.match_info.get("sha256", "")
        photo = (
            await self.link.log.photo_shared_with(sha256, peer.slug)
            if _SHA256.match(sha256)
            else None
        )
        if photo is None:
            raise RefusedError(404, "no such photo shared with this peer", peer.slug)
        data = self.alerts.photos.read(photo.relative_path)
        await self.store.audit.record(
            None,
            "federation.photo",
            AuditOutcome.ALLOWED,
            detail={"peer": peer.slug, "sha256": sha256, "report": photo.report_id},
        )
        return web.Response(body=data, content_type="image/jpeg")

    async def ping(self, request: web.Request) -> web.Response:
        """For `shopwatch federation check`: the signature works and what our clock says."""
        peer, _ = await self._authentic(request)
        return web.json_response({"ok": True, "peer": peer.slug, "time": time.time()})


def _not_a_peer_photo(data: bytes) -> str | None:
    """What makes these bytes no photo a ShopWatch serves, from the header alone."""
    side = protocol.MAX_PHOTO_SIDE
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:  # the header only, no pixel
                kind, (width, height) = opened.format, opened.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        return f"claims more pixels than {side} x {side}"
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        return "is not an image"
    if kind != protocol.PHOTO_FORMAT:
        return f"is {kind}, not JPEG"
    if not (0 < width <= side and 0 < height <= side):
        return f"is {width} x {height} px, more than {side} a side"
    return None


async def _read_body(request: web.Request) -> bytes:
    if request.content_length is not None and request.content_length > protocol.MAX_BODY:
        raise RefusedError(413, "body larger than 1 MiB")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(64 * 1024):
        size += len(chunk)
        if size > protocol.MAX_BODY:
            raise RefusedError(413, "body larger than 1 MiB")
        chunks.append(chunk)
    return b"".join(chunks)


def _parse(model: type[M], body: bytes, peer: Peer) -> M:
    try:
        data: Any = json.loads(body)
        return model.model_validate(data)
    except (json.JSONDecodeError, UnicodeDecodeError, ValidationError, RecursionError) as exc:
        # RecursionError: JSON nested deeper than the parser goes, a 422 like any other.
        raise RefusedError(
            422, f"not a valid {model.__name__}: {_first_error(exc)}", peer.slug
        ) from None


def _first_error(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        error = exc.errors()[0]
        return f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}"
    return type(exc).__name__


def _cleaned(changes: dict[str, Any], peer: Peer) -> dict[str, Any]:
    """A peer's words for the alert pass the same filter as a member's; a description
    that would show nothing is refused, as a member's is."""
    out = {
        name: member_text(value) if isinstance(value, str) else value
        for name, value in changes.items()
    }
    if "description" in out and text_problem(out["description"]) is not None:
        raise RefusedError(422, "the description is empty", peer.slug)
    return out


def _receipt(peer: Peer, key: str, origin_id: int) -> Delivery:
    receipt = FederationReceipt(op=log.RECEIPT, peer=peer.slug, key=key, origin_id=origin_id)
    return Delivery(peer.chat_id, receipt, dedupe_key=log.receipt_key(peer.slug, key))
