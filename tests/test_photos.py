"""Photos a member sends are kept clean: no location, bounded size, hostile files refused."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from PIL import ExifTags, Image

from config.errors import InvalidPhotoError
from storage.photo_limits import PhotoLimits
from storage.photos import PhotoStore, hamming


def phone_photo(width: int = 1600, height: int = 1200, *, with_gps: bool = True) -> bytes:
    """A JPEG like a phone's: camera make, GPS position of the shop, a picture."""
    image = Image.new("RGB", (width, height), (90, 110, 130))
    for x in range(0, width, 40):
        for y in range(0, height, 40):
            image.putpixel((x, y), (255, (x * 7) % 255, (y * 3) % 255))
    image.paste((200, 40, 40), (width // 4, height // 4, width // 2, height // 2))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCo"
    if with_gps:
        gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        gps[ExifTags.GPS.GPSLatitudeRef] = "N"
        gps[ExifTags.GPS.GPSLatitude] = (52.0, 37.0, 42.0)
        gps[ExifTags.GPS.GPSLongitudeRef] = "E"
        gps[ExifTags.GPS.GPSLongitude] = (1.0, 17.0, 33.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=92)
    return out.getvalue()


@pytest.fixture
def photos(tmp_path: Path) -> PhotoStore:
    return PhotoStore(tmp_path / "photos")


@pytest.fixture
async def photos_of_children(tmp_path: Path) -> AsyncIterator[PhotoStore]:
    """A store whose photos are made clean in its child processes, ended afterwards."""
    photos = PhotoStore(tmp_path / "photos")
    try:
        yield photos
    finally:
        await photos.close()
    assert photos.workers.pids == ()


@pytest.mark.skipif(not hasattr(os, "getpriority"), reason="no process priorities here")
async def test_photos_are_decoded_in_children_below_the_bots_own_priority(
    photos_of_children: PhotoStore,
) -> None:
    photos = photos_of_children
    assert not photos.workers.pids, "none started before a photo needs one"
    first, second = await asyncio.gather(
        photos.clean_async(phone_photo()), photos.clean_async(phone_photo(1200, 1600))
    )

    assert (first.width, first.height) == (1600, 1200)
    assert (second.width, second.height) == (1200, 1600)
    assert first.sha256 == hashlib.sha256(first.jpeg).hexdigest(), "the bot's own hash"
    assert first == photos.clean(phone_photo()), "the same as decoded in the bot itself"
    children: tuple[int, ...] = photos.workers.pids
    assert len(children) == PhotoLimits().workers, "one child a photo, side by side"
    assert os.getpid() not in children
    ours = os.getpriority(os.PRIO_PROCESS, 0)
    lowered = min(ours + PhotoLimits().niceness, 19)
    assert lowered > ours or ours == 19, "a lower priority than the bot's"
    for child in children:
        assert os.getpriority(os.PRIO_PROCESS, child) == lowered

    with pytest.raises(InvalidPhotoError, match="not a photo we can use"):
        await photos.clean_async(b"GIF89a but nothing after it")
    assert photos.workers.pids == children, "a refusal is an answer: the child goes on"


@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="no stopping a process here")
async def test_a_child_that_dies_on_a_photo_refuses_only_that_photo(
    photos_of_children: PhotoStore,
) -> None:
    photos = photos_of_children
    await photos.clean_async(phone_photo())
    (child,) = photos.workers.pids
    os.kill(child, signal.SIGSTOP)  # it takes the next photo and never answers

    taken = asyncio.ensure_future(photos.clean_async(phone_photo(1200, 900)))
    await asyncio.sleep(0)  # one turn of the loop: the photo is in the child's hands
    assert photos.workers.busy == 1
    os.kill(child, signal.SIGKILL)  # as a decoder crashing on a hostile file would

    with pytest.raises(InvalidPhotoError, match="not a photo we can use"):
        await taken
    again = await photos.clean_async(phone_photo(1200, 900))
    assert (again.width, again.height) == (1200, 900)
    assert child not in photos.workers.pids, "a new child for the next photo"


@pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="no stopping a process here")
async def test_a_photo_whose_decoding_runs_past_its_time_is_refused_and_its_child_killed(
    tmp_path: Path,
) -> None:
    photos = PhotoStore(tmp_path / "photos", PhotoLimits(decode_seconds=1.0))
    try:
        await photos.clean_async(phone_photo())
        (child,) = photos.workers.pids
        os.kill(child, signal.SIGSTOP)  # a decoder that never comes back

        with pytest.raises(InvalidPhotoError, match="not a photo we can use"):
            await photos.clean_async(phone_photo(1200, 900))

        again = await photos.clean_async(phone_photo(1200, 900))
        assert (again.width, again.height) == (1200, 900)
        assert child not in photos.workers.pids
    finally:
        await photos.close()
    with pytest.raises(ProcessLookupError):
        os.kill(child, 0)  # killed and reaped


