"""Short-lived picture addresses: the only way a subject's photo leaves the server.

An `<img>` cannot send the page's `initData`, so each picture a page may show gets
an address of its own, signed for one photo, one viewer and a few minutes
(`miniapp_image_seconds`). Copied elsewhere it stops working when that time is up;
altered, it is refused; and even while fresh it is served only while the viewer is
still an active member who may see that subject.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass

_TOKEN = re.compile(r"^(\d{1,12})\.(\d{1,12})\.(\d{1,12})\.([0-9a-f]{32})$")


class ImageLinkError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ImageGrant:
    photo_id: int
    member_id: int
    expires: int


class ImageLinks:
    def __init__(self, bot_token: str, lifetime_seconds: int) -> None:
        self._key = hmac.new(bot_token.encode(), b"shopwatch-miniapp-image-v1", hashlib.sha256)
        self._lifetime = lifetime_seconds

    def _mac(self, body: str) -> str:
        mac = self._key.copy()
        mac.update(body.encode())
        return mac.hexdigest()[:32]

    def token(self, photo_id: int, member_id: int, now: float | None = None) -> str:
        expires = int((time.time() if now is None else now) + self._lifetime)
        body = f"{photo_id}.{member_id}.{expires}"
        return f"{body}.{self._mac(body)}"

    def check(self, token: str, now: float | None = None) -> ImageGrant:
        found = _TOKEN.match(token)
        if found is None:
            raise ImageLinkError("image_forged")
        photo_id, member_id, expires, mac = found.groups()
        body = f"{photo_id}.{member_id}.{expires}"
        if not hmac.compare_digest(mac, self._mac(body)):
            raise ImageLinkError("image_forged")
        if (time.time() if now is None else now) >= int(expires):
            raise ImageLinkError("image_expired")
        return ImageGrant(int(photo_id), int(member_id), int(expires))
