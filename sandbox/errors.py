"""Errors of the sandbox: those it answers over HTTP and those raised at the test side."""

from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """An answer with ``"ok": false``; the client parses it exactly as it parses Telegram's."""

    def __init__(self, status: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    @classmethod
    def bad_request(cls, detail: str) -> ApiError:
        return cls(400, f"Bad Request: {detail}")

    @classmethod
    def forbidden(cls, detail: str) -> ApiError:
        return cls(403, f"Forbidden: {detail}")

    @classmethod
    def too_many_requests(cls, retry_after: int) -> ApiError:
        return cls(429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after)

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


class SandboxUsageError(Exception):
    """A test asked the sandbox for something no person could do (e.g. post in a foreign group)."""


class SandboxTimeoutError(TimeoutError):
    """A wait at the test side ran out; the message says what was awaited and what was seen."""
