"""The subjects' watch takes its batch of new reports in a few transactions, not five a report.

On SQLite every transaction of the bot's process queues for one connection, members'
alerts among them, so what a run costs the log is counted here: the "begin" events on
the store's engine while it runs. The batch's one read (`SubjectRepository.to_match`)
and one mark (`mark_all_scanned`) keep their contract on both databases, and a run
still matches the rest of its batch when one report fails, and repeats nothing when it
stops before marking them. Runs on SQLite and, when SHOPWATCH_TEST_POSTGRES_URL is set,
on PostgreSQL (tests/storage_fixtures.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Connection

from broadcast.callbacks import CallbackSigner
from broadcast.subjects.watch import BATCH, SubjectWatch
from config.errors import StorageError
from config.schemes import SchemesFile
from config.vocabulary import Category, SuggestionReason, Urgency
from storage.models import Photo, Report
from storage.store import Store
from storage.subject_models import Subject, SubjectScan, SubjectSuggestion
from storage.subjects import MatchBatch, ReportToMatch, Scanned
from storage.transaction import transaction
from tests.test_subjects import Norwich, cctv_still, town

NOW = datetime(2026, 12, 3, 14, 5, tzinfo=UTC)


@contextmanager
def transactions(store: Store) -> Iterator[list[int]]:
    """Counts the transactions begun on the store's engine meanwhile: `[count]`."""
    counted = [0]

    def begun(connection: Connection) -> None:
        counted[0] += 1

    event.listen(store.engine.sync_engine, "begin", begun)
    try:
        yield counted
    finally:
        event.remove(store.engine.sync_engine, "begin", begun)


def far_from(phash: str) -> str:
    """A pHash every bit apart from `phash`: never the same picture."""
    return f"{int(phash, 16) ^ ((1 << 64) - 1):016x}"


async def plain_reports(norwich: Norwich, count: int, phash: str, scheme_id: int) -> None:
    """Reports that match nobody: half with a photo of another picture, half without."""
    for n in range(count):
        photos = []
        if n % 2:
            photos.append(
                Photo(
                    sha256=f"{n:064x}",
                    phash=phash,
                    width=640,
                    height=480,
                    size=1000,
                    relative_path=f"elsewhere/{n}.jpg",
                )
            )
        await norwich.store.reports.create(
            Report(
                scheme_id=scheme_id,
                category=Category.THEFT,
                urgency=Urgency.NOW,
                description=f"Took razor blades, number {n}",
                subject_description="Male, grey hoodie",
            ),
            photos=photos,
        )


