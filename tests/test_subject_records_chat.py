"""A subject access request and an erasure from a coordinator's private chat, turn by turn
through the Bot API sandbox: `/sar 12` brings one protected zip holding everything the
scheme holds about the subject and every disclosure of it (this one included), not kept
once sent; `/erase 12 <reason>` asks first and erases once; and the refusals.
"""

from __future__ import annotations

import io
import json
import re
import stat
import zipfile
from datetime import timedelta
from pathlib import Path
from typing import Any

from broadcast.subjects.records import pack_bundle
from broadcast.subjects.service import Actor, local_today
from broadcast.texts import refusals
from broadcast.texts import subject_records as texts
from config.errors import Refusal
from config.vocabulary import AuditOutcome
from sandbox import MessageView, Person
from storage.models import AuditEntry, Scheme
from storage.places import member_reference
from tests.test_alerts import (
    NORWICH,
    NORWICH_CONTROL_ROOM,
    THEFT,
    alice,
    copies,
    dave_in_the_control_room,
    phone_photo,
)
from tests.town import Town

MADE = re.compile(r"Subject #(\d+) \(ID sought\) made from report #(\d+)")


async def norwich(town: Town) -> Scheme:
    return await town.runtime.store.schemes.get_by_slug("norwich")


async def a_subject_from_an_alert(town: Town) -> tuple[Person, int, int]:
    """Alice (Boots, Haymarket) sends a photo alert; Dave in the control room presses New
    subject on its card. Returns Alice, the subject's number and the report's."""
    shopkeeper = await alice(town)
    operator = await dave_in_the_control_room(town)
    await shopkeeper.send_photo(town.bot, phone_photo(), caption=THEFT)
    await shopkeeper.next_reply(town.bot)
    card = (await copies(town, NORWICH))[NORWICH_CONTROL_ROOM]
    made = MADE.match(await operator.press(card, "New subject") or "")
    assert made is not None
    return shopkeeper, int(made.group(1)), int(made.group(2))


async def zip_in_chat(town: Town, person: Person, name: str, count: int = 1) -> MessageView:
    """The `count`-th document called `name` in the person's private chat (waits for it)."""

    def probe() -> MessageView | None:
        found = [
            m
            for m in town.sandbox.chat_messages(town.bot, person)
            if m.document is not None and m.document.file_name == name
        ]
        return found[count - 1] if len(found) >= count else None

    return await town.sandbox.wait_for(probe, message=f"{person.name} got no {name}")


def opened(message: MessageView) -> dict[str, bytes]:
    assert message.document is not None
    with zipfile.ZipFile(io.BytesIO(message.document.data)) as packed:
        return {info.filename: packed.read(info) for info in packed.infolist()}


async def member_id(town: Town, person: Person) -> int:
    found = await town.runtime.store.members.get((await norwich(town)).id or 0, person.id)
    assert found is not None
    assert found.id is not None
    return found.id


def zips_left(town: Town) -> list[Path]:
    """Any subject access zip, or the folder it was made in, still under the data directory."""
    data = town.runtime.services.settings.data_dir
    return sorted({*data.rglob("*.zip"), *data.rglob("subject-access-*")})


async def refused(town: Town, action: str) -> list[tuple[AuditOutcome, dict[str, Any]]]:
    entries: list[AuditEntry] = await town.runtime.store.audit.of_actions(None, [action])
    return [(e.outcome, dict(e.detail)) for e in entries if e.outcome == AuditOutcome.REFUSED]


