"""Suggestions, never decisions: "this report may be Subject #12", for a coordinator to judge.

Two signals, and no face recognition:
- **the same picture**: a report's photo whose perceptual hash is within
  `PHASH_THRESHOLD` bits of a subject's photo, or of one of its usual crops
  (`storage.photos.crop_hashes`). It finds a re-shared, re-encoded, resized or cropped
  copy of one image; it does not tell two people apart, and two stills from one
  fixed camera may look alike to it. The threshold and its measured rates are in
  docs/subjects.md, measured by tests/test_subject_matching.py.
- **distinctive words**: a description sharing `WORDS_NEEDED` or more words with the
  subject's that are not the everyday ones every description has ("male", "black",
  "hoodie"): "scar", "cheek", "limp", "Burberry".

Each pair (subject, report) is suggested once; a link or a "Not them" decides it.
"""

from __future__ import annotations

import asyncio
import io
import logging
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from PIL import Image

from config.errors import InvalidPhotoError
from config.vocabulary import ReportStatus, SuggestionReason
from storage.ids import stored_id
from storage.models import Report
from storage.photos import PhotoStore, crop_hashes, hamming
from storage.store import Store
from storage.subject_models import Subject, SubjectPhoto, SubjectSuggestion
from storage.subjects import Candidates

logger = logging.getLogger(__name__)

PHASH_THRESHOLD = 12
"""Bits of 64 apart at most for "the same picture" (docs/subjects.md has the measurement)."""
WORDS_NEEDED = 2
MIN_WORD = 4

_EVERYDAY = """
male female man woman boy girl lad youth teen teens teenager adult older young aged age
about around approx roughly tall short medium build slim thin heavy stocky large small
skinny average height years year old early late mid twenties thirties forties fifties
sixties hair dark light fair brown black white grey gray blue green navy red yellow
orange pink purple beige cream khaki colour color coloured colored wearing wears wore
with without and the this that they them their there then than from into onto over
under near left right side front back last seen heading walking running towards toward
jacket coat hoodie hooded hood top tshirt shirt jumper sweater jeans trousers joggers
tracksuit shorts skirt dress trainers shoes boots cap hat beanie glasses bag backpack
rucksack carrier gloves scarf mask face covering clothes clothing dressed outfit
item items bottle bottles store shop shops took taking stole stolen street road
lane walk market centre center town city police also possibly maybe probably again his her
"""
COMMON_WORDS = frozenset(_EVERYDAY.split())
"""Words nearly every description has: sharing them says nothing about who it is."""
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?", re.UNICODE)


def distinctive_words(text: str) -> set[str]:
    """The words of a description that set one person apart, in lower case."""
    return {
        word
        for word in (w.lower() for w in _WORD.findall(text))
        if len(word) >= MIN_WORD and word not in COMMON_WORDS
    }


def report_words(report: Report) -> set[str]:
    """The distinctive words of whom the report describes: its description of the person
    and the guided report's clothing, marks, hair and build; a quick alert, which says
    it only in its text, by its text. Never the appearance descriptor (it may touch
    ethnicity, which is no ground for a suggestion)."""
    described = [
        t
        for t in (
            report.subject_description,
            report.subject_clothing,
            report.subject_marks,
            report.subject_hair,
            report.subject_build,
        )
        if t
    ]
    return distinctive_words(" ".join(described or [report.description or ""]))


@dataclass(frozen=True, slots=True)
class Match:
    subject: Subject
    reason: SuggestionReason
    distance: int | None = None
    words: tuple[str, ...] = ()


def photo_distance(probe: str, photo: SubjectPhoto) -> int | None:
    """Bits between a report photo's pHash and the nearest hash of the subject's photo."""
    hashes = [h for h in (photo.phash, *(photo.crop_phashes or [])) if h]
    if not hashes:
        return None
    return min(hamming(probe, h) for h in hashes)


def _crop_hashes_of(photos: PhotoStore, relative_path: str) -> list[str]:
    with Image.open(io.BytesIO(photos.read(relative_path))) as image:
        return crop_hashes(image.convert("RGB"))


async def _with_crop_hashes(
    store: Store, photos: PhotoStore, subject_photos: list[SubjectPhoto]
) -> list[SubjectPhoto]:
    """The subject's photos, each with its crop hashes (computed once, from the file)."""
    for photo in subject_photos:
        if photo.crop_phashes is not None:
            continue
        try:
            # a few hundred milliseconds of Pillow: off the event loop the bot answers on
            hashes = await asyncio.to_thread(_crop_hashes_of, photos, photo.relative_path)
        except (OSError, InvalidPhotoError) as exc:
            logger.warning("subject photo %s unreadable for matching: %s", photo.id, exc)
            hashes = []
        await store.subjects.set_crop_hashes(stored_id(photo), hashes)
        photo.crop_phashes = hashes
    return subject_photos


async def find_matches(
    store: Store,
    photos: PhotoStore,
    report: Report,
    candidates: Candidates | None = None,
    *,
    probes: Sequence[str] | None = None,
    linked: Collection[int] | None = None,
) -> list[Match]:
    """The active subjects of the report's scheme it may show, best evidence first.

    `candidates`, the report's photos' pHashes (`probes`) and the ids of the subjects it
    is linked to (`linked`) are read here when not given; the watch gives them, read for
    its whole batch in one transaction (`SubjectRepository.to_match`), because on SQLite
    each read of its own waits for the one connection members' alerts wait for too.
    """
    report_id = stored_id(report)
    if report.status is ReportStatus.WITHDRAWN:
        return []
    if probes is None:
        probes = [p.phash for p in await store.reports.photos(report_id) if p.phash]
    words = report_words(report)
    if linked is None:
        linked = {stored_id(s) for s in await store.subjects.of_report(report_id)}
    matches: list[Match] = []
    if candidates is None:
        candidates = await store.subjects.candidates(report.scheme_id)
    for subject, subject_photos in candidates:
        if subject.id in linked:
            continue
        best: int | None = None
        if probes and subject_photos:
            for photo in await _with_crop_hashes(store, photos, subject_photos):
                for probe in probes:
                    distance = photo_distance(probe, photo)
                    if distance is not None and (best is None or distance < best):
                        best = distance
        if best is not None and best <= PHASH_THRESHOLD:
            matches.append(Match(subject, SuggestionReason.PHOTO, distance=best))
            continue
        shared = words & distinctive_words(subject.description)
        if len(shared) >= WORDS_NEEDED:
            matches.append(Match(subject, SuggestionReason.WORDS, words=tuple(sorted(shared))))
    matches.sort(key=lambda m: (m.reason is not SuggestionReason.PHOTO, m.distance or 0))
    return matches


async def suggest_for_report(
    store: Store,
    photos: PhotoStore,
    report: Report,
    candidates: Candidates | None = None,
    *,
    probes: Sequence[str] | None = None,
    linked: Collection[int] | None = None,
) -> list[SubjectSuggestion]:
    """Record the new suggestions for a report (each pair once), for the coordinators;
    what is given is not read again (`find_matches`)."""
    made = []
    for match in await find_matches(
        store, photos, report, candidates, probes=probes, linked=linked
    ):
        suggestion = await store.subjects.suggest(
            stored_id(match.subject),
            stored_id(report),
            match.reason,
            distance=match.distance,
            words=match.words,
        )
        if suggestion is not None:
            made.append(suggestion)
    if made:
        logger.info("report %s: %d subject suggestion(s)", report.id, len(made))
    return made
