"""Posting updates to a bot's webhook, in order, retrying while it is down.

One delivery task per bot with a webhook. An update leaves the queue only when the webhook
answered 2xx; otherwise the error is recorded for getWebhookInfo and the same update is tried
again after a growing delay, as Telegram does.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging

import aiohttp

from sandbox.state import BotRecord, SandboxState, WebhookConfig

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
REQUEST_TIMEOUT_SECONDS = 10.0


class WebhookDispatcher:
    def __init__(
        self, state: SandboxState, *, retry_delay: float = 0.2, max_retry_delay: float = 5.0
    ) -> None:
        self._state = state
        self._retry_delay = retry_delay
        self._max_retry_delay = max_retry_delay
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._session: aiohttp.ClientSession | None = None

    def restart(self, bot: BotRecord) -> None:
        """(Re)start delivery for ``bot``; a running task notices the new config itself."""
        task = self._tasks.get(bot.id)
        if task is not None and not task.done():
            return
        self._tasks[bot.id] = asyncio.create_task(
            self._deliver(bot), name=f"sandbox-webhook-{bot.id}"
        )

    async def stop(self, bot: BotRecord) -> None:
        task = self._tasks.pop(bot.id, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def close(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS)
            )
        return self._session

    async def _deliver(self, bot: BotRecord) -> None:
        delay = self._retry_delay
        while not self._state.stopping and bot.webhook is not None:
            hook = bot.webhook
            if not bot.pending:
                await bot.updates_signal.wait(None)
                continue
            update = bot.pending[0]
            error = await self._post(hook, update)
            if error is None:
                if bot.pending and bot.pending[0] is update:
                    bot.pending.pop(0)
                delay = self._retry_delay
                self._state.touch()
                continue
            logger.info("Webhook of bot %s failed: %s", bot.id, error)
            hook.last_error_date = self._state.now()
            hook.last_error_message = error
            self._state.touch()
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._max_retry_delay)

    async def _post(self, hook: WebhookConfig, update: dict[str, object]) -> str | None:
        """Deliver one update; the error text Telegram would report, or None."""
        headers = {SECRET_HEADER: hook.secret_token} if hook.secret_token else {}
        try:
            async with self._client().post(hook.url, json=update, headers=headers) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return None
                return f"Wrong response from the webhook: {response.status} {response.reason}"
        except aiohttp.ClientConnectorError as error:
            refused = error.os_error.errno == errno.ECONNREFUSED
            return "Connection refused" if refused else f"Connection failed: {error.os_error}"
        except aiohttp.ClientConnectionError as error:
            return f"Connection failed: {error}"
        except TimeoutError:
            return "Read timeout expired"
        except aiohttp.ClientError as error:
            return str(error)
