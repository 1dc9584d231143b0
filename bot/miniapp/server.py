"""The Mini App gallery on the bot's own web server: a page, its two JSON calls, pictures.

    GET  <path>/                  the page (no personal data: it asks for it)
    GET  <path>/static/<file>     its script and style sheet, served from this package
    GET  <path>/api/galleries     the viewer's scheme's galleries       (initData)
    GET  <path>/api/subjects/<n>  one subject's page, audited            (initData)
    GET  <path>/img/<token>       one picture, watermarked for its viewer (signed address)

`<path>` is the path of `miniapp_url`. Every JSON call carries Telegram's `initData`
in `Authorization: tma <initData>` and is checked afresh: the signature, its age,
and the person's membership and role as they are at that moment. Nothing personal
may be cached (`Cache-Control: no-store`), and the page loads nothing from elsewhere
(its Content-Security-Policy says so to the browser too).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from importlib import resources
from typing import Any, NoReturn
from urllib.parse import urlsplit

from aiohttp import web

from bot.miniapp.images import ImageLinkError, ImageLinks
from bot.miniapp.init_data import InitDataChecker, InitDataError, WebAppUser
from broadcast.subjects import gallery_texts as texts
from broadcast.subjects.service import VIEWERS, Actor
from broadcast.subjects.viewing import GalleryEntry, GalleryViewer, SubjectPage
from broadcast.subjects.watermark import viewer_reference, watermark
from config import formats
from config.errors import AccessDeniedError, NotFoundError
from config.vocabulary import AuditOutcome, MemberStatus
from storage.ids import stored_id
from storage.models import Member, Scheme, utcnow
from storage.photos import PhotoStore
from storage.store import Store

logger = logging.getLogger(__name__)

AUTH_SCHEME = "tma"
STATIC_FILES = {
    "app.js": "application/javascript",
    "app.css": "text/css",
}
PRIVATE_HEADERS = {
    "Cache-Control": "no-store",
    "Pragma": "no-cache",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
PAGE_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors https://web.telegram.org https://*.telegram.org"
)
HOW = "miniapp"


def miniapp_path(miniapp_url: str) -> str:
    """Where the app is served: the public URL's path, without its trailing slash."""
    return urlsplit(miniapp_url).path.rstrip("/")


def _static(name: str) -> bytes:
    return resources.files("bot.miniapp").joinpath("static", name).read_bytes()


