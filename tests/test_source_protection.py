"""The police never learn which shop reported what, except from a witness-contact export.

Alice joins Norwich as Boots on Haymarket and sends alerts the way members do,
from her shop, with no place of their own. The shops and the control room read
"Boots, Haymarket" on their cards; PC Daniels, Norwich's police contact, reads
only her scheme reference and the street: in every export file, in /search and
in /show. Carol's witness-contact export names the shop. When Alice leaves and
rejoins as another shop, her old reports still come from Boots.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import load_workbook
from pypdf import PdfReader

from config.vocabulary import MemberStatus, Role
from sandbox import MessageView, Person
from storage.export.records import member_reference
from tests.test_alerts import (
    NORWICH,
    THEFT,
    alice,
    copies,
    dave_in_the_control_room,
    every_copy_says,
    phone_photo,
)
from tests.test_export import documents, enrol
from tests.town import Town

LONDON = ZoneInfo("Europe/London")


def as_text(message: MessageView) -> str:
    """What a reader of one exported file could see, as text."""
    assert message.document is not None
    data, name = message.document.data, message.document.file_name or ""
    if name.endswith(".xlsx"):
        workbook = load_workbook(io.BytesIO(data), read_only=True)
        rows = [
            " ".join("" if v is None else str(v) for v in row)
            for sheet in workbook.worksheets
            for row in sheet.iter_rows(values_only=True)
        ]
        workbook.close()
        return "\n".join(rows)
    if name.endswith(".pdf"):
        return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    return data.decode("utf-8-sig")


async def export_today(town: Town, person: Person, *, witness: bool = False) -> list[MessageView]:
    before = len([m for m in town.sandbox.chat_messages(town.bot, person) if m.document])
    today = datetime.now(LONDON).date().isoformat()
    await person.send(town.bot, f"/export {'witness ' if witness else ''}{today} {today}")
    files = await documents(town, person, before + 5)
    person.skip_replies(town.bot)
    return files[before:]


async def test_police_outputs_name_the_reporting_shop_by_reference_and_street_only(
    polling_town: Town,
) -> None:
    town = polling_town
    alice = town.person(5_000_000_301, "Alice")
    member = await town.join(alice, shop="Boots", street="Haymarket")
    assert member.id is not None
    reference = member_reference("norwich", member.id)

    await alice.send_photo(town.bot, phone_photo(), caption=THEFT)
    await alice.next_reply(town.bot)
    card = (await copies(town, NORWICH))[NORWICH[1]]
    assert "Where: Boots, Haymarket" in card.body, "the scheme's own shops read the shop"
    await alice.send(town.bot, "/alert Two females filled a bag with perfume testers")
    await alice.next_reply(town.bot)

    officer = await enrol(town, "PC Daniels", 6_000_000_021, Role.POLICE, "norwich")
    files = await export_today(town, officer)
    for message in files:
        shown = as_text(message)
        assert "Boots" not in shown, f"{message.document and message.document.file_name}"
        assert "Alice" not in shown
    rows = list(csv.DictReader(io.StringIO(as_text(files[0]))))
    assert {(r["reported_by"], r["location"]) for r in rows} == {
        (reference, "Haymarket (at the reporting shop)")
    }
    document = json.loads(as_text(files[3]))
    assert {r["location"]["at_reporter_premises"] for r in document["reports"]} == {True}
    assert f"Reported by {reference}" in as_text(files[2]).replace(":", "").replace("\n", " ")

    await officer.send(town.bot, "/search perfume")
    results = await officer.next_reply(town.bot)
    assert f"{reference}, Haymarket" in results.body
    assert "Boots" not in results.body
    report_id = int(rows[-1]["report_id"])
    await officer.send(town.bot, f"/show {report_id}")
    card_shown = await officer.next_reply(town.bot)
    assert f"Reported by: {reference}, Haymarket" in card_shown.body
    assert "Where: Haymarket (at the reporting shop)" in card_shown.body
    assert "Boots" not in card_shown.body

    witness = await export_today(town, town.coordinator, witness=True)
    rows = list(csv.DictReader(io.StringIO(as_text(witness[0]))))
    assert {(r["witness_shop"], r["witness_street"]) for r in rows} == {("Boots", "Haymarket")}


async def test_a_member_who_leaves_and_rejoins_as_another_shop_does_not_rewrite_old_reports(
    polling_town: Town,
) -> None:
    town = polling_town
    store = town.runtime.store
    alice = town.person(5_000_000_302, "Alice")
    member = await town.join(alice, shop="Boots", street="Haymarket")
    assert member.id is not None
    await alice.send(town.bot, "/alert Grey hoodie took razor blades")
    await alice.next_reply(town.bot)
    await copies(town, NORWICH)

    await store.members.set_status(member.id, MemberStatus.REMOVED)
    await town.join(alice, shop="Greggs", street="Gentleman's Walk")

    witness = await export_today(town, town.coordinator, witness=True)
    [row] = list(csv.DictReader(io.StringIO(as_text(witness[0]))))
    assert (row["location"], row["witness_shop"], row["witness_street"]) == (
        "Haymarket (at the reporting shop)",
        "Boots",
        "Haymarket",
    )
    await town.coordinator.send(town.bot, f"/show {row['report_id']}")
    shown = await town.coordinator.next_reply(town.bot)
    assert "Reported by: Boots, Haymarket" in shown.body
    assert "Where: Boots, Haymarket" in shown.body


async def test_a_withdrawn_report_reaches_the_police_marked_graded_e_and_without_the_person(
    polling_town: Town,
) -> None:
    town = polling_town
    shopkeeper = await alice(town)
    operator = await dave_in_the_control_room(town)
    await shopkeeper.send_photo(town.bot, phone_photo(), caption=THEFT)
    confirmation = await shopkeeper.next_reply(town.bot)
    await copies(town, NORWICH)
    await shopkeeper.press(confirmation, "Stood down / Wrong person")
    await shopkeeper.press(town.sandbox.refresh(confirmation), "Wrong person")
    await every_copy_says(town, NORWICH, "WITHDRAWN: Theft")
    await shopkeeper.send(town.bot, "/alert Male took two bottles of vodka, walked up Timberhill")
    await shopkeeper.next_reply(town.bot)
    vodka = (await copies(town, NORWICH, count=2))[NORWICH[0]]
    await operator.press(vodka, "Detained")
    await every_copy_says(town, NORWICH, "Status: Detained (Dave, ")

    files = await export_today(town, town.coordinator)

    withdrawn, detained = list(csv.DictReader(io.StringIO(as_text(files[0]))))
    assert (withdrawn["status"], withdrawn["grading"], withdrawn["grading_basis"]) == (
        "withdrawn",
        "2/E/P",
        "withdrawn",
    )
    assert withdrawn["description"].startswith("(withdrawn by the reporting member")
    assert (withdrawn["subject_description"], withdrawn["photo_count"]) == ("", "0")
    for message in files[:4]:
        assert "grey hoodie" not in as_text(message), "the wrong person leaves every file"
    assert (detained["status"], detained["last_status"]) == ("closed", "detained")
