"""A notice letter a coordinator can serve: the PDF opened and read as the person would read it.

The stories run on SQLite and, when SHOPWATCH_TEST_POSTGRES_URL is set, on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import io
import stat
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader

from bot.cli import main
from broadcast.subjects.notices import NoticeTerms
from broadcast.subjects.service import Deployment, SubjectService, local_today
from config.errors import AccessDeniedError, InvalidInputError, NotFoundError
from config.schemes import SchemesFile, load_schemes, parse_schemes
from config.vocabulary import AppealOutcome, AuditOutcome, NoticeStage
from storage.store import Store
from tests.storage_fixtures import EXAMPLE_SCHEMES, command_line_deployment
from tests.test_subjects import Norwich, cctv_still, in_words, town

TODAY = date(2026, 12, 2)
NORWICH_ADDRESS = '''  [scheme.subjects]
  address = """
The Board, Norwich ShopWatch
PO Box 1234, Norwich NR1 1AA
board@norwich-shopwatch.example
"""
'''


def pdf_text(data: bytes) -> str:
    """The letter's words in reading order, lines joined (a wrapped sentence reads whole)."""
    pages = PdfReader(io.BytesIO(data)).pages
    return " ".join(" ".join(page.extract_text().split()) for page in pages)


@pytest.fixture
async def norwich(synced_store: Store, schemes_file: SchemesFile, tmp_path: Path) -> Norwich:
    return await town(synced_store, schemes_file, tmp_path)


async def excluded_dean(norwich: Norwich, **changes: Any) -> tuple[int, int]:
    """Dean Smith, named from a photo alert and excluded by the board: (subject, notice)."""
    boss = norwich.coordinator
    alert = await norwich.report(photo=cctv_still(7), location_text="Gentleman's Walk")
    subject = await norwich.service.create_from_report(norwich.operator, alert.id or 0)
    await norwich.service.identify(
        boss, subject.id or 0, name="Dean Smith", aliases=["Deano"], basis="Named by PCSO Hale"
    )
    terms = NoticeTerms(
        stage=NoticeStage.EXCLUSION,
        decided_by="The board of Norwich ShopWatch",
        board_decision_ref="BD-2026-31",
        conditions="Not to enter Chapelfield Mall by its Malthouse Road entrance.",
    )
    notice = await norwich.service.issue_notice(
        boss, subject.id or 0, replace(terms, **changes), today=TODAY
    )
    return subject.id or 0, notice.id or 0