async def test_a_coordinator_asks_and_gets_one_protected_zip_with_every_disclosure(
    polling_town: Town,
) -> None:
    town = polling_town
    carol = town.coordinator
    shopkeeper, sid, report_id = await a_subject_from_an_alert(town)
    await shopkeeper.send(town.bot, "/gallery")
    await shopkeeper.next_reply(town.bot)
    reference = f"NOR-S{sid:04d}"
    name = f"subject-access-{reference}.zip"

    await carol.send(town.bot, f"/sar {sid} received 31/10/2026")

    document = await zip_in_chat(town, carol, name)
    assert document.protect_content
    assert document.body == (
        f"Norwich ShopWatch, subject {reference}: 0 notice(s), 1 report(s), 1 photo(s), "
        "2 disclosure(s). Answer by 30 Nov 2026 (31 Jan 2027 if extended for a "
        "complex request). Read it all before it goes to the person; this copy is not kept "
        "on the bot's server."
    )
    files = opened(document)
    folder = f"subject-access-{reference}"
    assert sorted(files) == [
        f"{folder}/cover-letter.txt",
        f"{folder}/photos/{next(n for n in files if '/photos/' in n).rsplit('/', 1)[1]}",
        f"{folder}/subject-access-{reference}.json",
        f"{folder}/what-we-hold.txt",
    ]
    data: dict[str, Any] = json.loads(files[f"{folder}/subject-access-{reference}.json"])
    scheme = await norwich(town)
    store = town.runtime.store
    alices = member_reference("norwich", await member_id(town, shopkeeper))
    carols = member_reference("norwich", await member_id(town, carol))
    assert [(d["action"], d["by"], d["how"]) for d in data["disclosures"]] == [
        ("subject.view", f"member {alices}", "chat"),
        ("subject.access", f"coordinator {carols}", None),
    ], "Alice's look at the gallery, and this very request"
    assert [d["action"] for d in data["other_processing"]] == ["subject.create"]
    assert [r["number"] for r in data["reports"]] == [report_id]
    assert data["reports"][0]["where"] == "Haymarket (at the reporting shop)"
    assert data["request"] == {
        "received": "2026-10-31",
        "deadline": "2026-11-30",
        "extended_deadline": "2027-01-31",
    }
    letter = files[f"{folder}/cover-letter.txt"].decode()
    assert "which we received on 31 Oct 2026" in letter
    everything = b"".join(files.values())
    for source in (b"Boots", b"Alice", str(shopkeeper.id).encode()):
        assert source not in everything, source
    assert await town.sandbox.wait_for(lambda: zips_left(town) == [] or None), (
        "the zip is deleted once Telegram has it"
    )

    await carol.send(town.bot, f"/sar #{sid}")

    again = opened(await zip_in_chat(town, carol, name, 2))
    later: dict[str, Any] = json.loads(again[f"{folder}/subject-access-{reference}.json"])
    assert [d["action"] for d in later["disclosures"]][-2:] == ["subject.access"] * 2
    assert later["request"]["received"] == local_today(scheme).isoformat(), "today by default"
    accesses = [
        (e.outcome, e.detail["received"])
        for e in await store.audit.of_actions(scheme.id, ["subject.access"])
    ]
    assert accesses == [
        (AuditOutcome.ALLOWED, "2026-10-31"),
        (AuditOutcome.ALLOWED, local_today(scheme).isoformat()),
    ]


async def test_the_zip_is_owner_only_where_it_waits(polling_town: Town, tmp_path: Path) -> None:
    town = polling_town
    _, sid, _ = await a_subject_from_an_alert(town)
    services = town.runtime.services
    carol = await services.store.members.get((await norwich(town)).id or 0, town.coordinator.id)
    assert carol is not None
    bundle = await services.subjects.subject_access(Actor(carol), sid)

    archive = pack_bundle(bundle, services.photos, tmp_path / "exports")

    assert stat.S_IMODE(archive.stat().st_mode) == 0o600
    assert stat.S_IMODE(archive.parent.stat().st_mode) == 0o700
    assert [p.name for p in archive.parent.iterdir()] == [archive.name], "only the zip"


async def test_who_may_ask_and_what_is_refused_changes_nothing(polling_town: Town) -> None:
    town = polling_town
    carol = town.coordinator
    shopkeeper, sid, _ = await a_subject_from_an_alert(town)
    scheme = await norwich(town)
    tomorrow = local_today(scheme) + timedelta(days=1)
    wymondhams = town.coordinator_of("wymondham")

    await shopkeeper.send(town.bot, f"/sar {sid}")
    assert (await shopkeeper.next_reply(town.bot)).body == refusals.refusal(Refusal.WRONG_ROLE)
    await shopkeeper.send(town.bot, f"/erase {sid} not him")
    assert (await shopkeeper.next_reply(town.bot)).body == refusals.refusal(Refusal.WRONG_ROLE)

    await carol.send(town.bot, "/sar twelve")
    assert (await carol.next_reply(town.bot)).body == texts.SAR_USAGE
    await carol.send(town.bot, f"/sar {sid} received 31/02/2026")
    assert (await carol.next_reply(town.bot)).body == texts.sar_bad_date("31/02/2026")
    await carol.send(town.bot, f"/sar {sid} received {tomorrow:%d/%m/%Y}")
    assert (await carol.next_reply(town.bot)).body == texts.sar_future(tomorrow)
    await wymondhams.send(town.bot, f"/sar {sid}")
    assert (await wymondhams.next_reply(town.bot)).body == (
        f"No Subject #{sid} in Wymondham Business Watch: "
        "check the number on its card or in /gallery."
    )
    await carol.send(town.bot, f"/erase {sid}")
    assert (await carol.next_reply(town.bot)).body == texts.ERASE_USAGE

    assert [(o, d.get("reason")) for o, d in await refused(town, "subject.access")] == [
        (AuditOutcome.REFUSED, Refusal.WRONG_ROLE),
        (AuditOutcome.REFUSED, "usage"),
        (AuditOutcome.REFUSED, "bad_date"),
        (AuditOutcome.REFUSED, "received_in_future"),
        (AuditOutcome.REFUSED, "NotFoundError"),
    ]
    assert [d.get("reason") for _, d in await refused(town, "subject.erase")] == [
        Refusal.WRONG_ROLE,
        "usage",
    ]
    assert town.sandbox.chat_messages(town.bot, carol)[-1].document is None
    assert zips_left(town) == [], "nothing was made"
    await town.runtime.store.subjects.get(sid)


