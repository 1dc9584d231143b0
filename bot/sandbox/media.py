"""Checks on uploaded media that Telegram makes before accepting a photo."""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

from bot.sandbox.errors import ApiError

MAX_PHOTO_SIDES = 10_000
MAX_PHOTO_RATIO = 20
_EXTENSIONS = {"JPEG": ".jpg", "PNG": ".png", "WEBP": ".webp", "GIF": ".gif"}


def image_size(data: bytes) -> tuple[int, int, str]:
    """Width, height and file extension; what Telegram refuses to process is refused here.

    The bytes are kept as uploaded (Telegram would re-encode), so a test can compare a
    downloaded photo with what was sent.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size
            image_format = image.format or "JPEG"
    except (UnidentifiedImageError, OSError, ValueError):
        raise ApiError.bad_request("IMAGE_PROCESS_FAILED") from None
    if width + height > MAX_PHOTO_SIDES or max(width, height) > MAX_PHOTO_RATIO * max(
        min(width, height), 1
    ):
        raise ApiError.bad_request("PHOTO_INVALID_DIMENSIONS")
    return width, height, _EXTENSIONS.get(image_format, ".jpg")
