"""The photo store: every image is re-encoded before it is kept or passed on.

Re-encoding from pixels is what strips EXIF and GPS (a member's phone would
otherwise publish where the shop is and who took it), bounds the size, and
turns a hostile file into either a plain JPEG or a refusal. The SHA-256 of the
stored bytes is the evidence-chain hash; a difference hash finds near-duplicate
pictures of the same person (imagehash's pHash).
"""

from __future__ import annotations

import hashlib
import io
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import imagehash
from PIL import Image, ImageOps, UnidentifiedImageError

from config.errors import InvalidPhotoError
from storage.files import private_dir, write_private

logger = logging.getLogger(__name__)

ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF", "BMP", "MPO"})
TOO_LARGE = "the photo is too large"


@dataclass(frozen=True)
class PhotoLimits:
    """Upper bounds: Telegram photos are at most 10 MB and 10000 px a side."""

    max_bytes: int = 20 * 1024 * 1024
    max_pixels: int = 50_000_000
    max_side: int = 1600
    jpeg_quality: int = 85


@dataclass(frozen=True)
class StoredPhoto:
    sha256: str
    phash: str
    width: int
    height: int
    size: int
    relative_path: str
    new: bool = field(default=False, compare=False)
    """Written by this ingest (not already in the store): whoever ingested it removes it
    if the report it was for is not stored after all."""


def perceptual_hash(image: Image.Image) -> str:
    """64-bit pHash as 16 hex digits (imagehash): resized or recompressed copies stay close."""
    return str(imagehash.phash(image))


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def check_size(size: int | None, limits: PhotoLimits = PhotoLimits()) -> None:
    """Refuse a file by its announced size, before a byte of it is fetched."""
    if size is not None and size > limits.max_bytes:
        raise InvalidPhotoError(TOO_LARGE)


def reencode(data: bytes, limits: PhotoLimits = PhotoLimits()) -> tuple[bytes, Image.Image]:
    """Decode untrusted bytes safely and return clean JPEG bytes and the image."""
    if not data:
        raise InvalidPhotoError("the photo is empty")
    check_size(len(data), limits)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                if opened.format not in ACCEPTED_FORMATS:
                    raise InvalidPhotoError("that file is not a photo we can use")
                if opened.format != "MPO" and getattr(opened, "is_animated", False):
                    # A phone's MPO holds a second picture (depth, preview); a GIF's or
                    # WebP's frames are a clip, and its first frame is rarely the person.
                    raise InvalidPhotoError("it is an animation, not a photo")
                width, height = opened.size
                if width <= 0 or height <= 0 or width * height > limits.max_pixels:
                    raise InvalidPhotoError("the photo's dimensions are too large")
                opened.seek(0)
                image = ImageOps.exif_transpose(opened)
                image.load()
    except InvalidPhotoError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidPhotoError("the photo's dimensions are too large") from None
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
    ) as exc:
        logger.info("photo refused: %s", type(exc).__name__)
        raise InvalidPhotoError("that file is not a photo we can use") from None
    image = image.convert("RGB")
    image.thumbnail((limits.max_side, limits.max_side), Image.Resampling.LANCZOS)
    clean = Image.new("RGB", image.size)
    clean.paste(image)
    out = io.BytesIO()
    clean.save(out, format="JPEG", quality=limits.jpeg_quality, optimize=True)
    return out.getvalue(), clean


class PhotoStore:
    """Content-addressed files under the data directory: the same photo is kept once."""

    def __init__(self, root: Path, limits: PhotoLimits = PhotoLimits()) -> None:
        self.root = root
        self.limits = limits

    def ingest(self, data: bytes) -> StoredPhoto:
        jpeg, image = reencode(data, self.limits)
        digest = hashlib.sha256(jpeg).hexdigest()
        relative = f"{digest[:2]}/{digest}.jpg"
        path = self.root / relative
        new = not path.exists()
        if new:
            private_dir(path.parent)
            write_private(path, jpeg)
        return StoredPhoto(
            sha256=digest,
            phash=perceptual_hash(image),
            width=image.width,
            height=image.height,
            size=len(jpeg),
            relative_path=relative,
            new=new,
        )

    def path(self, relative_path: str) -> Path:
        resolved = (self.root / relative_path).resolve()
        if not resolved.is_relative_to(self.root.resolve()):
            raise InvalidPhotoError("photo path outside the store")
        return resolved

    def read(self, relative_path: str) -> bytes:
        return self.path(relative_path).read_bytes()

    def delete(self, relative_path: str) -> None:
        self.path(relative_path).unlink(missing_ok=True)