def test_a_phone_photo_is_kept_without_its_location_or_camera(photos: PhotoStore) -> None:
    original = phone_photo()
    with Image.open(io.BytesIO(original)) as sent:
        assert sent.getexif().get_ifd(ExifTags.IFD.GPSInfo), "the phone's photo has a position"

    stored = photos.ingest(original)

    kept = photos.read(stored.relative_path)
    with Image.open(io.BytesIO(kept)) as image:
        assert image.format == "JPEG"
        assert dict(image.getexif()) == {}
        assert not image.getexif().get_ifd(ExifTags.IFD.GPSInfo)
        assert image.size == (stored.width, stored.height)
    assert max(stored.width, stored.height) <= 1600
    assert stored.size == len(kept)
    assert len(stored.sha256) == 64


def test_a_big_photo_is_scaled_down_and_the_same_photo_is_kept_once(tmp_path: Path) -> None:
    photos = PhotoStore(tmp_path, PhotoLimits(max_side=800))
    first = photos.ingest(phone_photo(2400, 1800))
    again = photos.ingest(phone_photo(2400, 1800))

    assert (first.width, first.height) == (800, 600)
    assert again == first
    assert len(list(tmp_path.rglob("*.jpg"))) == 1


def test_a_phone_photo_is_kept_at_its_decoders_half_size_and_a_bigger_one_brought_to_2048(
    photos: PhotoStore,
) -> None:
    """A 12 MP phone JPEG decodes at half size to 2000 x 1500, within the 2048 px kept:
    it is not resampled. A 24 MP one decodes to 3000 x 2000 and a PNG decodes whole:
    both are brought within 2048 px."""
    twelve = photos.ingest(phone_photo(4000, 3000))
    twenty_four = photos.ingest(phone_photo(6000, 4000))
    out = io.BytesIO()
    Image.new("RGB", (3000, 1500), (20, 60, 90)).save(out, format="PNG")
    png = photos.ingest(out.getvalue())

    assert (twelve.width, twelve.height) == (2000, 1500)
    assert (twenty_four.width, twenty_four.height) == (2048, 1365)
    assert (png.width, png.height) == (2048, 1024)


def test_a_resized_copy_of_a_picture_looks_alike(photos: PhotoStore) -> None:
    big = photos.ingest(phone_photo(1600, 1200))
    small = photos.ingest(phone_photo(400, 300, with_gps=False))
    other = photos.ingest(_noise_photo())

    assert hamming(big.phash, small.phash) <= 10
    assert hamming(big.phash, other.phash) > 10


def _noise_photo() -> bytes:
    image = Image.effect_noise((640, 480), 90).convert("RGB")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def _bomb() -> bytes:
    """A small PNG that decodes to 144 million pixels."""
    out = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(out, format="PNG")
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "why"),
    [
        pytest.param(b"", "empty", id="empty"),
        pytest.param(b"GIF89a but not really an image at all", "not a photo", id="fake header"),
        pytest.param(b"%PDF-1.7\n" + b"x" * 500, "not a photo", id="a pdf"),
        pytest.param(phone_photo()[:400], "not a photo", id="truncated jpeg"),
        pytest.param(_bomb(), "dimensions are too large", id="decompression bomb"),
        pytest.param(b"\xff\xd8" + b"\x00" * (21 * 1024 * 1024), "too large", id="oversize file"),
    ],
)
def test_hostile_files_are_refused_and_nothing_is_stored(
    tmp_path: Path, data: bytes, why: str
) -> None:
    photos = PhotoStore(tmp_path)
    with pytest.raises(InvalidPhotoError, match=why):
        photos.ingest(data)
    assert list(tmp_path.rglob("*")) == []


def test_a_stored_path_cannot_escape_the_store(photos: PhotoStore) -> None:
    with pytest.raises(InvalidPhotoError):
        photos.read("../../etc/passwd")


def test_a_photo_taken_sideways_is_kept_upright(photos: PhotoStore) -> None:
    for width, height in ((1200, 800), (3000, 2000)):
        image = Image.new("RGB", (width, height), (250, 250, 250))
        image.paste((200, 0, 0), (0, 0, width // 4, height // 4))  # the sensor's top left
        exif = Image.Exif()
        exif[ExifTags.Base.Orientation] = 6  # the phone was held upright: turn 90° right
        out = io.BytesIO()
        image.save(out, format="JPEG", exif=exif, quality=95)

        stored = photos.ingest(out.getvalue())

        with Image.open(io.BytesIO(photos.read(stored.relative_path))) as kept:
            assert kept.height > kept.width
            assert ExifTags.Base.Orientation not in kept.getexif()
            upright = kept.convert("RGB")
            top_right = upright.getpixel((upright.width - 5, 5))
            top_left = upright.getpixel((5, 5))
            assert isinstance(top_right, tuple)
            assert isinstance(top_left, tuple)
            assert top_right[0] > 150, "the mark is top right"
            assert top_left[1] > 200, "and the top left is the wall"
