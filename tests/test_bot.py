"""The bot runs for real against the sandbox: people talk to it and read its answers."""

from __future__ import annotations

import re

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.health import Readiness
from bot.web import SECRET_HEADER, build_web_app
from config.vocabulary import AuditOutcome
from storage.outbox import Delivery
from storage.outbox_payloads import MessagePayload
from tests.town import WEBHOOK_SECRET, Town


async def test_a_coordinator_says_start_and_is_greeted_as_a_member(town: Town) -> None:
    await town.coordinator.send(town.bot, "/start")

    reply = await town.coordinator.next_reply(town.bot)

    assert "Hello Carol" in reply.body
    assert "Norwich ShopWatch" in reply.body
    assert "/alert" in reply.body


async def test_a_stranger_is_told_how_to_join(town: Town) -> None:
    stranger = town.person(900001, "Sam")

    await stranger.send(town.bot, "/start")

    reply = await stranger.next_reply(town.bot)
    assert "Hello Sam" in reply.body
    assert "ask your scheme coordinator for an invite link" in reply.body
    await stranger.send(town.bot, "/help")
    assert "invite link" in (await stranger.next_reply(town.bot)).body


async def test_the_bot_lists_its_commands_in_the_telegram_menu(town: Town) -> None:
    commands = dict(town.sandbox.commands(town.bot))
    assert {"start", "help"} <= commands.keys()


async def test_messages_from_strangers_in_the_scheme_group_are_ignored_and_audited(
    polling_town: Town,
) -> None:
    town = polling_town
    stranger = town.person(900002, "Lurker")
    town.group.add_member(stranger)

    await stranger.send(town.group, "/start")

    async def refusals() -> list[AuditOutcome]:
        entries = await town.runtime.store.audit.recent()
        return [e.outcome for e in entries if e.actor_telegram_id == stranger.id]

    # Updates of other chats may be handled first: wait for this one, not for another's.
    refused = await town.sandbox.wait_for(refusals, message="the refusal was never audited")
    assert town.bot_said(town.group) == [], "the bot says nothing in the group"
    assert set(refused) == {AuditOutcome.REFUSED}


async def test_the_health_check_answers(polling_town: Town) -> None:
    url = f"http://127.0.0.1:{polling_town.runtime.port}/healthz"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        assert response.status == 200
        assert await response.json() == {"status": "ok"}


async def _post_update(town: Town, secret: str | None, body: bytes) -> int:
    url = town.runtime.settings.webhook_url
    assert url is not None
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    async with aiohttp.ClientSession() as http, http.post(url, data=body, headers=headers) as r:
        return r.status


def _forged_start(user_id: int) -> bytes:
    return (
        '{"update_id": 990001, "message": {"message_id": 1, "date": 1700000000, '
        f'"chat": {{"id": {user_id}, "type": "private"}}, '
        f'"from": {{"id": {user_id}, "is_bot": false, "first_name": "Mallory"}}, '
        '"text": "/start", "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}'
    ).encode()


async def test_a_webhook_call_with_a_wrong_secret_is_refused_and_changes_nothing(
    town: Town,
) -> None:
    if town.runtime.settings.webhook_url is None:
        return  # polling has no webhook to forge
    mallory = town.person(900003, "Mallory")
    mallory.open_chat(town.bot)

    assert await _post_update(town, "not-the-secret", _forged_start(mallory.id)) == 403
    assert await _post_update(town, None, _forged_start(mallory.id)) == 403
    assert await _post_update(town, WEBHOOK_SECRET, b"{not json") == 400
    assert await _post_update(town, WEBHOOK_SECRET, b"[1, 2]") == 400

    await town.coordinator.send(town.bot, "/help")  # processed after anything forged
    await town.coordinator.next_reply(town.bot)
    assert town.chat(mallory) == []
    assert town.sandbox.webhook_url(town.bot) == town.runtime.settings.webhook_url


async def test_readiness_reports_the_database_telegram_and_the_outbox(polling_town: Town) -> None:
    url = f"http://127.0.0.1:{polling_town.runtime.port}/readyz"
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        body = await response.json()

    assert response.status == 200, body
    assert body["status"] == "ready"
    assert body["checks"]["database"] == {"ok": True, "detail": "sqlite"}
    assert body["checks"]["telegram"]["detail"] == "authorised as @shopwatch_bot"
    assert body["checks"]["outbox_backlog"]["ok"] is True


async def test_readiness_fails_when_telegram_refuses_the_token(polling_town: Town) -> None:
    town = polling_town
    request = HTTPXRequest()
    wrong = Bot("999:not-a-known-token", base_url=town.sandbox.base_url, request=request)
    readiness = Readiness(town.runtime.store, wrong, town.runtime.services.metrics)
    app = build_web_app(town.runtime.application, readiness=readiness)

    try:
        async with (
            TestServer(app) as server,
            aiohttp.ClientSession() as http,
            http.get(server.make_url("/readyz")) as response,
        ):
            body = await response.json()
    finally:
        await request.shutdown()

    assert response.status == 503
    assert body["checks"]["telegram"]["ok"] is False
    assert body["checks"]["database"]["ok"] is True


async def test_metrics_count_deliveries_in_prometheus_format(polling_town: Town) -> None:
    town = polling_town
    scheme = await town.runtime.store.schemes.get_by_slug("norwich")
    assert scheme.id is not None
    await town.runtime.store.outbox.enqueue(
        scheme.id, Delivery(town.group.id, MessagePayload(text="Radio check"))
    )
    town.runtime.outbox.wake()
    await town.sandbox.wait_for(lambda: "Radio check" in town.bot_said(town.group))
    url = f"http://127.0.0.1:{town.runtime.port}/metrics"
    sent = 'shopwatch_deliveries_total{kind="message",outcome="sent"} 1.0'

    async def scrape() -> str | None:
        # The counter moves once the row is marked sent, just after the chat shows it.
        async with aiohttp.ClientSession() as http, http.get(url) as response:
            assert response.status == 200
            text = await response.text()
        return text if sent in text else None

    exposition = await town.sandbox.wait_for(scrape, message="the delivery counted")
    assert re.search(r"^shopwatch_outbox_backlog \d+\.0$", exposition, re.MULTILINE)
    assert "shopwatch_alert_copy_latency_seconds_bucket" in exposition


async def test_readiness_names_only_the_error_type_when_an_upstream_page_quotes_the_token(
    polling_town: Town,
) -> None:
    """A proxy in front of the Bot API answering getMe with its 404 page, which quotes the
    URL and so the token: `/readyz` is unauthenticated, so it must say only what failed."""
    town = polling_town
    token = "4242:the-real-bot-token-never-shown"

    async def not_found_page(request: web.Request) -> web.Response:
        return web.Response(status=404, text=f"<html>Cannot POST {request.path}</html>")

    upstream_app = web.Application()
    upstream_app.router.add_route("*", "/{tail:.*}", not_found_page)
    request = HTTPXRequest()
    async with TestServer(upstream_app) as upstream:
        proxied = Bot(token, base_url=str(upstream.make_url("/bot")), request=request)
        readiness = Readiness(town.runtime.store, proxied, town.runtime.services.metrics)
        app = build_web_app(town.runtime.application, readiness=readiness)
        try:
            async with (
                TestServer(app) as server,
                aiohttp.ClientSession() as http,
                http.get(server.make_url("/readyz")) as response,
            ):
                page = await response.text()
        finally:
            await request.shutdown()

    assert response.status == 503
    assert "the-real-bot-token" not in page
    assert "Cannot POST" not in page
    assert "not authorised or unreachable" in page
