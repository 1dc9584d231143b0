"""The photo store: every image is re-encoded before it is kept or passed on.

Re-encoding from pixels is what strips EXIF and GPS (a member's phone would
otherwise publish where the shop is and who took it), bounds the size, and
turns a hostile file into either a plain JPEG or a refusal. The SHA-256 of the
stored bytes is the evidence-chain hash; a difference hash finds near-duplicate
pictures of the same person (imagehash's pHash). Both are computed once, when the
photo is stored.

Decoding is where a photo costs: a 12-megapixel JPEG decoded whole is 36 MB of
pixels and most of the CPU, and a small PNG can claim to be 50 megapixels (a
"pixel bomb"). So a JPEG is decoded at reduced size (its DCT scaling, Pillow's
`draft`: 1/2, 1/4 or 1/8, never below the size kept), what cannot be decoded at
reduced size is refused above what a phone camera makes, and the re-encoding runs
in the store's own child processes (`storage.photo_workers`), so at most
`PhotoLimits.workers` decodes are in memory at once, the event loop never waits on
one, and a decoder that a hostile file crashes takes only its child with it.

A photo is made clean once (`CleanPhoto`: the JPEG with its hashes): the member's
double is looked for by it and it is what is stored, so a photo is never decoded
twice. A JPEG is kept at the size its decoder gives when that is within `max_side`
(2048): a 12 MP phone photo is decoded at half size, 2000 x 1500, and kept so, with
no resampling at all. Resampling it to 1600 x 1200 (Lanczos) was about half the CPU of
a photo (70 of 120 ms on an idle machine, the member waiting on it) for a smaller
picture; 2000 px is more detail for identification and within what a peer town takes
(`broadcast.federation.protocol`, 2048 px). What is resampled is what no decoder
can bring within 2048 px: a PNG, a JPEG of 24 megapixels (3000 x 2000 at half size).
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import imagehash
from PIL import Image, ImageFile, ImageOps, UnidentifiedImageError

from config.errors import InvalidPhotoError
from storage.files import private_dir, write_private
from storage.photo_limits import NOT_A_PHOTO, PhotoLimits
from storage.photo_workers import Cleaned, PhotoWorkers

logger = logging.getLogger(__name__)

ACCEPTED_FORMATS = frozenset({"JPEG", "PNG", "WEBP", "GIF", "BMP", "MPO"})
TOO_LARGE = "the photo is too large"
TOO_MANY_PIXELS = "the photo's dimensions are too large"


@dataclass(frozen=True)
class CleanPhoto:
    """A photo re-encoded, with its hashes: what the store keeps, before it keeps it."""

    jpeg: bytes = field(repr=False)
    sha256: str
    phash: str
    width: int
    height: int


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


CROP_FRACTION = 0.10
"""How much of a side the crop hashes cut away: a member's crop of a shared picture."""


def crop_hashes(image: Image.Image, fraction: float = CROP_FRACTION) -> list[str]:
    """pHashes of the picture cut in the ways people crop a shared photo.

    A pHash moves far when a copy loses a border (a 5% crop: up to 22 of 64 bits
    apart on our test set), so a subject's photo is also kept as these hashes: centre
    crops of half and all of `fraction`, and `fraction` off each side.
    """
    width, height = image.size
    cut_x, cut_y = int(width * fraction), int(height * fraction)
    half_x, half_y = cut_x // 2, cut_y // 2
    boxes = [
        (half_x, half_y, width - half_x, height - half_y),
        (cut_x, cut_y, width - cut_x, height - cut_y),
        (cut_x, 0, width, height),
        (0, 0, width - cut_x, height),
        (0, cut_y, width, height),
        (0, 0, width, height - cut_y),
    ]
    return [perceptual_hash(image.crop(box)) for box in boxes]


def hamming(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def check_size(size: int | None, limits: PhotoLimits = PhotoLimits()) -> None:
    """Refuse a file by its announced size, before a byte of it is fetched."""
    if size is not None and size > limits.max_bytes:
        raise InvalidPhotoError(TOO_LARGE)


def reencode(data: bytes, limits: PhotoLimits = PhotoLimits()) -> tuple[bytes, Image.Image]:
    """Decode untrusted bytes safely and return clean JPEG bytes and the image."""
    image = decode_clean(data, limits)
    return encode_jpeg(image, limits), image


def made_clean(data: bytes, limits: PhotoLimits = PhotoLimits()) -> Cleaned:
    """Untrusted bytes re-encoded, with their pHash: what a child of the store answers,
    and what `PhotoStore.clean` makes in the bot's own process."""
    jpeg, image = reencode(data, limits)
    return Cleaned(jpeg, perceptual_hash(image), image.width, image.height)


def _hashed(cleaned: Cleaned) -> CleanPhoto:
    """The evidence hash is the bot's own, of the bytes it keeps."""
    return CleanPhoto(
        jpeg=cleaned.jpeg,
        sha256=hashlib.sha256(cleaned.jpeg).hexdigest(),
        phash=cleaned.phash,
        width=cleaned.width,
        height=cleaned.height,
    )


def encode_jpeg(image: Image.Image, limits: PhotoLimits = PhotoLimits()) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=limits.jpeg_quality, optimize=True)
    return out.getvalue()


