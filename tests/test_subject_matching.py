"""A report's photo is suggested as a subject's when it is the same picture, and only then.

The threshold is measured here on a test set made with Pillow at test time: distinct
scenes, each re-encoded, resized, brightened and cropped the ways a shared picture is.
docs/subjects.md states the rates this measures (run with SHOPWATCH_MATCH_SCENES=40
for the documented, larger set).
"""

from __future__ import annotations

import io
import itertools
import os
import random
from collections.abc import Iterator
from pathlib import Path

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter

from broadcast.subjects.matching import (
    PHASH_THRESHOLD,
    distinctive_words,
    photo_distance,
    suggest_for_report,
)
from config.schemes import SchemesFile
from config.vocabulary import SuggestionReason, SuggestionState
from storage.photos import crop_hashes, hamming, perceptual_hash, reencode
from storage.store import Store
from storage.subject_models import SubjectPhoto
from tests.test_subjects import town

SCENES = int(os.environ.get("SHOPWATCH_MATCH_SCENES", "10"))


def scene(seed: int, width: int = 640, height: int = 480) -> Image.Image:
    """A picture of its own: shapes and colours from the seed, noise, a little blur."""
    rng = random.Random(seed)
    image = Image.new("RGB", (width, height), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randrange(15, 40)):
        x, y, size = rng.randrange(width), rng.randrange(height), rng.randrange(15, 200)
        colour = tuple(rng.randrange(256) for _ in range(3))
        shape = rng.choice("erp")
        if shape == "e":
            draw.ellipse((x, y, x + size, y + size * rng.uniform(0.5, 2)), fill=colour)
        elif shape == "r":
            draw.rectangle((x, y, x + size, y + size * rng.uniform(0.3, 3)), fill=colour)
        else:
            corners = [(rng.randrange(width), rng.randrange(height)) for _ in range(5)]
            draw.polygon(corners, fill=colour)
    noise = Image.effect_noise((width, height), rng.uniform(10, 40)).convert("RGB")
    return Image.blend(image, noise, 0.15).filter(ImageFilter.GaussianBlur(rng.uniform(0.5, 2)))


def jpeg(image: Image.Image, quality: int = 85) -> bytes:
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=quality)
    return out.getvalue()


def crop(image: Image.Image, left: float, top: float, right: float, bottom: float) -> bytes:
    w, h = image.size
    return jpeg(
        image.crop((int(w * left), int(h * top), int(w * (1 - right)), int(h * (1 - bottom))))
    )


