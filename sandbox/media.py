"""Checks on uploaded media that Telegram makes before accepting a photo, and the sizes
it keeps of a photo message."""

from __future__ import annotations

import functools
import io

from PIL import Image, UnidentifiedImageError

from sandbox.errors import ApiError

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


PHOTO_SIDES = (90, 320, 800, 1280, 2560)
"""The long sides of the JPEGs Telegram keeps of a photo message (its s, m, x, y and w
sizes): those smaller than the picture, and the picture itself up to 2560 px."""
_QUALITY = 87


@functools.lru_cache(maxsize=8)
def photo_sizes(data: bytes) -> tuple[tuple[bytes, int, int], ...]:
    """(bytes, width, height) of each size of a person's photo message, smallest first.

    The smaller sizes are re-encoded as Telegram does. The largest is the upload's own
    bytes when its long side is within 2560 px (so a test can compare a downloaded
    photo with what was sent; Telegram would re-encode it too), else a 2560 px JPEG.
    Cached: a benchmark sending one photo many times makes its sizes once.
    """
    with Image.open(io.BytesIO(data)) as opened:
        width, height = opened.size
        longest = max(width, height)
        if longest <= PHOTO_SIDES[0]:
            return ((data, width, height),)
        opened.draft("RGB", _fit(width, height, min(longest, PHOTO_SIDES[-1])))
        try:
            picture = opened.convert("RGB")
        except (OSError, ValueError):
            # A broken picture (the tests send some, to see the bot refuse them) is kept
            # as uploaded, in its one size, for the bot to find broken.
            return ((data, width, height),)
    sizes: list[tuple[bytes, int, int]] = []
    for side in reversed(PHOTO_SIDES):
        if side >= longest:
            continue
        picture.thumbnail((side, side), Image.Resampling.LANCZOS)
        out = io.BytesIO()
        picture.save(out, format="JPEG", quality=_QUALITY)
        sizes.append((out.getvalue(), picture.width, picture.height))
    if longest <= PHOTO_SIDES[-1]:
        sizes.insert(0, (data, width, height))
    return tuple(reversed(sizes))


def _fit(width: int, height: int, side: int) -> tuple[int, int]:
    scale = side / max(width, height)
    return max(1, round(width * scale)), max(1, round(height * scale))
