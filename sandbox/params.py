"""Method parameters from a query string, JSON, url-encoded or multipart body.

Clients send nested objects (reply_markup, media, ...) JSON-encoded inside form fields, and
python-telegram-bot does so even in JSON bodies, so every structured value may arrive as a
string; scalars may arrive as strings too. The accessors coerce by parameter, as Telegram does.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import BodyPartReader, web

from sandbox.errors import ApiError

ATTACH_PREFIX = "attach://"


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request."""

    data: bytes
    filename: str | None
    content_type: str | None


class Params:
    def __init__(self, values: Mapping[str, object], uploads: Mapping[str, Upload]) -> None:
        self._values = dict(values)
        self._uploads = dict(uploads)

    def has(self, name: str) -> bool:
        return self._values.get(name) is not None or name in self._uploads

    def string(self, name: str) -> str | None:
        value = self._values.get(name)
        if value is None:
            return None
        if isinstance(value, str):
            return value
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, int | float):
            return str(value)
        return json.dumps(value)

    def integer(self, name: str) -> int | None:
        value = self._values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, bool):
            return int(value)
        if isinstance(value, int):
            return value
        try:
            return int(str(value))
        except ValueError:
            try:
                return int(float(str(value)))
            except ValueError:
                raise ApiError.bad_request(f'field "{name}" must be of type Integer') from None

    def number(self, name: str) -> float | None:
        value = self._values.get(name)
        if value is None or value == "":
            return None
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        try:
            return float(str(value))
        except ValueError:
            raise ApiError.bad_request(f'field "{name}" must be of type Float') from None

    def flag(self, name: str) -> bool:
        value = self._values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in {"true", "1", "yes", "on"}
        return bool(value)

    def structured(self, name: str) -> Any:
        """A JSON object or array, decoded if it came as a string."""
        value = self._values.get(name)
        if isinstance(value, str):
            if not value:
                return None
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise ApiError.bad_request(f"can't parse {name} JSON object") from None
        return value

    def chat_id(self, name: str = "chat_id") -> int | str:
        value = self._values.get(name)
        if value is None or value == "":
            raise ApiError.bad_request(f"{name} is empty")
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        text = str(value).strip()
        if text.startswith("@"):
            return text
        try:
            return int(text)
        except ValueError:
            raise ApiError.bad_request("chat not found") from None

    def input_file(self, name: str) -> Upload | str | None:
        """A file part named ``name``, an ``attach://`` reference, or a file_id / URL."""
        upload = self._uploads.get(name)
        if upload is not None:
            return upload
        value = self.string(name)
        if value is None or value == "":
            return None
        return self.attachment(value) if value.startswith(ATTACH_PREFIX) else value

    def attachment(self, reference: str) -> Upload | str:
        if not reference.startswith(ATTACH_PREFIX):
            return reference
        upload = self._uploads.get(reference.removeprefix(ATTACH_PREFIX))
        if upload is None:
            raise ApiError.bad_request("wrong file identifier/HTTP URL specified")
        return upload


async def read_params(request: web.Request) -> Params:
    values: dict[str, object] = dict(request.query)
    uploads: dict[str, Upload] = {}
    if not request.can_read_body:
        return Params(values, uploads)
    content_type = request.content_type
    if content_type == "multipart/form-data":
        reader = await request.multipart()
        while (part := await reader.next()) is not None:
            if not isinstance(part, BodyPartReader) or part.name is None:
                continue
            if part.filename is not None:
                uploads[part.name] = Upload(
                    await part.read(), part.filename, part.headers.get("Content-Type")
                )
            else:
                values[part.name] = await part.text()
    elif content_type == "application/x-www-form-urlencoded":
        form = await request.post()
        values.update({k: v for k, v in form.items() if isinstance(v, str)})
    else:
        body = await request.read()
        if body.strip():
            try:
                decoded = json.loads(body)
            except (json.JSONDecodeError, UnicodeDecodeError):
                raise ApiError.bad_request("can't parse JSON object") from None
            if not isinstance(decoded, dict):
                raise ApiError.bad_request("JSON object expected")
            values.update(decoded)
    return Params(values, uploads)