def copies(image: Image.Image) -> Iterator[tuple[str, bytes]]:
    """How one picture comes back: re-sent, screenshotted, forwarded, cropped."""
    w, h = image.size
    yield "re-encoded at quality 20", jpeg(image, 20)
    yield "re-encoded at quality 50", jpeg(image, 50)
    yield "halved", jpeg(image.resize((w // 2, h // 2)))
    yield "quartered", jpeg(image.resize((w // 4, h // 4)))
    yield "brightened", jpeg(ImageEnhance.Brightness(image).enhance(1.15))
    png = io.BytesIO()
    image.save(png, format="PNG")
    yield "as PNG", png.getvalue()
    twice = Image.open(io.BytesIO(jpeg(image.resize((w * 2 // 3, h * 2 // 3)), 60)))
    yield "resized and re-encoded twice", jpeg(twice, 70)
    yield "cropped 3% all round", crop(image, 0.03, 0.03, 0.03, 0.03)
    yield "cropped 7% all round", crop(image, 0.07, 0.07, 0.07, 0.07)
    yield "cropped 12% all round", crop(image, 0.12, 0.12, 0.12, 0.12)
    yield "cropped 6% off the left", crop(image, 0.06, 0, 0, 0)
    yield "cropped 4% top, 9% bottom", crop(image, 0, 0.04, 0, 0.09)


def kept(data: bytes) -> Image.Image:
    """The picture as the photo store keeps it: hashes are taken from that."""
    return reencode(data)[1]


def as_subject_photo(image: Image.Image) -> SubjectPhoto:
    return SubjectPhoto(
        subject_id=1,
        sha256="0" * 64,
        phash=perceptual_hash(image),
        crop_phashes=crop_hashes(image),
        width=image.width,
        height=image.height,
        size=0,
        relative_path="x.jpg",
    )


def test_copies_of_one_picture_match_and_different_pictures_do_not() -> None:
    originals = [scene(seed) for seed in range(SCENES)]
    subjects = [as_subject_photo(kept(jpeg(o, 92))) for o in originals]

    same: dict[str, list[int]] = {}
    for original, photo in zip(originals, subjects, strict=True):
        for how, data in copies(original):
            distance = photo_distance(perceptual_hash(kept(data)), photo)
            assert distance is not None
            same.setdefault(how, []).append(distance)
    different = [
        distance
        for a, b in itertools.permutations(range(SCENES), 2)
        if (distance := photo_distance(subjects[a].phash or "", subjects[b])) is not None
    ]

    missed = {how: max(d) for how, d in same.items() if max(d) > PHASH_THRESHOLD}
    assert missed == {}, f"copies beyond {PHASH_THRESHOLD} bits: {missed}"
    false_matches = [d for d in different if d <= PHASH_THRESHOLD]
    assert false_matches == [], f"{len(false_matches)} of {len(different)} pairs matched"
    assert min(different) > PHASH_THRESHOLD + 2, "the threshold keeps a margin"


def test_a_crop_alone_moves_the_plain_hash_too_far_which_is_why_crops_are_hashed() -> None:
    original = kept(jpeg(scene(7), 92))
    cropped = kept(crop(original, 0.07, 0.07, 0.07, 0.07))

    assert hamming(perceptual_hash(original), perceptual_hash(cropped)) > PHASH_THRESHOLD
    assert (photo_distance(perceptual_hash(cropped), as_subject_photo(original)) or 99) <= (
        PHASH_THRESHOLD
    )


def test_only_the_words_that_set_a_person_apart_count() -> None:
    words = distinctive_words("Male, 30s, grey hoodie, black cap, scar on left cheek, limps")
    assert words == {"scar", "cheek", "limps"}


async def test_a_new_alert_with_the_same_photo_or_words_is_suggested_once(
    synced_store: Store, schemes_file: SchemesFile, tmp_path: Path
) -> None:
    norwich = await town(synced_store, schemes_file, tmp_path)
    picture = scene(3)
    first = await norwich.report(photo=jpeg(picture, 92))
    subject = await norwich.service.create_from_report(norwich.operator, first.id or 0)
    again = await norwich.report(
        photo=crop(picture.resize((480, 360)), 0.05, 0.05, 0.05, 0.05),
        subject_description="Man in a red jacket",
    )
    described = await norwich.report(
        subject_description="Tall lad, Burberry cap, scar on his left cheek"
    )
    other = await norwich.report(photo=jpeg(scene(4)), subject_description="Woman, green coat")

    [by_photo] = await suggest_for_report(norwich.store, norwich.photos, again)
    [by_words] = await suggest_for_report(norwich.store, norwich.photos, described)

    assert (by_photo.subject_id, by_photo.reason) == (subject.id, SuggestionReason.PHOTO)
    assert (by_photo.distance or 0) <= PHASH_THRESHOLD
    assert (by_words.reason, by_words.words) == (SuggestionReason.WORDS, ["cheek", "scar"])
    assert await suggest_for_report(norwich.store, norwich.photos, other) == []
    assert await suggest_for_report(norwich.store, norwich.photos, again) == [], "once only"

    assert await norwich.store.subjects.dismiss(by_words.id or 0, norwich.coordinator.member.id)
    assert not await norwich.store.subjects.dismiss(by_words.id or 0, None), "decided once"
    await norwich.service.link(norwich.coordinator, subject.id or 0, again.id or 0)
    linked = await norwich.store.subjects.suggestion(by_photo.id or 0)
    assert linked.state is SuggestionState.LINKED
    assert await suggest_for_report(norwich.store, norwich.photos, described) == []