class TestNoticeLetters:
    async def test_the_letter_says_who_what_where_until_when_and_how_to_appeal(
        self, norwich: Norwich
    ) -> None:
        sid, nid = await excluded_dean(norwich)
        policy = norwich.service.config(norwich.scheme)

        made = await norwich.service.notice_letter(norwich.coordinator, nid)

        text = pdf_text(made.data)
        assert made.filename == f"norwich-notice-NOR-N{nid:04d}.pdf"
        for expected in (
            "Norwich ShopWatch",
            "Exclusion notice",
            f"NOR-N{nid:04d}",
            "Dean Smith (also known as Deano)",
            "from 2 December 2026 until the end of 1 December 2027",
            "The board of Norwich ShopWatch (board decision BD-2026-31)",
            "review this exclusion on 2 June 2027",
            "Shop 102, London Street",
            f"{in_words(local_today(norwich.scheme))}: theft, Gentleman's Walk",
            "Not to enter Chapelfield Mall by its Malthouse Road entrance.",
            "How to appeal",
            "within 28 days of receiving it",
            "PO Box 1234, Norwich NR1 1AA",
            "board@norwich-shopwatch.example",
            "Served on ______",
            "How the scheme uses information about you",
            "deleted 90 days after this notice ends, or after you were last reported",
            "an image that is part of an incident report is kept until that report is deleted",
            "Incident reports are deleted 365 days after they were made",
            "with this notice, 365 days after your images",
        ):
            assert expected in text, expected
        assert (policy.known_days, norwich.scheme.retention_days) == (90, 365)
        assert "{" not in text
        assert "when this notice and the scheme's retention period end" not in text
        assert "Named by PCSO Hale" not in text, "how they were identified is not the letter's"
        assert norwich.shopkeeper.member.display_name not in text, "nor who reported"
        entries = await norwich.store.audit.recent(5, scheme_id=norwich.scheme.id)
        letter = next(e for e in entries if e.action == "notice.letter")
        assert (letter.outcome, letter.detail) == (
            AuditOutcome.ALLOWED,
            {"notice_id": nid, "subject_id": sid},
        )

    async def test_once_served_the_letter_says_when_and_how_and_an_appeal_is_decided(
        self, norwich: Norwich
    ) -> None:
        _, nid = await excluded_dean(norwich)
        boss, service = norwich.coordinator, norwich.service
        served_on = local_today(norwich.scheme)
        await service.record_service(
            boss, nid, served_on=served_on, how="By hand at Norwich police station"
        )

        served = pdf_text((await service.notice_letter(boss, nid)).data)

        assert f"Served on {in_words(served_on)}: By hand at Norwich police station." in served
        assert "Served on ______" not in served
        received = served_on + timedelta(days=17)
        await service.record_appeal(
            boss, nid, received_on=received, text="I was at work that day", today=received
        )
        await service.decide_appeal(
            boss,
            nid,
            outcome=AppealOutcome.OVERTURNED,
            decided_on=served_on + timedelta(days=38),
            decision_ref="BD-2027-02",
        )
        with pytest.raises(InvalidInputError, match="notice_not_in_force"):
            await service.notice_letter(boss, nid)
        last = (await norwich.store.audit.recent(1, scheme_id=norwich.scheme.id))[0]
        assert (last.action, last.outcome, last.detail["reason"]) == (
            "notice.letter",
            AuditOutcome.REFUSED,
            "notice_not_in_force",
        )

    async def test_the_privacy_notice_prints_the_schemes_own_periods(
        self, norwich: Norwich
    ) -> None:
        """A person is told when their data goes by the periods the nightly jobs keep, not
        by words that would stay the same whatever the scheme set."""
        _, nid = await excluded_dean(norwich)
        shorter = parse_schemes(
            EXAMPLE_SCHEMES.read_text().replace(
                NORWICH_ADDRESS, NORWICH_ADDRESS + "  known_days = 30\n"
            )
        )
        assert shorter.scheme("norwich").subjects.known_days == 30
        service = SubjectService(shorter, norwich.store, norwich.photos)

        text = pdf_text((await service.notice_letter(norwich.coordinator, nid)).data)

        assert "are deleted 30 days after this notice ends" in text
        assert "90 days" not in text

    async def test_a_warning_reads_as_a_warning(self, norwich: Norwich) -> None:
        _, nid = await excluded_dean(norwich, stage=NoticeStage.WARNING, board_decision_ref=None)

        text = pdf_text((await norwich.service.notice_letter(norwich.coordinator, nid)).data)

        assert "Warning notice" in text
        assert "This warning stands from 2 December 2026 until the end of 1 December 2027" in text
        assert "Exclusion notice" not in text

    async def test_a_member_another_scheme_or_a_scheme_without_an_address_gets_no_letter(
        self, norwich: Norwich, schemes_file: SchemesFile
    ) -> None:
        _, nid = await excluded_dean(norwich)
        wymondham = await norwich.store.schemes.get_by_slug("wymondham")
        assert wymondham.id is not None

        with pytest.raises(AccessDeniedError):
            await norwich.service.notice_letter(norwich.shopkeeper, nid)
        with pytest.raises(AccessDeniedError):
            await norwich.service.notice_letter(norwich.operator, nid)
        with pytest.raises(NotFoundError):
            await norwich.service.notice_letter(Deployment(wymondham.id, "tester"), nid)
        no_address = parse_schemes(EXAMPLE_SCHEMES.read_text().replace(NORWICH_ADDRESS, ""))
        assert no_address.scheme("norwich").subjects.address == ""
        bare = SubjectService(no_address, norwich.store, norwich.photos)
        with pytest.raises(InvalidInputError, match="letter_address_missing"):
            await bare.notice_letter(norwich.coordinator, nid)
        refused = [
            e.detail.get("reason")
            for e in await norwich.store.audit.recent(10, scheme_id=norwich.scheme.id)
            if e.action == "notice.letter"
        ]
        assert refused == ["letter_address_missing", "role", "role"]


