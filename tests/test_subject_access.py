"""Subject access in one step, and erasure: what a person is owed, and nothing of the sources.

The stories run on SQLite and, when SHOPWATCH_TEST_POSTGRES_URL is set, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import stat
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from broadcast.subjects.access import write_bundle
from broadcast.subjects.notices import NoticeTerms
from broadcast.subjects.service import SubjectService
from broadcast.subjects.viewing import GalleryViewer
from broadcast.texts import subjects as texts
from config.errors import AccessDeniedError, InvalidInputError, NotFoundError
from config.schemes import SchemesFile, load_schemes, parse_schemes
from config.vocabulary import AuditOutcome, NoticeStage, Role, SuggestionReason
from storage.places import member_reference
from storage.store import Store
from tests.storage_fixtures import EXAMPLE_SCHEMES, command_line_deployment
from tests.test_subjects import Norwich, cctv_still, member, town


@pytest.fixture
async def norwich(synced_store: Store, schemes_file: SchemesFile, tmp_path: Path) -> Norwich:
    return await town(synced_store, schemes_file, tmp_path)


async def dean(norwich: Norwich) -> int:
    """Dean Smith: reported at Shop 102 with a photo, named, told of, excluded and viewed."""
    boss = norwich.coordinator
    alert = await norwich.report(
        photo=cctv_still(21),
        description="Took two bottles of gin from SHOP 102 and ran",
        at_premises=True,
        premises_shop="Shop 102",
        location_text="London Street",
    )
    subject = await norwich.service.create_from_report(norwich.operator, alert.id or 0)
    sid = subject.id or 0
    await norwich.service.tell(norwich.shopkeeper, sid, "Dean, he drinks in the Bell")
    await norwich.service.identify(boss, sid, name="Dean Smith", basis="Named by PCSO Hale")
    notice = await norwich.service.issue_notice(
        boss,
        sid,
        NoticeTerms(stage=NoticeStage.EXCLUSION, decided_by="Board", board_decision_ref="B7"),
        today=date(2026, 12, 2),
    )
    await norwich.service.view(norwich.shopkeeper, sid, how="gallery")
    await norwich.service.notice_letter(boss, notice.id or 0)
    return sid


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


class TestSubjectAccess:
    async def test_the_bundle_holds_the_record_notices_reports_photos_and_every_disclosure(
        self, norwich: Norwich, tmp_path: Path
    ) -> None:
        sid = await dean(norwich)
        boss = norwich.coordinator

        bundle = await norwich.service.subject_access(boss, sid, received=date(2027, 1, 31))
        folder = write_bundle(bundle, norwich.photos, tmp_path / "sar")

        assert (bundle.deadline, bundle.extended_deadline) == (
            date(2027, 2, 28),
            date(2027, 4, 30),
        )
        files = files_of(folder)
        [photo] = await norwich.store.subjects.photos(sid)
        photo_file = next(name for name in files if name.startswith("photos/"))
        assert hashlib.sha256(files[photo_file]).hexdigest() == photo.sha256
        data: dict[str, Any] = json.loads(files[f"subject-access-NOR-S{sid:04d}.json"])
        assert (data["subject"]["name"], data["subject"]["kind"]) == ("Dean Smith", "known")
        assert [n["board_decision_ref"] for n in data["notices"]] == ["B7"]
        [report] = data["reports"]
        assert report["where"] == "London Street (at the reporting shop)"
        assert report["description"] == "Took two bottles of gin from [member business] and ran"
        assert data["information_from_members"][0]["text"] == "Dean, he drinks in the Bell"
        shopkeeper = member_reference("norwich", norwich.shopkeeper.member.id or 0)
        coordinator = member_reference("norwich", boss.member.id or 0)
        assert [(d["action"], d["by"], d["how"]) for d in data["disclosures"]] == [
            ("subject.view", f"member {shopkeeper}", "gallery"),
            ("notice.letter", f"coordinator {coordinator}", None),
        ]
        changes = [d["action"] for d in data["other_processing"]]
        assert changes == ["subject.create", "subject.intel", "subject.identify", "notice.issue"]
        assert data["notices"][0]["premises"] == [
            "Shop 102, London Street",
        ], "the premises they were told they may not enter"
        everything = "".join(
            json.dumps(data[part])
            for part in ("reports", "information_from_members", "disclosures", "other_processing")
        ) + "".join(files[name].decode() for name in ("what-we-hold.txt", "cover-letter.txt"))
        for source in ("Shop 102", "SHOP 102", "Shop 101", "user 50000001", "50000001"):
            assert source not in everything, source
        assert "Dean Smith" in files["what-we-hold.txt"].decode()
        letter = files["cover-letter.txt"].decode()
        assert "which we received on 31 Jan 2027" in letter
        assert "due by 28 Feb 2027, or by\n30 Apr 2027 if it is extended" in letter
        assert "PO Box 1234, Norwich NR1 1AA" in letter
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
        assert {stat.S_IMODE(p.stat().st_mode) for p in folder.rglob("*") if p.is_file()} == {
            0o600
        }
        last = (await norwich.store.audit.recent(1, scheme_id=norwich.scheme.id))[0]
        assert (last.action, last.outcome, last.detail["deadline"]) == (
            "subject.access",
            AuditOutcome.ALLOWED,
            "2027-02-28",
        )

        again = await norwich.service.subject_access(boss, sid, received=date(2027, 1, 31))
        assert [d.action for d in again.disclosures][-1] == "subject.access", "itself, next time"

    async def test_a_merged_subject_is_answered_as_the_one_it_became_with_its_views(
        self, norwich: Norwich
    ) -> None:
        boss = norwich.coordinator
        kept = await dean(norwich)
        other = await norwich.service.create_from_report(
            boss, (await norwich.report(photo=cctv_still(22))).id or 0
        )
        await norwich.service.view(norwich.shopkeeper, other.id or 0, how="mini app")
        await norwich.service.merge(boss, kept, other.id or 0)

        bundle = await norwich.service.subject_access(boss, other.id or 0)

        assert (bundle.subject_id, bundle.merged_ids) == (kept, (other.id,))
        assert [d.how for d in bundle.disclosures if d.action == "subject.view"] == [
            "gallery",
            "mini app",
        ]
        assert len(bundle.photos) == 2

    async def test_only_a_coordinator_asks_and_an_erased_subject_gets_a_clear_answer(
        self, norwich: Norwich
    ) -> None:
        sid = await dean(norwich)
        boss = norwich.coordinator
        later = await norwich.report(photo=cctv_still(23))
        suggestion = await norwich.store.subjects.suggest(
            sid, later.id or 0, SuggestionReason.WORDS
        )
        assert suggestion is not None

        with pytest.raises(AccessDeniedError):
            await norwich.service.subject_access(norwich.operator, sid)
        await norwich.service.erase(boss, sid, "Wrong identification: his brother")

        assert await norwich.store.subjects.gallery([norwich.scheme.id or 0]) == []
        assert await norwich.store.subjects.notices(sid) == []
        assert await norwich.store.subjects.intel(sid) == []
        assert await norwich.store.subjects.notices_of_schemes([norwich.scheme.id or 0]) == []
        with pytest.raises(NotFoundError):
            await norwich.store.subjects.suggestion(suggestion.id or 0)
        with pytest.raises(InvalidInputError, match="subject_erased") as refused:
            await norwich.service.subject_access(boss, sid)
        assert refused.value.value.startswith(f"{sid} on ")
        last = (await norwich.store.audit.recent(1, scheme_id=norwich.scheme.id))[0]
        assert (last.action, last.outcome, last.detail["reason"]) == (
            "subject.access",
            AuditOutcome.REFUSED,
            "subject_erased",
        )

    async def test_a_neighbours_view_and_a_gallery_listing_are_disclosures_too(
        self, norwich: Norwich
    ) -> None:
        sid = await dean(norwich)
        sharing = parse_schemes(
            EXAMPLE_SCHEMES.read_text().replace("galleries = false ", "galleries = true  ", 1)
        )
        wymondham = await norwich.store.schemes.get_by_slug("wymondham")
        neighbour = await member(norwich.store, wymondham, 5_000_000_201, Role.MEMBER)
        await SubjectService(sharing, norwich.store, norwich.photos).view(
            neighbour, sid, how="gallery"
        )
        await GalleryViewer(norwich.service, norwich.store).galleries(
            norwich.shopkeeper, norwich.scheme, how="mini app"
        )

        bundle = await norwich.service.subject_access(norwich.coordinator, sid)

        shown = [(d.action, d.by, d.how) for d in bundle.disclosures][-2:]
        assert shown == [
            (
                "subject.view",
                f"member {member_reference('wymondham', neighbour.member.id or 0)}",
                "gallery",
            ),
            (
                "subject.gallery",
                f"member {member_reference('norwich', norwich.shopkeeper.member.id or 0)}",
                "mini app",
            ),
        ]
        assert f"WYM-M{neighbour.member.id or 0:04d}" in texts.sar_record(bundle)


def test_an_administrator_answers_a_request_and_erases_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database_url = command_line_deployment(tmp_path, monkeypatch)

    async def seeded() -> int:
        store = await Store.open(database_url)
        try:
            schemes = load_schemes(EXAMPLE_SCHEMES)
            await store.schemes.sync(schemes)
            return await dean(await town(store, schemes, tmp_path / "data"))
        finally:
            await store.close()

    sid = asyncio.run(seeded())
    out = tmp_path / "requests"
    sar = ["sar", "--scheme", "norwich", "--subject", str(sid)]

    assert main([*sar, "--out", str(out), "--received", "2026-12-02"]) == 0
    printed = capsys.readouterr().out
    assert f"Norwich ShopWatch, subject NOR-S{sid:04d}: 1 notice(s), 1 report(s)" in printed
    assert "Answer by 2 Jan 2027 (2 Mar 2027 if extended" in printed
    assert (out / "cover-letter.txt").exists()
    assert main([*sar, "--out", str(out)]) == 0, "a second bundle goes into a new folder"
    assert len([p for p in out.iterdir() if p.is_dir() and p.name.startswith("subject-")]) == 1

    erase = ["subject", "erase", "--scheme", "norwich", "--subject", str(sid)]
    assert main([*erase, "--reason", " "]) == 2
    assert "give the reason for the erasure" in capsys.readouterr().err
    assert main([*erase, "--reason", "Wrong identification"]) == 0
    assert main([*sar, "--out", str(tmp_path / "after")]) == 2
    said = capsys.readouterr().err
    assert f"subject {sid} on " in said
    assert "holds nothing about that person under it but the record that it was erased" in said
    assert not (tmp_path / "after").exists()