async def test_a_run_costs_the_same_few_transactions_for_a_batch_of_any_size(
    synced_store: Store, schemes_file: SchemesFile, tmp_path: Path
) -> None:
    norwich = await town(synced_store, schemes_file, tmp_path)
    store = norwich.store
    first = await norwich.report(photo=cctv_still(1))
    await norwich.service.create_from_report(norwich.operator, first.id or 0)
    [subject_photo] = await store.subjects.photos(
        (await store.subjects.of_report(first.id or 0))[0].id or 0
    )
    elsewhere = far_from(subject_photo.phash or "0")
    wymondham = await store.schemes.get_by_slug("wymondham")
    await plain_reports(norwich, 2, elsewhere, norwich.scheme.id or 0)
    watch = SubjectWatch(store, norwich.photos, CallbackSigner(b"k" * 32))
    await watch.run(NOW)  # once, whatever the batch: the crop hashes, the members' card

    costs = {}
    for size in (2, BATCH):
        await plain_reports(norwich, size // 2, elsewhere, norwich.scheme.id or 0)
        await plain_reports(norwich, size - size // 2, elsewhere, wymondham.id or 0)
        with transactions(store) as begun:
            done = await watch.run(NOW)
        assert (done.matched, done.put) == (size, 0)
        costs[size] = begun[0]
        assert await store.subjects.unscanned(BATCH) == []

    print(f"transactions a run: {costs}")
    # the schemes, the reports waiting, their batch, marking it, the faces to ask about
    assert costs[BATCH] == costs[2] == 5, costs


async def bare_report(store: Store, scheme_id: int, photos: Sequence[Photo] = ()) -> Report:
    return await store.reports.create(
        Report(
            scheme_id=scheme_id,
            category=Category.THEFT,
            urgency=Urgency.NOW,
            description="Took razor blades",
        ),
        photos=photos,
    )


def a_photo(seed: int, phash: str | None) -> Photo:
    return Photo(
        sha256=f"{seed:064x}",
        phash=phash,
        width=640,
        height=480,
        size=1000,
        relative_path=f"p/{seed}.jpg",
    )


async def test_the_batch_is_read_whole_each_report_with_its_photos_links_and_unput_suggestions(
    synced_store: Store, schemes_file: SchemesFile, tmp_path: Path
) -> None:
    norwich = await town(synced_store, schemes_file, tmp_path)
    store, scheme_id = norwich.store, norwich.scheme.id or 0
    made_from = await norwich.report(photo=cctv_still(1))
    kept = await norwich.service.create_from_report(norwich.operator, made_from.id or 0)
    other = await norwich.service.create_from_report(
        norwich.operator, (await norwich.report()).id or 0
    )
    gone_subject = await norwich.service.create_from_report(
        norwich.operator, (await norwich.report()).id or 0
    )
    photos = [a_photo(1, "00ff00ff00ff00ff"), a_photo(2, None), a_photo(3, "ffff0000ffff0000")]
    pictured = await bare_report(store, scheme_id, photos)
    pictured_id = pictured.id or 0
    unput = await store.subjects.suggest(kept.id or 0, pictured_id, SuggestionReason.PHOTO)
    put = await store.subjects.suggest(other.id or 0, pictured_id, SuggestionReason.WORDS)
    assert unput is not None
    assert put is not None
    await store.subjects.mark_put(put.id or 0, NOW)
    dismissed_for = await norwich.report()
    dismissed = await store.subjects.suggest(
        kept.id or 0, dismissed_for.id or 0, SuggestionReason.WORDS
    )
    assert dismissed is not None
    assert await store.subjects.dismiss(dismissed.id or 0, None)
    await store.subjects.link(
        gone_subject.id or 0, pictured_id, scheme_id=scheme_id, by_member_id=None
    )
    await store.subjects.link(kept.id or 0, pictured_id, scheme_id=scheme_id, by_member_id=None)
    await store.subjects.expire([gone_subject.id or 0], NOW)
    wymondham = await store.schemes.get_by_slug("wymondham")
    elsewhere = await bare_report(store, wymondham.id or 0)
    deleted = await norwich.report()
    await store.reports.delete(deleted.id or 0)
    asked = [
        made_from.id or 0,
        pictured_id,
        dismissed_for.id or 0,
        elsewhere.id or 0,
        deleted.id or 0,
        999_999,
    ]

    batch = await store.subjects.to_match(asked)

    assert set(batch.reports) == set(asked) - {deleted.id, 999_999}, "gone: not in the batch"
    assert batch.reports[made_from.id or 0].linked == {kept.id}
    assert batch.reports[made_from.id or 0].photos == tuple(
        (p.id, p.phash) for p in await store.reports.photos(made_from.id or 0)
    )
    found = batch.reports[pictured_id]
    assert found.scheme_id == scheme_id
    assert found.photos == tuple((p.id, p.phash) for p in photos)
    assert found.phashes == ["00ff00ff00ff00ff", "ffff0000ffff0000"]
    assert found.newest_photo_id == max(p.id or 0 for p in photos)
    assert found.linked == {kept.id}, "a subject out of the galleries is no link"
    assert [s.id for s in found.unput] == [], "linked since: the suggestion is decided"
    assert batch.reports[dismissed_for.id or 0].unput == ()
    assert batch.reports[elsewhere.id or 0] == ReportToMatch(
        wymondham.id or 0, (), frozenset(), ()
    )
    assert batch.reports[elsewhere.id or 0].newest_photo_id == 0
    assert set(batch.candidates) == {scheme_id, wymondham.id}
    assert batch.candidates[wymondham.id or 0] == [], "no subjects: nothing to match against"
    assert [(s.id, [p.id for p in ps]) for s, ps in batch.candidates[scheme_id]] == [
        (s.id, [p.id for p in ps]) for s, ps in await store.subjects.candidates(scheme_id)
    ]
    assert [s.id for s, _ in batch.candidates[scheme_id]] == [kept.id, other.id]
    assert await store.subjects.to_match([]) == MatchBatch({}, {})

    again = await norwich.report()
    waiting = await store.subjects.suggest(kept.id or 0, again.id or 0, SuggestionReason.WORDS)
    later = await store.subjects.suggest(other.id or 0, again.id or 0, SuggestionReason.WORDS)
    assert waiting is not None
    assert later is not None
    [only] = (await store.subjects.to_match([again.id or 0])).reports.values()
    assert [s.id for s in only.unput] == [waiting.id, later.id]
    assert [s.id for s in only.unput] == [s.id for s in await store.subjects.unput(again.id or 0)]


async def scans(store: Store, report_ids: Sequence[int]) -> dict[int, SubjectScan]:
    async with transaction(store.sessions, "read the scans") as session:
        return {
            report_id: scan
            for report_id in report_ids
            if (scan := await session.get(SubjectScan, report_id)) is not None
        }


async def test_a_batch_is_marked_matched_in_one_go_as_one_at_a_time_was(
    synced_store: Store, schemes_file: SchemesFile, tmp_path: Path
) -> None:
    norwich = await town(synced_store, schemes_file, tmp_path)
    store = norwich.store
    first, second, deleted = [await norwich.report() for _ in range(3)]
    ids = [first.id or 0, second.id or 0, deleted.id or 0]
    await store.subjects.mark_scanned(second.id or 0, second.updated_at - timedelta(hours=1), 0)
    before = (await scans(store, ids))[second.id or 0]
    await store.reports.delete(deleted.id or 0)
    assert {r.id for r in await store.subjects.unscanned(BATCH)} == {first.id, second.id}

    await store.subjects.mark_all_scanned(
        [
            Scanned(first.id or 0, first.updated_at, 7),
            Scanned(second.id or 0, second.updated_at, 9),
            Scanned(deleted.id or 0, deleted.updated_at, 0),
        ]
    )

    assert await store.subjects.unscanned(BATCH) == []
    marked = await scans(store, ids)
    assert set(marked) == {first.id, second.id}, "a report gone meanwhile is skipped"
    assert [(m.seen_updated_at, m.seen_photo_id) for m in marked.values()] == [
        (first.updated_at, 7),
        (second.updated_at, 9),
    ]
    assert marked[second.id or 0].scanned_at > before.scanned_at, "an earlier mark is updated"
    await store.subjects.mark_all_scanned([])


async def a_subject_and_reports(norwich: Norwich, count: int) -> tuple[Subject, list[Report]]:
    """A subject, and reports in its distinctive words (a scar, a cheek): each suggested."""
    first = await norwich.report()
    subject = await norwich.service.create_from_report(norwich.operator, first.id or 0)
    return subject, [
        await norwich.report(subject_description="Lad in a hoodie, scar on his left cheek")
        for _ in range(count)
    ]


async def suggested(store: Store) -> int:
    """How many suggestions were put to the coordinators: each is audited once put."""
    return len(await store.audit.of_actions(None, ["subject.suggest"]))


async def test_one_report_that_fails_to_match_leaves_the_rest_of_the_batch_matched(
    synced_store: Store, schemes_file: SchemesFile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    norwich = await town(synced_store, schemes_file, tmp_path)
    store = norwich.store
    _, (failing, _) = await a_subject_and_reports(norwich, 2)
    suggest = store.subjects.suggest

    async def fails_for_one(
        subject_id: int,
        report_id: int,
        reason: SuggestionReason,
        *,
        distance: int | None = None,
        words: Sequence[str] = (),
    ) -> SubjectSuggestion | None:
        if report_id == failing.id:
            raise StorageError("could not store the suggestion: the database failed")
        return await suggest(subject_id, report_id, reason, distance=distance, words=words)

    monkeypatch.setattr(store.subjects, "suggest", fails_for_one)
    watch = SubjectWatch(store, norwich.photos, CallbackSigner(b"k" * 32))
    done = await watch.run(NOW)

    assert (done.matched, done.put) == (2, 1), "the first report and the other matched"
    assert [r.id for r in await store.subjects.unscanned(BATCH)] == [failing.id]
    monkeypatch.undo()
    done = await watch.run(NOW)
    assert (done.matched, done.put) == (1, 1)
    assert await store.subjects.unscanned(BATCH) == []
    assert await suggested(store) == 2


async def test_a_run_that_stops_before_marking_its_batch_puts_nothing_twice(
    synced_store: Store, schemes_file: SchemesFile, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    norwich = await town(synced_store, schemes_file, tmp_path)
    store = norwich.store
    subject, (left, *_) = await a_subject_and_reports(norwich, 3)
    stopped = await store.subjects.suggest(subject.id or 0, left.id or 0, SuggestionReason.WORDS)
    assert stopped is not None, "a run made it and stopped before putting it"

    async def stops(scans: Sequence[Scanned]) -> None:
        raise StorageError("could not record the reports matched: the database failed")

    monkeypatch.setattr(store.subjects, "mark_all_scanned", stops)
    watch = SubjectWatch(store, norwich.photos, CallbackSigner(b"k" * 32))
    done = await watch.run(NOW)
    assert (done.matched, done.put) == (0, 3), "put, the one left over among them"
    assert len(await store.subjects.unscanned(BATCH)) == 4
    monkeypatch.undo()

    done = await watch.run(NOW)

    assert (done.matched, done.put) == (4, 0)
    assert await store.subjects.unscanned(BATCH) == []
    assert await suggested(store) == 3
    assert await store.subjects.unput(left.id or 0) == []
