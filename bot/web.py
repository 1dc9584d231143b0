"""The bot's own aiohttp server: the Telegram webhook, health, readiness and metrics.

`shopwatch worker` serves the same health, readiness and metrics routes
(`build_health_app`), so every sending process can be probed and scraped alike.

`/healthz` is open: it says only that the process is up. `/readyz` and `/metrics`
say more (what is failing, how many alerts each scheme sends as they happen), so
they answer only a caller on this machine (a loopback address, and no proxy's
forwarding header: a reverse proxy here relays callers from anywhere) or one
bearing `SHOPWATCH_METRICS_TOKEN`.

Follows python-telegram-bot's custom-webhook example: the route checks Telegram's
secret header before it reads the body, decodes the Update and hands it to the
application's queue, so a forged call is refused and changes nothing.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import socket
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlsplit

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import SecretStr
from telegram.ext import Application

from bot.health import Readiness
from bot.updates import decode_update, update_id_of

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_UPDATE_BYTES = 1024 * 1024
APPLICATION_KEY: web.AppKey[Application[Any, Any, Any, Any, Any, Any]] = web.AppKey(
    "application", Application
)


def webhook_path(webhook_url: str) -> str:
    path = urlsplit(webhook_url).path
    return path if path not in ("", "/") else "/telegram"


async def healthz(request: web.Request) -> web.Response:
    """Process is up: used by Docker and load balancers; says nothing else on purpose."""
    return web.json_response({"status": "ok"})


def _webhook_handler(secret: str) -> Any:
    async def receive_update(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), secret.encode()):
            logger.warning("webhook call with a wrong secret from %s refused", request.remote)
            return web.json_response({"ok": False, "error": "forbidden"}, status=403)
        application = request.app[APPLICATION_KEY]
        try:
            data = await request.json()
        except (ValueError, RecursionError) as exc:
            logger.warning("webhook body that is not JSON refused: %s", type(exc).__name__)
            return web.json_response({"ok": False, "error": "malformed update"}, status=400)
        if update_id_of(data) is None:
            logger.warning("webhook body that is not an update refused")
            return web.json_response({"ok": False, "error": "malformed update"}, status=400)
        update = decode_update(data, application.bot)
        if update is None:
            # Taken, not refused: Telegram would resend it and hold back every update after it.
            return web.json_response({"ok": True})
        await application.update_queue.put(update)
        return web.json_response({"ok": True})

    return receive_update


def _readyz(readiness: Readiness) -> Any:
    async def readyz(request: web.Request) -> web.Response:
        """200 when an alert would go out now; 503 with the failing checks otherwise."""
        checks = await readiness.checks()
        ready = all(c.ok for c in checks)
        body = {
            "status": "ready" if ready else "not ready",
            "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks},
        }
        return web.json_response(body, status=200 if ready else 503)

    return readyz


def _metrics(readiness: Readiness) -> Any:
    async def metrics(request: web.Request) -> web.Response:
        await readiness.checks()  # refreshes the outbox gauges
        payload = generate_latest(readiness.metrics.registry)
        return web.Response(body=payload, headers={"Content-Type": CONTENT_TYPE_LATEST})

    return metrics


FORWARDING_HEADERS = ("Forwarded", "X-Forwarded-For", "X-Real-IP")
Route = Any


def _from_this_machine(request: web.Request) -> bool:
    """A loopback caller that no proxy relays (a proxy here may relay anyone)."""
    if any(name in request.headers for name in FORWARDING_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.remote or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _bears(request: web.Request, token: SecretStr | None) -> bool:
    if token is None:
        return False
    expected = f"Bearer {token.get_secret_value()}".encode()
    return hmac.compare_digest(request.headers.get("Authorization", "").encode(), expected)


def _revealing(route: Route, token: SecretStr | None) -> Route:
    """`route` for this machine and the token's bearer only; anyone else learns nothing."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        if _from_this_machine(request) or _bears(request, token):
            response: web.StreamResponse = await route(request)
            return response
        if token is None:
            error = "only from this machine (set SHOPWATCH_METRICS_TOKEN to ask from elsewhere)"
            return web.json_response({"ok": False, "error": error}, status=403)
        return web.json_response(
            {"ok": False, "error": "a bearer token is needed"},
            status=401,
            headers={"WWW-Authenticate": 'Bearer realm="shopwatch"'},
        )

    return guarded


def add_health_routes(
    app: web.Application, readiness: Readiness | None, metrics_token: SecretStr | None = None
) -> None:
    app.router.add_get("/healthz", healthz)
    if readiness is not None:
        app.router.add_get("/readyz", _revealing(_readyz(readiness), metrics_token))
        app.router.add_get("/metrics", _revealing(_metrics(readiness), metrics_token))


def build_health_app(
    readiness: Readiness, metrics_token: SecretStr | None = None
) -> web.Application:
    """A `shopwatch worker`'s server: no webhook or federation, those stay with `run`."""
    app = web.Application()
    add_health_routes(app, readiness, metrics_token)
    return app


async def serve(
    app: web.Application, host: str, port: int, *, sock: socket.socket | None = None
) -> tuple[web.AppRunner, int | None]:
    """Start `app` on host:port; port 0 takes any free one, returned as bound.

    With `sock`, a socket already bound (handed over by whoever started the bot, which
    knew the port before the bot did), `app` is served on it and host:port are not used.
    """
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port) if sock is None else web.SockSite(runner, sock)
    try:
        await site.start()
    except OSError:
        await runner.cleanup()
        raise
    for address in runner.addresses:
        if isinstance(address, tuple):
            return runner, int(address[1])
    return runner, None


def build_web_app(
    application: Application[Any, Any, Any, Any, Any, Any],
    *,
    readiness: Readiness | None = None,
    webhook_url: str | None = None,
    webhook_secret: str | None = None,
    metrics_token: SecretStr | None = None,
    routes: Sequence[web.RouteDef] = (),
) -> web.Application:
    """`routes` are the features' own (`bot.plugins`), e.g. the federation's inbound."""
    app = web.Application(client_max_size=MAX_UPDATE_BYTES)
    app[APPLICATION_KEY] = application
    add_health_routes(app, readiness, metrics_token)
    if webhook_url and webhook_secret:
        app.router.add_post(webhook_path(webhook_url), _webhook_handler(webhook_secret))
    app.router.add_routes(routes)
    return app
