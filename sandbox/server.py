"""The HTTP face of the sandbox: Telegram's URL scheme, status codes and JSON envelopes."""

from __future__ import annotations

import asyncio
import logging
import re
import time

from aiohttp import web
from telegram import TelegramObject

from sandbox.api import METHODS, CallContext, WebhookControl
from sandbox.errors import ApiError
from sandbox.faults import Faults
from sandbox.limits import RateLimiter
from sandbox.params import Params, read_params
from sandbox.state import BotRecord, Call, SandboxState

logger = logging.getLogger(__name__)

MAX_REQUEST_BYTES = 60 * 1024 * 1024
BOT_TOKEN = re.compile(r"\d+:[A-Za-z0-9_-]+")
_NOT_FOUND = ApiError(404, "Not Found")


def _jsonable(result: object) -> object:
    if isinstance(result, TelegramObject):
        return result.to_dict()
    if isinstance(result, list):
        return [_jsonable(item) for item in result]
    return result


class _Routes:
    def __init__(
        self,
        state: SandboxState,
        limiter: RateLimiter,
        webhooks: WebhookControl,
        faults: Faults,
    ) -> None:
        self.state = state
        self.limiter = limiter
        self.webhooks = webhooks
        self.faults = faults

    def _bot(self, token: str) -> BotRecord:
        """Telegram answers 404 to a malformed token and 401 to a well-formed unknown one."""
        if not BOT_TOKEN.fullmatch(token):
            raise _NOT_FOUND
        bot = self.state.bots_by_token.get(token)
        if bot is None:
            raise ApiError(401, "Unauthorized")
        return bot

    async def _delay(self) -> None:
        latency = self.limiter.limits.latency
        if latency > 0:
            await asyncio.sleep(latency)

    async def api(self, request: web.Request) -> web.Response:
        began = time.perf_counter()
        await self._delay()
        name = request.match_info["method"]
        params: Params | None = None
        result: object = None
        try:
            bot = self._bot(request.match_info["token"])
            handler = METHODS.get(name.lower())
            if handler is None:
                raise _NOT_FOUND
            params = await read_params(request)
            await self.faults.strike(name, _chat_id(params))
            context = CallContext(self.state, bot, self.limiter, self.webhooks)
            result = await handler(context, params)
        except ApiError as error:
            if error.status != 429:
                logger.debug("%s answered %s: %s", name, error.status, error.description)
            return web.json_response(error.payload(), status=error.status)
        except Exception:
            logger.exception("Sandbox failed on %s", name)
            failure = ApiError(500, "Internal Server Error: sandbox failure")
            return web.json_response(failure.payload(), status=failure.status)
        finally:
            if self.state.calls is not None:
                self.state.calls.append(
                    Call(
                        name,
                        _chat_id(params) if params is not None else None,
                        began,
                        time.perf_counter(),
                        len(result) if isinstance(result, list) else 0,
                    )
                )
        return web.json_response({"ok": True, "result": _jsonable(result)})

    async def file(self, request: web.Request) -> web.Response:
        began = time.perf_counter()
        await self._delay()
        try:
            bot = self._bot(request.match_info["token"])
        except ApiError as error:
            return web.json_response(error.payload(), status=error.status)
        record = self.state.files_by_path.get(request.match_info["path"])
        if record is None or bot.id not in record.file_ids:
            return web.json_response(_NOT_FOUND.payload(), status=404)
        record.downloads += 1
        if self.state.calls is not None:
            self.state.calls.append(Call("file", None, began, time.perf_counter()))
        return web.Response(
            body=record.data, content_type=record.mime_type or "application/octet-stream"
        )


def _chat_id(params: Params) -> int | None:
    """The chat a call is about, for storms over chosen chats; None for @usernames."""
    value = params.string("chat_id")
    try:
        return None if value is None else int(value)
    except ValueError:
        return None


def create_app(
    state: SandboxState,
    limiter: RateLimiter,
    webhooks: WebhookControl,
    faults: Faults | None = None,
) -> web.Application:
    routes = _Routes(state, limiter, webhooks, faults or Faults())
    app = web.Application(client_max_size=MAX_REQUEST_BYTES)
    app.router.add_route("*", "/bot{token}/{method}", routes.api)
    app.router.add_get("/file/bot{token}/{path:.+}", routes.file)
    return app
