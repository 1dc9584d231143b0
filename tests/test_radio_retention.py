"""Radio recordings hold voices: the nightly retention deletes them with the calls they record.

Runs on SQLite and, when SHOPWATCH_TEST_POSTGRES_URL is set, on PostgreSQL.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from sqlmodel import col, update

from config.errors import NotFoundError
from config.vocabulary import Category, Urgency
from storage.models import Report, utcnow
from storage.photos import PhotoStore
from storage.radio import RadioCall, RadioCallRepository
from storage.retention import purge_expired
from storage.store import Store
from storage.transaction import transaction
from tests.town import running_town

# What a recording file holds does not matter to retention; Ogg's magic keeps it honest.
RECORDING = b"OggS" + bytes(60)


class TestRadioRetention:
    async def test_recordings_past_the_retention_period_go_with_their_calls(
        self, synced_store: Store, tmp_path: Path
    ) -> None:
        store = synced_store
        data_dir = tmp_path / "data"
        calls = RadioCallRepository(store.sessions)
        scheme = await store.schemes.get_by_slug("norwich")
        assert scheme.id is not None
        assert scheme.retention_days == 365
        now = utcnow()
        year_ago = now - timedelta(days=400)

        async def heard(speaker: str, words: str) -> RadioCall:
            incoming = data_dir / "incoming.ogg"
            incoming.parent.mkdir(parents=True, exist_ok=True)
            incoming.write_bytes(RECORDING)
            return await calls.record(
                scheme.id or 0,
                scheme.slug,
                speaker,
                words,
                now,
                data_dir=data_dir,
                audio=incoming,
                deliveries=lambda _call: [],
            )

        async def logged_back_then(report_id: int | None) -> None:
            """As if the report had been logged 400 days ago."""
            async with transaction(store.sessions, "age the report") as session:
                await session.exec(
                    update(Report).where(col(Report.id) == report_id).values(created_at=year_ago)
                )

        def file_of(call: RadioCall) -> Path:
            assert call.recording is not None
            return data_dir / call.recording

        def aged(path: Path) -> Path:
            os.utime(path, (year_ago.timestamp(), year_ago.timestamp()))
            return path

        # Last year: a call kept as a report of its own, and one the control room
        # attached to a shop's alert.
        old_call = await heard("ControlRoom", "male in a red cap heading to the market")
        await logged_back_then(old_call.report.id)
        old_alert = await store.reports.create(
            Report(
                scheme_id=scheme.id,
                category=Category.THEFT,
                urgency=Urgency.NOW,
                description="Red cap, took perfume",
            )
        )
        await logged_back_then(old_alert.id)
        attached = await heard("Boots", "red cap is outside boots")
        assert old_alert.id is not None
        assert attached.event.id is not None
        await calls.attach(attached.event.id, old_alert.id, member_id=None)
        # This month: a call still in the log, whose file is old by its clock (restored
        # from a backup, say): the log, not the file's age, says it stays.
        recent_call = await heard("ControlRoom", "all quiet on gentleman's walk")
        aged(file_of(recent_call))
        # A member's voice note relayed to the radio last year, and one from today.
        folder = data_dir / "radio" / scheme.slug
        old_note = folder / "voice-0a1b.ogg"
        old_note.write_bytes(RECORDING)
        aged(old_note)
        new_note = folder / "voice-2c3d.ogg"
        new_note.write_bytes(RECORDING)
        # Another scheme's recordings are not this scheme's to delete.
        elsewhere = data_dir / "radio" / "great-yarmouth" / "voice-4e5f.ogg"
        elsewhere.parent.mkdir(parents=True)
        elsewhere.write_bytes(RECORDING)
        aged(elsewhere)

        counts = await purge_expired(
            store, PhotoStore(tmp_path / "photos"), scheme, now, data_dir=data_dir
        )

        assert not file_of(old_call).exists()
        assert not file_of(attached).exists(), "it went with the alert it was attached to"
        assert not old_note.exists()
        assert file_of(recent_call).exists()
        assert new_note.exists()
        assert elsewhere.exists()
        assert counts.recordings == 3
        assert counts.reports == 2  # the old call and the old alert; the stand-in is recent
        for gone in (old_call.report.id, old_alert.id):
            try:
                await store.reports.get(gone or 0)
            except NotFoundError:
                continue
            raise AssertionError(f"report {gone} outlived its retention period")
        assert recent_call.report.id is not None
        [kept] = await store.reports.events(recent_call.report.id)
        assert kept.text == "ControlRoom: all quiet on gentleman's walk"
        retention = [e for e in await store.audit.recent(limit=5) if e.action == "retention"]
        assert retention[0].detail["recordings"] == 3

        again = await purge_expired(
            store, PhotoStore(tmp_path / "photos"), scheme, now, data_dir=data_dir
        )
        assert (again.reports, again.recordings) == (0, 0)
        assert file_of(recent_call).exists()


async def test_the_nightly_job_clears_the_schemes_old_recordings(tmp_path: Path) -> None:
    async with running_town(tmp_path) as town:
        application = town.runtime.application
        assert application.job_queue is not None
        [nightly] = application.job_queue.get_jobs_by_name("retention:norwich")
        folder = town.runtime.settings.data_dir / "radio" / "norwich"
        folder.mkdir(parents=True)
        last_year = folder / "voice-0a1b.ogg"
        today = folder / "voice-2c3d.ogg"
        for path in (last_year, today):
            path.write_bytes(RECORDING)
        long_ago = (utcnow() - timedelta(days=400)).timestamp()
        os.utime(last_year, (long_ago, long_ago))

        await nightly.run(application)

        assert not last_year.exists()
        assert today.exists()