def decode_clean(data: bytes, limits: PhotoLimits = PhotoLimits()) -> Image.Image:
    """The picture in untrusted bytes, upright, at the size kept, and nothing else of the
    file (no EXIF, no GPS, no comment): a new RGB image its pixels were painted into."""
    if not data:
        raise InvalidPhotoError("the photo is empty")
    check_size(len(data), limits)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as opened:
                return _repainted(_decode(opened, limits), limits)
    except InvalidPhotoError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidPhotoError(TOO_MANY_PIXELS) from None
    except (
        UnidentifiedImageError,
        OSError,
        ValueError,
        SyntaxError,
    ) as exc:
        logger.info("photo refused: %s", type(exc).__name__)
        raise InvalidPhotoError(NOT_A_PHOTO) from None


def _repainted(image: Image.Image, limits: PhotoLimits) -> Image.Image:
    """`image` at the size kept, painted into a new RGB image (which holds no metadata)."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    # Within `max_side` (a phone JPEG as its decoder gave it) it is left as it is; else
    # Pillow's thumbnail reduces by a whole factor (Image.reduce, cheap), then resamples
    # with Lanczos from at most twice the size kept.
    image.thumbnail((limits.max_side, limits.max_side), Image.Resampling.LANCZOS)
    clean = Image.new("RGB", image.size)
    clean.paste(image)
    return clean


def _decode(opened: ImageFile.ImageFile, limits: PhotoLimits) -> Image.Image:
    """The first picture, turned upright where it lies, decoded no larger than it needs to
    be (or refused): `opened` itself, so good only until it is closed."""
    if opened.format not in ACCEPTED_FORMATS:
        raise InvalidPhotoError(NOT_A_PHOTO)
    if opened.format != "MPO" and getattr(opened, "is_animated", False):
        # A phone's MPO holds a second picture (depth, preview); a GIF's or
        # WebP's frames are a clip, and its first frame is rarely the person.
        raise InvalidPhotoError("it is an animation, not a photo")
    width, height = opened.size
    if width <= 0 or height <= 0 or width * height > limits.max_pixels:
        raise InvalidPhotoError(TOO_MANY_PIXELS)
    opened.seek(0)
    if opened.format in ("JPEG", "MPO"):
        # The decoder scales by 1/2, 1/4 or 1/8 while it decodes, keeping both sides
        # at least `draft_size`: a 12 MP photo becomes 2000 x 1500, a third the work.
        opened.draft("RGB", limits.draft_size(width, height))
    decoded_width, decoded_height = opened.size
    if decoded_width * decoded_height > limits.max_decoded_pixels:
        raise InvalidPhotoError(TOO_MANY_PIXELS)
    opened.load()
    ImageOps.exif_transpose(opened, in_place=True)
    return opened


class PhotoStore:
    """Content-addressed files under the data directory: the same photo is kept once."""

    def __init__(self, root: Path, limits: PhotoLimits = PhotoLimits()) -> None:
        self.root = root
        self.limits = limits
        self.workers = PhotoWorkers(limits)

    async def clean_async(self, data: bytes) -> CleanPhoto:
        """`clean` in one of the store's child processes (`storage.photo_workers`): the
        event loop goes on, and at most `limits.workers` photos are decoded at once (the
        rest wait their turn as bytes)."""
        return _hashed(await self.workers.clean(data))

    async def close(self) -> None:
        """End the store's child processes (a photo after this starts one again)."""
        await self.workers.close()

    def clean(self, data: bytes) -> CleanPhoto:
        """Untrusted bytes made a clean photo with its hashes (`InvalidPhotoError` if not one)."""
        return _hashed(made_clean(data, self.limits))

    async def ingest_async(self, photo: bytes | CleanPhoto) -> StoredPhoto:
        """`ingest`, the bytes made clean as `clean_async` does and written in a thread."""
        clean = photo if isinstance(photo, CleanPhoto) else await self.clean_async(photo)
        return await asyncio.to_thread(self.ingest, clean)

    def ingest(self, photo: bytes | CleanPhoto) -> StoredPhoto:
        """Keep the photo (untrusted bytes are made clean first), once for the same bytes."""
        clean = photo if isinstance(photo, CleanPhoto) else self.clean(photo)
        digest = clean.sha256
        relative = f"{digest[:2]}/{digest}.jpg"
        path = self.root / relative
        new = not path.exists()
        if new:
            private_dir(path.parent)
            write_private(path, clean.jpeg)
        return StoredPhoto(
            sha256=digest,
            phash=clean.phash,
            width=clean.width,
            height=clean.height,
            size=len(clean.jpeg),
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