def test_a_coordinator_makes_the_letter_and_records_service_from_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    database_url = command_line_deployment(tmp_path, monkeypatch)

    async def seeded() -> tuple[int, date]:
        store = await Store.open(database_url)
        try:
            schemes = load_schemes(EXAMPLE_SCHEMES)
            await store.schemes.sync(schemes)
            norwich = await town(store, schemes, tmp_path / "data")
            return (await excluded_dean(norwich))[1], local_today(norwich.scheme)
        finally:
            await store.close()

    nid, today = asyncio.run(seeded())
    letter = tmp_path / "letters" / "dean.pdf"
    base = ["subject", "letter", "--scheme", "norwich", "--notice", str(nid)]

    assert main([*base, "--out", str(letter)]) == 0
    assert "Exclusion notice NOR-N" in capsys.readouterr().out
    assert "Dean Smith (also known as Deano)" in pdf_text(letter.read_bytes())
    assert stat.S_IMODE(letter.stat().st_mode) == 0o600
    assert main([*base, "--out", str(letter)]) == 2
    assert "exists already" in capsys.readouterr().err

    served = ["subject", "served", "--scheme", "norwich", "--notice", str(nid)]
    assert main([*served, "--on", today.isoformat(), "--how", " "]) == 2
    assert "say how the notice was served" in capsys.readouterr().err
    assert main([*served, "--on", today.isoformat(), "--how", "By hand, PCSO Hale"]) == 0
    again = tmp_path / "letters" / "dean-served.pdf"
    assert main([*base, "--out", str(again)]) == 0
    served_text = pdf_text(again.read_bytes())
    assert f"Served on {in_words(today)}: By hand, PCSO Hale." in served_text

    notice = ["--scheme", "norwich", "--notice", str(nid)]
    upheld = ["subject", "decide", *notice, "--outcome", "upheld", "--on", "2027-01-10",
              "--ref", "BD-1"]  # fmt: skip
    monkeypatch.delenv("SHOPWATCH_BOT_TOKEN", raising=False)
    assert main(upheld) == 2, "a decision edits the cards, signed with the bot's token"
    assert "SHOPWATCH_BOT_TOKEN is not set" in capsys.readouterr().err
    monkeypatch.setenv("SHOPWATCH_BOT_TOKEN", "5550001:sandbox-token-norwich")
    assert main(upheld) == 2
    assert "no appeal against this notice is recorded" in capsys.readouterr().err
    received, decided = today.isoformat(), (today + timedelta(days=38)).isoformat()
    assert main(["subject", "appeal", *notice, "--received", received, "--text", "Not me"]) == 0
    assert main(["subject", "decide", *notice, "--outcome", "varied", "--on", decided,
                 "--ref", "BD-2027-02", "--new-end", "2027-06-02"]) == 0  # fmt: skip
    assert "appeal varied; the notice ends on 2 Jun 2027" in capsys.readouterr().out
    assert main(["subject", "letter", "--scheme", "norwich", "--notice", "999", "--out",
                 str(tmp_path / "x.pdf")]) == 2  # fmt: skip
    assert "no notice 999" in capsys.readouterr().err

    async def trail() -> list[tuple[str, str, str]]:
        store = await Store.open(database_url)
        try:
            return [
                (e.action, e.outcome.value, str(e.detail.get("by", "")))
                for e in reversed(await store.audit.recent(20))
                if e.action.startswith("notice.") and e.action != "notice.issue"
            ]
        finally:
            await store.close()

    actions = asyncio.run(trail())
    assert [(a, o) for a, o, _ in actions] == [
        ("notice.letter", "allowed"),
        ("notice.serve", "refused"),
        ("notice.serve", "allowed"),
        ("notice.letter", "allowed"),
        ("notice.appeal_decided", "refused"),
        ("notice.appeal", "allowed"),
        ("notice.appeal_decided", "allowed"),
        ("notice.letter", "refused"),
    ]
    assert all(by.endswith("(command line)") for _, _, by in actions)
