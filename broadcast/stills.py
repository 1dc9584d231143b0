"""A photo from a video: a shopkeeper films the suspect, the alert carries a still of it.

PyAV (the `av` wheel, which bundles its own FFmpeg libraries, so no system package)
decodes the video; it comes with the whisper extra (faster-whisper needs it) or on
its own (`pip install av`). Without it `decoder()` is None and the member is told
what to send instead. The still then goes through the photo store like any photo:
re-encoded, metadata gone, hashed.
"""

from __future__ import annotations

import asyncio
import importlib.util
import io
from collections.abc import Awaitable, Callable

from config.errors import InvalidPhotoError

MAX_FRAMES = 90
"""Frames decoded at most while looking for one that is not black (a fade-in)."""
DARK = 16
"""A frame whose brightest pixel is under this is taken for black and skipped."""
UNREADABLE = "no picture could be taken from that video"


class NoDecoderError(Exception):
    """This installation cannot decode video (PyAV is not installed)."""


def _still(data: bytes) -> bytes:
    import av
    from av.error import FFmpegError

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            if not container.streams.video:
                raise InvalidPhotoError(UNREADABLE)
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            first = None
            for number, frame in enumerate(container.decode(stream)):
                image = frame.to_image()  # type: ignore[no-untyped-call]
                first = first or image
                if max(image.convert("L").getextrema()) >= DARK or number >= MAX_FRAMES:
                    break
            if first is None:
                raise InvalidPhotoError(UNREADABLE)
            chosen = image if max(image.convert("L").getextrema()) >= DARK else first
    except (FFmpegError, OSError, ValueError) as exc:
        raise InvalidPhotoError(UNREADABLE) from exc
    out = io.BytesIO()
    chosen.convert("RGB").save(out, format="JPEG", quality=90)
    return out.getvalue()


async def still_of(data: bytes) -> bytes:
    """A JPEG of the first frame that is not black; `InvalidPhotoError` if there is none."""
    return await asyncio.to_thread(_still, data)


def decoder() -> Callable[[bytes], Awaitable[bytes]] | None:
    """`still_of` where PyAV is installed, else None."""
    return still_of if importlib.util.find_spec("av") is not None else None