class RefusedError(Exception):
    """A call the app does not answer: its HTTP status and the reason's code."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


def _day(value: date | None) -> str | None:
    return None if value is None else formats.day(value)


def _when(value: datetime) -> str:
    return formats.as_read(value)


class MiniApp:
    """The routes, with what they need: the log, the photos, the token's keys."""

    def __init__(
        self,
        *,
        miniapp_url: str,
        bot_token: str,
        store: Store,
        photos: PhotoStore,
        viewer: GalleryViewer,
        max_age_seconds: int,
        image_seconds: int,
    ) -> None:
        self.path = miniapp_path(miniapp_url)
        self._store = store
        self._photos = photos
        self._viewer = viewer
        self._init_data = InitDataChecker(bot_token, max_age_seconds)
        self._images = ImageLinks(bot_token, image_seconds)

    def routes(self) -> list[web.RouteDef]:
        base = self.path
        routes = [
            web.get(f"{base}/", self.page),
            web.get(f"{base}/static/{{name}}", self.static),
            web.get(f"{base}/api/galleries", self._api(self.galleries)),
            web.get(f"{base}/api/subjects/{{subject_id:\\d{{1,12}}}}", self._api(self.subject)),
            web.get(f"{base}/img/{{token}}", self.image),
        ]
        if base:
            routes.append(web.get(base, self.to_page))
        return routes

    # --- the page -------------------------------------------------------------------------

    async def to_page(self, request: web.Request) -> web.Response:
        raise web.HTTPFound(f"{self.path}/")

    async def page(self, request: web.Request) -> web.Response:
        return web.Response(
            body=_static("index.html"),
            content_type="text/html",
            charset="utf-8",
            headers={**PRIVATE_HEADERS, "Content-Security-Policy": PAGE_POLICY},
        )

    async def static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC_FILES:
            raise web.HTTPNotFound()
        return web.Response(
            body=_static(name),
            content_type=STATIC_FILES[name],
            charset="utf-8",
            headers={"Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"},
        )

    # --- who is asking --------------------------------------------------------------------

    def _api(
        self, handler: Callable[[web.Request, Actor, Scheme], Awaitable[dict[str, Any]]]
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def call(request: web.Request) -> web.Response:
            try:
                user = await self._user(request)
                actor, scheme = await self._membership(user, request.query.get("scheme"))
                body = await handler(request, actor, scheme)
            except RefusedError as refused:
                return _refusal(refused.status, refused.reason)
            return web.json_response(body, headers=PRIVATE_HEADERS)

        return call

    async def _user(self, request: web.Request) -> WebAppUser:
        header = request.headers.get("Authorization", "")
        kind, _, init_data = header.partition(" ")
        try:
            if kind.lower() != AUTH_SCHEME:
                raise InitDataError("missing")
            return self._init_data.check(init_data.strip())
        except InitDataError as error:
            logger.info("Mini App call refused: initData %s", error.reason)
            await self._store.audit.record(
                actor_telegram_id=None,
                action="miniapp.open",
                outcome=AuditOutcome.REFUSED,
                scheme_id=None,
                detail={"reason": error.reason, "path": request.path},
            )
            raise RefusedError(401, error.reason) from None

    async def _membership(self, user: WebAppUser, slug: str | None) -> tuple[Actor, Scheme]:
        """The membership this call acts under, as the log has it now.

        `scheme` (a slug) picks one where the person belongs to several; otherwise
        their first active membership that may see the galleries.
        """
        found = await self._store.members.for_user(user.id)
        if slug:
            found = [(m, s) for m, s in found if s.slug == slug]
            if not found:
                await self._refuse_member(user, None, "other_scheme", {"scheme": slug[:63]})
        fitting = [
            (m, s) for m, s in found if m.status is MemberStatus.ACTIVE and m.role in VIEWERS
        ]
        if fitting:
            member, scheme = fitting[0]
            return Actor(member), scheme
        if not found:
            await self._refuse_member(user, None, "not_member", {})
        member, scheme = found[0]
        active = [m for m, _ in found if m.status is MemberStatus.ACTIVE]
        reason = "role" if active else _status_reason(member)
        await self._refuse_member(user, member, reason, {})

    async def _refuse_member(
        self, user: WebAppUser, member: Member | None, reason: str, detail: dict[str, Any]
    ) -> NoReturn:
        await self._store.audit.record(
            actor_telegram_id=user.id,
            actor_member_id=member.id if member else None,
            action="miniapp.open",
            outcome=AuditOutcome.REFUSED,
            scheme_id=member.scheme_id if member else None,
            detail={**detail, "reason": reason},
        )
        raise RefusedError(403, reason)

    # --- the two calls --------------------------------------------------------------------

    async def galleries(
        self, request: web.Request, actor: Actor, scheme: Scheme
    ) -> dict[str, Any]:
        try:
            found = await self._viewer.galleries(actor, scheme, how=HOW)
        except AccessDeniedError:
            raise RefusedError(403, "role") from None
        others = await self._store.members.for_user(actor.telegram_id)
        member_id = stored_id(actor.member)
        return {
            "viewer": {
                "scheme": scheme.name,
                "slug": scheme.slug,
                "role": actor.member.role.value,
                "reference": viewer_reference(scheme.slug, member_id),
            },
            "schemes": [
                {"slug": s.slug, "name": s.name}
                for m, s in others
                if m.status is MemberStatus.ACTIVE and m.role in VIEWERS
            ],
            "galleries": [
                {
                    "key": "id_sought",
                    "title": "ID sought",
                    "entries": self._entries(found.id_sought, member_id),
                },
                {
                    "key": "known",
                    "title": "Known",
                    "entries": self._entries(found.known, member_id),
                },
                {
                    "key": "excluded",
                    "title": "Excluded",
                    "entries": self._entries(found.excluded, member_id),
                },
            ],
        }

    def _entries(self, entries: tuple[GalleryEntry, ...], member_id: int) -> list[dict[str, Any]]:
        return [
            {
                "id": e.subject_id,
                "kind": e.kind.value,
                "title": e.title,
                "summary": e.summary,
                "scheme": e.scheme_name if e.neighbour else None,
                "image": self._image_url(e.photo_id, member_id) if e.photo_id else None,
                "excluded_until": _day(e.excluded_until),
                "warned_until": _day(e.warned_until),
            }
            for e in entries
        ]

    def _image_url(self, photo_id: int, member_id: int) -> str:
        return f"{self.path}/img/{self._images.token(photo_id, member_id)}"

    async def subject(self, request: web.Request, actor: Actor, scheme: Scheme) -> dict[str, Any]:
        subject_id = int(request.match_info["subject_id"])
        try:
            page = await self._viewer.page(actor, subject_id, how=HOW)
        except NotFoundError:
            raise RefusedError(404, "not_found") from None
        except AccessDeniedError:
            raise RefusedError(403, "role") from None
        return self._page(page, stored_id(actor.member))

    def _page(self, page: SubjectPage, member_id: int) -> dict[str, Any]:
        return {
            "id": page.subject_id,
            "kind": page.kind.value,
            "title": page.title,
            "scheme": page.scheme_name,
            "aliases": list(page.aliases),
            "description": page.description,
            "ethnicity_descriptor": page.ethnicity_descriptor,
            "last_seen": _day(page.last_seen_at.date()),
            "photos": [self._image_url(p, member_id) for p in page.photo_ids],
            "notices": [
                {
                    "stage": n.stage.value,
                    "starts_on": _day(n.starts_on),
                    "ends_on": _day(n.ends_on),
                    "review_on": _day(n.review_on),
                    "conditions": n.conditions,
                    "served_on": _day(n.served_on),
                    "appealed": n.appealed,
                    "running": n.running,
                }
                for n in page.notices
            ],
            "reports": None
            if page.reports is None
            else [
                {
                    "id": r.report_id,
                    "when": _when(r.occurred_at),
                    "category": r.category,
                    "location": r.location,
                    "description": r.description,
                }
                for r in page.reports
            ],
        }

    # --- pictures -------------------------------------------------------------------------

    async def image(self, request: web.Request) -> web.Response:
        try:
            grant = self._images.check(request.match_info["token"])
        except ImageLinkError as error:
            status = 410 if error.reason == "image_expired" else 403
            return _refusal(status, error.reason)
        try:
            member = await self._store.members.get_by_id(grant.member_id)
            photo = await self._viewer.photo(Actor(member), grant.photo_id)
            scheme = next(
                s for s in await self._store.schemes.list_all() if s.id == member.scheme_id
            )
            data = self._photos.read(photo.relative_path)
        except AccessDeniedError:
            return _refusal(403, _status_reason(member))
        except (NotFoundError, FileNotFoundError, StopIteration):
            return _refusal(404, "not_found")
        reference = viewer_reference(scheme.slug, stored_id(member))
        marked = await asyncio.to_thread(watermark, data, reference, utcnow())
        return web.Response(body=marked, content_type="image/jpeg", headers=PRIVATE_HEADERS)


def _status_reason(member: Member) -> str:
    return "suspended" if member.status is MemberStatus.SUSPENDED else "not_member"


def _refusal(status: int, reason: str) -> web.Response:
    return web.json_response(
        {"error": reason, "message": texts.refusal(reason)}, status=status, headers=PRIVATE_HEADERS
    )


def add_miniapp_routes(app: web.Application, miniapp: MiniApp) -> None:
    app.router.add_routes(miniapp.routes())
