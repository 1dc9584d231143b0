"""Updates of different chats side by side; one chat's, one person's, in order.

Alice's phone is on a bad line: the bot's answer to her hangs in Telegram. Bob, two
streets away, sends his alert meanwhile, and hears back at once: nobody's update
waits behind another chat's. But Alice's own messages stay in her order: a reply to
her alert, sent before the bot has even answered the alert, becomes an update of
that alert; three alerts typed in a row are three reports in that order. And four
shops sending pixel bombs while the coordinator's export is on its way hold up no
other member's alert either.
"""

from __future__ import annotations

import io

from PIL import Image

from sandbox import FaultKind
from storage.models import Report
from tests.test_alerts import (
    NORWICH,
    NORWICH_CONTROL_ROOM,
    THEFT,
    WYMONDHAM,
    alice,
    copies,
    enrol,
    every_copy_says,
    the_log,
)
from tests.test_export import documents, norwich_logged_last_week
from tests.town import Town

BOB_ALERT = "Two lads on bikes snatching phones outside the Forum, heading to St Giles"


async def test_another_members_alert_is_confirmed_while_a_slow_update_is_in_hand(
    polling_town: Town,
) -> None:
    town = polling_town
    shopkeeper = await alice(town)
    bob = await enrol(town, 5_000_000_104, "Bob", shop="Jarrold", street="London Street")
    # Every answer to Alice hangs until the test lets go of it: her update stays in hand.
    held = town.sandbox.faults.storm(
        FaultKind.TIMEOUT, seconds=120, methods=["sendMessage"], chats=[shopkeeper.id]
    )

    await shopkeeper.send(town.bot, f"/alert {THEFT}")
    await town.sandbox.wait_for(lambda: held.struck > 0, message="Alice's answer never asked")
    await bob.send(town.bot, f"/alert {BOB_ALERT}")
    confirmation = await bob.next_reply(town.bot)
    still_held = held.struck == 1 and not town.bot_said(shopkeeper)
    town.sandbox.faults.calm()

    assert confirmation.body.startswith("Alert sent")
    assert still_held, "Bob was answered while Alice's update was still in hand"
    await copies(town, NORWICH + WYMONDHAM, count=2)  # both alerts reached every chat


async def test_a_reply_sent_before_the_alert_is_answered_is_an_update_of_that_alert(
    polling_town: Town,
) -> None:
    town = polling_town
    shopkeeper = await alice(town)

    own = await shopkeeper.send(town.bot, f"/alert {THEFT}")
    await shopkeeper.send(town.bot, "now in the Castle Quarter", reply_to=own)

    answers = [(await shopkeeper.next_reply(town.bot)).body for _ in range(2)]
    assert answers[0].startswith("Alert sent")
    assert answers[1].startswith("Update added")
    await every_copy_says(town, NORWICH + WYMONDHAM, "now in the Castle Quarter")


async def test_alerts_typed_in_a_row_are_reports_and_copies_in_that_order(
    polling_town: Town,
) -> None:
    town = polling_town
    shopkeeper = await alice(town)
    sightings = [f"Male in a red cap at the tills, sighting {n}" for n in range(3)]

    for sighting in sightings:
        await shopkeeper.send(town.bot, f"/alert {sighting}")
    answers = [(await shopkeeper.next_reply(town.bot)).body for _ in sightings]

    reports: list[Report] = sorted(await the_log(town), key=lambda r: r.id or 0)
    assert [r.description for r in reports] == sightings
    assert all(f"Report #{r.id}." in a for r, a in zip(reports, answers, strict=True)), answers
    await copies(town, [NORWICH_CONTROL_ROOM], count=3)
    shown = [
        m.body
        for m in town.sandbox.chat_messages(town.bot, town.control_room)
        if m.from_bot and "sighting" in m.body
    ]
    assert [next(s for s in sightings if s in body) for body in shown] == sightings


def pixel_bomb() -> bytes:
    """A 7070 x 7070 JPEG of one colour: 50 megapixels, small on the wire."""
    out = io.BytesIO()
    Image.new("RGB", (7070, 7070), (200, 30, 30)).save(out, format="JPEG")
    return out.getvalue()


async def test_four_pixel_bombs_and_an_export_on_its_way_hold_up_no_other_members_alert(
    polling_town: Town,
) -> None:
    town = polling_town
    carol = town.coordinator
    await norwich_logged_last_week(town, reports=60, photo_count=10)
    shops = [
        await enrol(town, 5_000_000_160 + n, f"Shop {n}", shop=f"Shop {n}", street="Pottergate")
        for n in range(4)
    ]
    bob = await enrol(town, 5_000_000_150, "Bob", shop="Jarrold", street="London Street")
    # Telegram holds the pictures' files and the export's documents until the test lets go:
    # four updates stay in hand, and the export stays on its way to Carol.
    pictures = town.sandbox.faults.storm(
        FaultKind.SLOW, seconds=120, hang=120, methods=["getFile"]
    )
    export = town.sandbox.faults.storm(
        FaultKind.SLOW, seconds=120, hang=120, methods=["sendDocument"], chats=[carol.id]
    )
    bomb = pixel_bomb()
    for shop in shops:
        await shop.send_document(
            town.bot, bomb, "IMG_0001.jpg", f"{THEFT} ({shop.name})", mime_type="image/jpeg"
        )
    await carol.send(town.bot, "/export")
    await town.sandbox.wait_for(
        lambda: pictures.struck == 4 and export.struck == 1,
        timeout=60,
        message="the pictures and the export were not all under way",
    )

    await bob.send(town.bot, f"/alert {BOB_ALERT}")
    confirmation = await bob.next_reply(town.bot)
    bobs = await copies(town, NORWICH)
    still_in_hand = (
        pictures.struck == 4
        and export.struck == 1
        and not any(town.bot_said(shop) for shop in shops)
        and not [m for m in town.sandbox.chat_messages(town.bot, carol) if m.document]
    )
    town.sandbox.faults.calm()

    assert confirmation.body.startswith("Alert sent")
    assert all(BOB_ALERT in copy.body for copy in bobs.values())
    assert still_in_hand, "Bob was answered and his copies sent while the five were in hand"
    # Then the five finish, nothing lost: each shop's alert, and the export's five files.
    for shop in shops:
        assert (await shop.next_reply(town.bot, timeout=60)).body.startswith("Alert sent")
    assert len(await documents(town, carol, 5)) == 5
    await copies(town, NORWICH, count=5)