async def test_erase_asks_first_erases_once_and_a_later_request_is_told_so(
    polling_town: Town,
) -> None:
    town = polling_town
    store = town.runtime.store
    carol = town.coordinator
    _, sid, report_id = await a_subject_from_an_alert(town)
    scheme = await norwich(town)

    await carol.send(town.bot, f"/erase {sid} wrong identification")
    asked = await carol.next_reply(town.bot)
    assert asked.body.splitlines()[0] == (
        f"Erase Subject #{sid}? This removes it from galleries, notices and suggestions."
    )
    assert "its record, 1 photo, 0 notices, 0 answers from members, and its links to 1 report" in (
        asked.body
    )
    assert asked.button_texts == [texts.BUTTON_ERASE, texts.BUTTON_CANCEL]
    assert asked.protect_content

    await carol.press(asked, texts.BUTTON_CANCEL)

    assert town.sandbox.refresh(asked).body == f"Subject #{sid} is kept: nothing changed."
    assert (await store.subjects.get(sid)).id == sid

    await carol.send(town.bot, f"/erase {sid} wrong identification, it was his brother")
    first = await carol.next_reply(town.bot)
    await carol.send(town.bot, f"/erase {sid} wrong identification, it was his brother")
    second = await carol.next_reply(town.bot)

    said = await carol.press(second, texts.BUTTON_ERASE)

    assert said == f"Subject #{sid} erased."
    done = town.sandbox.refresh(second)
    assert done.button_texts == []
    assert done.body.startswith(f"Subject #{sid} is erased: gone from the galleries, with its ")
    assert "A record of the erasure is kept (when, by whom and why)" in done.body
    assert await store.subjects.gallery([scheme.id or 0]) == []
    assert await store.subjects.of_report(report_id) == []
    erasure = await store.subjects.erasure(sid)
    assert erasure is not None
    assert erasure.reason == "wrong identification, it was his brother"

    again = await carol.press(first, texts.BUTTON_ERASE)

    when = town.sandbox.refresh(first).body
    assert again == when
    assert re.fullmatch(rf"Subject #{sid} was erased already on .+: nothing changed\.", when)
    erasures = [e.outcome for e in await store.audit.of_actions(scheme.id, ["subject.erase"])]
    assert erasures == [AuditOutcome.ALLOWED], "erased once"

    await carol.send(town.bot, f"/sar {sid}")

    answer = (await carol.next_reply(town.bot)).body
    assert answer.startswith(f"Subject #{sid} was erased on ")
    assert answer.endswith("so there is no bundle to send. Nothing changed.")
    [(outcome, detail)] = await refused(town, "subject.access")
    assert (outcome, detail["reason"]) == (AuditOutcome.REFUSED, "subject_erased")


async def test_the_coordinators_help_and_menu_have_sar_and_erase(polling_town: Town) -> None:
    town = polling_town
    carol = town.coordinator
    shopkeeper = await alice(town)

    await carol.send(town.bot, "/help")
    help_text = (await carol.next_reply(town.bot)).body
    await shopkeeper.send(town.bot, "/help")
    members_help = (await shopkeeper.next_reply(town.bot)).body

    assert "/sar 12 – everything held about Subject #12" in help_text
    assert "/erase 12 wrong identification – " in help_text
    assert "/sar" not in members_help
    assert "/erase" not in members_help
    carols_menu = town.sandbox.commands(town.bot, {"type": "chat", "chat_id": carol.id})
    assert {"sar", "erase"} <= {name for name, _ in carols_menu}
    alices_menu = town.sandbox.commands(town.bot, {"type": "chat", "chat_id": shopkeeper.id})
    assert not {"sar", "erase"} & {name for name, _ in alices_menu}

    await carol.send(town.group, "/sar 12")

    assert (await carol.next_reply(town.group)).body == (
        "/sar works in your private chat with me: send it there and I will answer."
    )
