"""Quick alerts, told as the shopkeeper, the control room and the neighbours live them.

Alice runs Boots on Haymarket in Norwich. She sends one photo with a caption;
the Norwich group, the control room and Wymondham (a neighbour that wants
thefts) get the bot's copy; Dave in the control room taps On camera and every
copy says so. The later stories take one turn each: a text alert, who may not
send one, a photo that is not a photo, a forged button, Alice's update,
correction and withdrawal, and the copies disappearing after the chat TTL.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import timedelta

from PIL import ExifTags, Image

from broadcast.texts import alerts as alert_texts
from broadcast.texts import control_room as control_room_texts
from broadcast.texts import intake as intake_texts
from broadcast.texts import refusals as refusal_texts
from config.errors import Refusal
from config.vocabulary import (
    AuditOutcome,
    Category,
    EventKind,
    MemberStatus,
    OutboxKind,
    OutboxState,
    ReportStatus,
    Role,
    Urgency,
)
from sandbox import Group, MessageView, Person
from storage.models import Member, Report, utcnow
from tests.town import Town

NORWICH_GROUP = -1001000000001
NORWICH_CONTROL_ROOM = -1001000000002
WYMONDHAM_GROUP = -1001000000011
WYMONDHAM_CONTROL_ROOM = -1001000000012
YARMOUTH_GROUP = -1001000000021
YARMOUTH_CONTROL_ROOM = -1001000000022
NORWICH = (NORWICH_CONTROL_ROOM, NORWICH_GROUP)
WYMONDHAM = (WYMONDHAM_CONTROL_ROOM, WYMONDHAM_GROUP)
YARMOUTH = (YARMOUTH_CONTROL_ROOM, YARMOUTH_GROUP)

THEFT = "Male 30s, grey hoodie, black joggers, took 6 packs of razor blades, heading to Haymarket"
VIOLENCE = (
    "Threatened staff with a bottle, male 40s, bald, grey tracksuit, heading to Gentleman's Walk"
)
LOITERING = "Three youths hanging round the door, one keeps looking at the CCTV camera"
OPERATOR_BUTTONS = [
    "Acknowledge",
    "On camera",
    "Police informed",
    "Lost",
    "Detained",
    "Closed",
    "New subject",
]


# --- the people of the story -------------------------------------------------------------


async def enrol(
    town: Town,
    user_id: int,
    name: str,
    *,
    role: Role = Role.MEMBER,
    status: MemberStatus = MemberStatus.ACTIVE,
    shop: str | None = "Boots",
    street: str | None = "Haymarket",
) -> Person:
    """A Norwich member as the coordinator would have approved them (store, not chat)."""
    scheme = await town.runtime.store.schemes.get_by_slug("norwich")
    assert scheme.id is not None
    await town.runtime.store.members.add(
        Member(
            scheme_id=scheme.id,
            telegram_user_id=user_id,
            display_name=name,
            shop_name=shop,
            street=street,
            role=role,
            status=status,
        )
    )
    return town.person(user_id, name)


async def alice(town: Town) -> Person:
    return await enrol(town, 5_000_000_101, "Alice")


async def dave_in_the_control_room(town: Town) -> Person:
    dave = await enrol(town, 5_000_000_102, "Dave", role=Role.OPERATOR, shop=None, street=None)
    town.control_room.add_member(dave)
    return dave


def phone_photo() -> bytes:
    """A JPEG as a phone takes it: the camera's make and the shop's GPS position inside."""
    image = Image.new("RGB", (640, 480), (90, 110, 130))
    image.paste((200, 40, 40), (160, 120, 320, 240))
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCo"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (52.0, 37.0, 42.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    return out.getvalue()


# --- reading the chats -------------------------------------------------------------------


def copies_in(town: Town, chat_id: int) -> list[MessageView]:
    """The bot's alert copies a chat shows (or showed: deleted ones are flagged)."""
    return [
        m
        for m in town.sandbox.chat_messages(town.bot, chat_id)
        if m.from_bot and m.body.startswith(("🚨", "WITHDRAWN", "Theft", "Violence"))
    ]


async def copies(town: Town, chats: Sequence[int], count: int = 1) -> dict[int, MessageView]:
    """Wait until each chat holds `count` copies; the newest of each."""

    def arrived() -> dict[int, MessageView] | None:
        found = {chat: copies_in(town, chat) for chat in chats}
        if all(len(shown) >= count for shown in found.values()):
            return {chat: shown[-1] for chat, shown in found.items()}
        return None

    return await town.sandbox.wait_for(arrived, message=f"copies in {list(chats)}")


async def every_copy_says(town: Town, chats: Sequence[int], text: str) -> dict[int, MessageView]:
    def updated() -> dict[int, MessageView] | None:
        now = {chat: copies_in(town, chat)[-1] for chat in chats}
        return now if all(text in copy.body for copy in now.values()) else None

    return await town.sandbox.wait_for(updated, message=f"every copy saying {text!r}")


async def drained(town: Town, report_id: int) -> None:
    """Wait until every message about the report that is due has been handled."""

    async def done() -> bool:
        rows = await town.runtime.store.outbox.for_report(report_id)
        return all(
            row.state in (OutboxState.SENT, OutboxState.FAILED) or row.next_attempt_at > utcnow()
            for row in rows
        )

    finished: bool = await town.sandbox.wait_for(done, message=f"report {report_id}'s messages")
    assert finished


async def the_log(town: Town) -> list[Report]:
    scheme = await town.runtime.store.schemes.get_by_slug("norwich")
    assert scheme.id is not None
    return await town.runtime.store.reports.recent(scheme.id)


async def said_in(town: Town, where: Group, beginning: str) -> MessageView:
    """The bot's message in a group that begins so (the group also holds copies)."""

    def found() -> MessageView | None:
        said = [m for m in town.sandbox.chat_messages(town.bot, where) if m.from_bot]
        return next((m for m in said if m.body.startswith(beginning)), None)

    return await town.sandbox.wait_for(found, message=f"the bot saying {beginning!r}")


def without_exif(photo: bytes | None) -> bool:
    assert photo is not None
    with Image.open(io.BytesIO(photo)) as image:
        return dict(image.getexif()) == {}


# --- the main story ------------------------------------------------------------------------


async def test_a_photo_alert_reaches_every_chat_and_the_operators_call_shows_on_each(
    town: Town,
) -> None:
    shopkeeper = await alice(town)
    operator = await dave_in_the_control_room(town)

    await shopkeeper.send_photo(town.bot, phone_photo(), caption=THEFT)

    confirmation = await shopkeeper.next_reply(town.bot)
    assert confirmation.body.startswith(
        "Alert sent to the group, the control room and Wymondham Business Watch."
    )
    received = await copies(town, NORWICH + WYMONDHAM)
    for copy in received.values():
        assert copy.body.startswith("🚨 Theft – happening now\n" + THEFT)
        assert "Where: Boots, Haymarket" in copy.body
        assert without_exif(copy.photo), "the phone's GPS position does not leave the shop"
        assert copy.protect_content, "members cannot forward or save the alert"
    report_line = re.search(r"Report #\d+", received[NORWICH_GROUP].body)
    assert report_line is not None
    assert f"{report_line.group()} · Norwich ShopWatch" in received[NORWICH_GROUP].body
    assert f"{report_line.group()} from Norwich ShopWatch" in received[WYMONDHAM_GROUP].body
    assert received[NORWICH_CONTROL_ROOM].button_texts == OPERATOR_BUTTONS
    assert received[NORWICH_GROUP].button_texts == []
    assert received[WYMONDHAM_CONTROL_ROOM].button_texts == []
    assert "Status: waiting for the control room" in received[NORWICH_GROUP].body

    answer = await operator.press(received[NORWICH_CONTROL_ROOM], "On camera")

    assert answer == control_room_texts.operator_status_recorded("on_camera")
    told = await shopkeeper.next_reply(town.bot)
    assert re.fullmatch(r"Control room on your alert #\d+: On camera \(Dave\)\.", told.body)
    updated = await every_copy_says(town, NORWICH + WYMONDHAM, "Status: On camera (Dave, ")
    for copy in updated.values():
        assert re.search(r"Status: On camera \(Dave, \d\d:\d\d\)", copy.body)
    assert updated[NORWICH_CONTROL_ROOM].button_texts == [
        "✓ On camera",
        "Police informed",
        "Lost",
        "Detained",
        "Closed",
        "New subject",
    ], "the call that stands is marked, and Acknowledge no longer applies"
    assert copies_in(town, YARMOUTH_GROUP) == [], "Great Yarmouth only wants violence"


async def test_alert_text_is_logged_before_the_member_is_told_it_was_sent(
    polling_town: Town,
) -> None:
    town = polling_town
    shopkeeper = await alice(town)
    await enrol(town, 5_000_000_103, "Bob", shop="Jarrold", street="London Street")

    await shopkeeper.send(
        town.bot, "/alert Two females filled a bag with perfume testers, left to London St"
    )

    confirmation = await shopkeeper.next_reply(town.bot)
    logged = await the_log(town)
    assert len(logged) == 1, "the report was in the log when the confirmation arrived"
    report = logged[0]
    assert f"Report #{report.id}" in confirmation.body
    assert confirmation.body.startswith("Alert sent to 1 shop, the control room and Wymondham")
    assert report.description == "Two females filled a bag with perfume testers, left to London St"
    assert (report.category, report.urgency) == (Category.THEFT, Urgency.NOW)
    # Where it happened (the shop's street) apart from who reported it (the shop).
    assert (report.location_text, report.at_premises, report.premises_shop) == (
        "Haymarket",
        True,
        "Boots",
    )
    received = await copies(town, NORWICH + WYMONDHAM)
    assert received[NORWICH_GROUP].photo is None
    assert received[NORWICH_GROUP].protect_content


async def test_violence_reaches_great_yarmouth_too_and_theft_does_not(
    polling_town: Town,
) -> None:
    town = polling_town
    shopkeeper = await alice(town)

    await shopkeeper.send(town.bot, f"/alert {THEFT}")
    await shopkeeper.next_reply(town.bot)
    await shopkeeper.send(town.bot, f"/alert {VIOLENCE}")
    await shopkeeper.next_reply(town.bot)

    theft, violence = sorted(await the_log(town), key=lambda r: r.id or 0)
    assert violence.category == Category.VIOLENCE
    await copies(town, NORWICH + WYMONDHAM + YARMOUTH)
    assert theft.id is not None
    assert violence.id is not None
    await drained(town, theft.id)
    await drained(town, violence.id)  # chats are served side by side, each at its own pace
    for chat in YARMOUTH:
        assert [c.body.splitlines()[0] for c in copies_in(town, chat)] == [
            "🚨 Violence or abuse to staff – happening now"
        ]
    assert len(copies_in(town, WYMONDHAM_GROUP)) == 2


async def test_a_member_posting_in_the_group_gets_the_bots_copy_there_too(
    polling_town: Town,
) -> None:
    town = polling_town
    shopkeeper = await alice(town)
    town.group.add_member(shopkeeper)
    await shopkeeper.send(town.bot, "/start")
    await shopkeeper.next_reply(town.bot)

    own = await shopkeeper.send_photo(town.group, phone_photo(), caption=THEFT)

    confirmation = await shopkeeper.next_reply(town.bot)
    assert confirmation.body.startswith("Alert sent to")
    group_copy = (await copies(town, [NORWICH_GROUP]))[NORWICH_GROUP]
    assert group_copy.protect_content
    assert without_exif(group_copy.photo)
    # The example schemes replace a member's alert in the group by the copy: after it, in
    # its turn, the member's own message (with the photo's EXIF) is taken down.
    await town.sandbox.wait_for(
        lambda: town.sandbox.refresh(own).deleted or None, message="the member's own stayed"
    )


async def test_a_member_alerting_in_the_group_is_confirmed_privately_with_three_buttons(
    polling_town: Town,
) -> None:
    """The member's own chat gets the buttons; the group sees the bot's copy and no more."""
    town = polling_town
    shopkeeper = await alice(town)
    town.group.add_member(shopkeeper)
    await shopkeeper.send(town.bot, "/start")
    await shopkeeper.next_reply(town.bot)
    in_the_group = len(town.sandbox.chat_messages(town.bot, town.group))

    await shopkeeper.send(town.group, f"/alert {THEFT}")

    confirmation = await shopkeeper.next_reply(town.bot)
    assert confirmation.body.startswith("Alert sent to")
    assert confirmation.button_texts == ["Theft · Change", "Log only", "Stood down / Wrong person"]
    await copies(town, [NORWICH_GROUP])
    from_the_bot = [m for m in town.sandbox.chat_messages(town.bot, town.group) if m.from_bot]
    assert len(town.sandbox.chat_messages(town.bot, town.group)) == in_the_group + 2
    assert all(m.button_texts == [] for m in from_the_bot), "no member buttons in the group"


async def test_someone_the_bot_may_not_write_to_first_is_told_in_the_group_how_to_get_buttons(
    polling_town: Town,
) -> None:
    """Carol comes from the schemes file and has never written to the bot, so Telegram
    lets it write to her only once she has: the group gets one line, and once she has
    started the private chat her next alert is confirmed there."""
    town = polling_town
    carol = town.coordinator
    town.group.add_member(carol)

    await carol.send(town.group, f"/alert {THEFT}")

    line = await said_in(town, town.group, "Report #")
    report = (await the_log(town))[0]
    assert re.fullmatch(
        rf"Report #{report.id} sent\. {re.escape(carol.name)}, start a private chat with me "
        r"\(t\.me/\w+\) to correct your alerts or add to them\.",
        line.body,
    )
    assert line.button_texts == []
    assert not [m for m in town.sandbox.chat_messages(town.bot, carol) if m.from_bot]

    await carol.send(town.bot, "/start")
    await carol.next_reply(town.bot)
    await carol.send(town.group, f"/alert {LOITERING}")

    confirmation = await carol.next_reply(town.bot)
    assert confirmation.body.startswith("Alert sent to")
    assert "Log only" in confirmation.button_texts
    said = [m.body for m in town.sandbox.chat_messages(town.bot, town.group) if m.from_bot]
    assert sum(body.startswith("Report #") for body in said) == 1, "the line is said once"


# --- who may not send one, and what is not an alert -----------------------------------------


async def test_strangers_pending_members_and_police_cannot_send_alerts(
    polling_town: Town,
) -> None:
    town = polling_town
    stranger = town.person(900_101, "Sam")
    pending = await enrol(town, 900_102, "Penny", status=MemberStatus.PENDING)
    police = await enrol(town, 900_103, "PC Plod", role=Role.POLICE, shop=None, street=None)

    for person, refusal in (
        (stranger, refusal_texts.refusal(Refusal.NOT_MEMBER)),
        (pending, refusal_texts.refusal(Refusal.PENDING)),
        (police, refusal_texts.refusal(Refusal.WRONG_ROLE)),
    ):
        await person.send_photo(town.bot, phone_photo(), caption=THEFT)
        assert (await person.next_reply(town.bot)).body == refusal
        await person.send(town.bot, f"/alert {THEFT}")
        assert (await person.next_reply(town.bot)).body == refusal

    assert await the_log(town) == []
    assert all(copies_in(town, chat) == [] for chat in NORWICH + WYMONDHAM)
    refused = [
        e for e in await town.runtime.store.audit.recent() if e.outcome == AuditOutcome.REFUSED
    ]
    assert {e.actor_telegram_id for e in refused} >= {stranger.id, pending.id, police.id}


async def test_empty_overlong_and_fake_photo_alerts_are_answered_and_change_nothing(
    polling_town: Town,
) -> None:
    town = polling_town
    shopkeeper = await alice(town)
    photo = phone_photo()
    truncated = photo[: photo.find(b"\xff\xda") + 20]  # a JPEG's header, no picture behind it

    await shopkeeper.send(town.bot, "/alert")
    assert (await shopkeeper.next_reply(town.bot)).body == alert_texts.ALERT_EMPTY_COMMAND
    await shopkeeper.send(town.bot, "/alert " + "very long description " * 200)
    assert (await shopkeeper.next_reply(town.bot)).body == alert_texts.alert_too_long(4000)
    await shopkeeper.send_photo(town.bot, phone_photo())
    assert (await shopkeeper.next_reply(town.bot)).body == intake_texts.photo_question(1)
    await shopkeeper.send_photo(town.bot, truncated, caption=THEFT)
    refused = await shopkeeper.next_reply(town.bot)

    assert refused.body.startswith("Sorry, that photo cannot be used")
    assert "Nothing was stored or sent" in refused.body
    assert await the_log(town) == []
    assert all(copies_in(town, chat) == [] for chat in NORWICH + WYMONDHAM)


# --- the control room's buttons -----------------------------------------------------------


async def test_a_forged_or_unauthorised_press_is_refused_audited_and_changes_nothing(
    polling_town: Town,
) -> None:
    town = polling_town
    shopkeeper = await alice(town)
    operator = await dave_in_the_control_room(town)
    town.control_room.add_member(shopkeeper)  # a member who can see the control room
    await shopkeeper.send(town.bot, f"/alert {THEFT}")
    await shopkeeper.next_reply(town.bot)
    control = (await copies(town, [NORWICH_CONTROL_ROOM]))[NORWICH_CONTROL_ROOM]
    report = (await the_log(town))[0]
    real = control.buttons[0][1].callback_data
    assert isinstance(real, str)

    forged = f"aop:{report.id}:lost:{'0' * 12}"
    answer = await town.press_forged(operator, forged, on=control)
    assert answer == refusal_texts.refusal(Refusal.FORGED)
    tampered = real.replace("on_camera", "lost")
    assert await town.press_forged(operator, tampered, on=control) == refusal_texts.refusal(
        Refusal.FORGED
    )
    by_a_member = await shopkeeper.press(control, "On camera")
    assert by_a_member == refusal_texts.refusal(Refusal.WRONG_ROLE)

    assert report.id is not None
    assert await town.runtime.store.reports.events(report.id) == []
    assert town.sandbox.refresh(control).body == control.body
    audit = await town.runtime.store.audit.recent()
    refusals = [
        (e.actor_telegram_id, e.detail["reason"]) for e in audit if e.action == "alert_status"
    ]
    assert sorted(refusals) == sorted(
        [(operator.id, "forged"), (operator.id, "forged"), (shopkeeper.id, "wrong_role")]
    )


# --- the member adds, corrects and takes back -------------------------------------------------


async def test_the_members_reply_reaches_every_copy(polling_town: Town) -> None:
    town = polling_town
    shopkeeper = await alice(town)
    await shopkeeper.send_photo(town.bot, phone_photo(), caption=THEFT)
    confirmation = await shopkeeper.next_reply(town.bot)
    await copies(town, NORWICH + WYMONDHAM)

    await shopkeeper.send(town.bot, "left towards Market St", reply_to=confirmation)

    said = await shopkeeper.next_reply(town.bot)
    assert said.body.startswith("Update added to report #")
    updated = await every_copy_says(town, NORWICH + WYMONDHAM, ": left towards Market St")
    assert all(
        re.search(r"Update \d\d:\d\d: left towards Market St", c.body) for c in updated.values()
    )


async def test_a_reply_to_the_members_own_alert_is_an_update_too(polling_town: Town) -> None:
    town = polling_town
    shopkeeper = await alice(town)
    own = await shopkeeper.send(town.bot, f"/alert {THEFT}")
    await shopkeeper.next_reply(town.bot)
    await copies(town, NORWICH + WYMONDHAM)

    await shopkeeper.send(town.bot, "now in the Castle Quarter", reply_to=own)

    assert (await shopkeeper.next_reply(town.bot)).body.startswith("Update added")
    await every_copy_says(town, NORWICH + WYMONDHAM, "now in the Castle Quarter")


async def test_a_location_sent_after_the_alert_puts_a_map_on_every_copy(
    polling_town: Town,
) -> None:
    town = polling_town
    shopkeeper = await alice(town)
    await shopkeeper.send(town.bot, f"/alert {THEFT}")
    await shopkeeper.next_reply(town.bot)

    await shopkeeper.send_location(town.bot, 52.62834, 1.29237)

    assert (await shopkeeper.next_reply(town.bot)).body.startswith("Location added to report #")
    await every_copy_says(
        town,
        NORWICH + WYMONDHAM,
        "Boots, Haymarket – map https://maps.google.com/?q=52.62834,1.29237",
    )
    report = (await the_log(town))[0]
    assert (report.latitude, report.longitude) == (52.62834, 1.29237)


async def test_a_new_category_reroutes_the_copies_and_log_only_stands_them_down(
    polling_town: Town,
) -> None:
    town = polling_town
    shopkeeper = await alice(town)
    await shopkeeper.send(town.bot, f"/alert {LOITERING}")
    confirmation = await shopkeeper.next_reply(town.bot)
    assert "Suspicious · Change" in confirmation.button_texts
    received = await copies(town, NORWICH)
    assert copies_in(town, WYMONDHAM_GROUP) == [], "Norwich does not pass on suspicions"

    await shopkeeper.press(confirmation, "Suspicious · Change")
    confirmation = town.sandbox.refresh(confirmation)
    assert "✓ Suspicious" in confirmation.button_texts
    answer = await shopkeeper.press(confirmation, "Violence")

    assert answer == alert_texts.alert_changed("Violence or abuse to staff")
    received |= await copies(town, WYMONDHAM + YARMOUTH)
    await every_copy_says(town, NORWICH + WYMONDHAM + YARMOUTH, "Violence or abuse to staff")
    confirmation = town.sandbox.refresh(confirmation)
    assert "Violence · Change" in confirmation.button_texts

    await shopkeeper.press(confirmation, "Log only")

    report = (await the_log(town))[0]
    logged = alert_texts.alert_not_for_this_chat(report.id or 0, "Norwich ShopWatch", logged=True)

    def all_stood_down() -> bool:
        now = [town.sandbox.refresh(copy) for copy in received.values()]
        return all(copy.body == logged and not copy.deleted for copy in now)

    await town.sandbox.wait_for(all_stood_down, message="every copy saying it is log only")
    assert all(town.sandbox.refresh(copy).button_texts == [] for copy in received.values())
    assert (report.category, report.urgency) == (Category.VIOLENCE, Urgency.LOG)
    assert town.sandbox.refresh(confirmation).body == alert_texts.alert_logged(report.id or 0)


async def test_wrong_person_withdraws_the_alert_on_every_copy(polling_town: Town) -> None:
    town = polling_town
    shopkeeper = await alice(town)
    operator = await dave_in_the_control_room(town)
    await shopkeeper.send_photo(town.bot, phone_photo(), caption=THEFT)
    confirmation = await shopkeeper.next_reply(town.bot)
    await copies(town, NORWICH + WYMONDHAM)

    await shopkeeper.press(confirmation, alert_texts.BUTTON_ENDING)
    await shopkeeper.press(town.sandbox.refresh(confirmation), "Wrong person")

    withdrawn = await every_copy_says(town, NORWICH + WYMONDHAM, "WITHDRAWN: Theft")
    for copy in withdrawn.values():
        assert "grey hoodie" not in copy.body, "the description leaves every copy"
        assert copy.button_texts == []
    report = (await the_log(town))[0]
    assert report.status == ReportStatus.WITHDRAWN
    assert town.sandbox.refresh(confirmation).button_texts == []
    late = await town.press_forged(
        operator,
        town.runtime.services.signer.sign("aop", report.id or 0, "lost"),
        on=withdrawn[NORWICH_CONTROL_ROOM],
    )
    assert late == alert_texts.ALERT_NO_MORE_CHANGES


async def test_stood_down_is_shown_on_every_copy(polling_town: Town) -> None:
    town = polling_town
    shopkeeper = await alice(town)
    await shopkeeper.send(town.bot, f"/alert {THEFT}")
    confirmation = await shopkeeper.next_reply(town.bot)
    await copies(town, NORWICH + WYMONDHAM)

    await shopkeeper.press(confirmation, alert_texts.BUTTON_ENDING)
    await shopkeeper.press(town.sandbox.refresh(confirmation), "Stood down")

    updated = await every_copy_says(town, NORWICH + WYMONDHAM, "Status: Stood down (Alice, ")
    assert all(c.body.startswith("Theft – stood down") for c in updated.values())
    report = (await the_log(town))[0]
    assert report.status == ReportStatus.CLOSED
    assert report.id is not None
    kinds = [(e.kind, e.status) for e in await town.runtime.store.reports.events(report.id)]
    assert kinds == [(EventKind.STATUS, "stood_down")]


async def test_only_the_member_who_sent_it_can_change_an_alert(polling_town: Town) -> None:
    town = polling_town
    shopkeeper = await alice(town)
    bob = await enrol(town, 5_000_000_103, "Bob", shop="Jarrold", street="London Street")
    for person in (shopkeeper, bob):
        town.group.add_member(person)
    await shopkeeper.send(town.group, f"/alert {THEFT}")
    group_copy = (await copies(town, [NORWICH_GROUP]))[NORWICH_GROUP]
    report_id = (await the_log(town))[0].id or 0
    wrong_person = town.runtime.services.signer.sign("awrong", report_id)

    assert await town.press_forged(bob, wrong_person, on=group_copy) == refusal_texts.refusal(
        Refusal.NOT_YOURS
    )
    await drained(town, report_id)  # the copy is in the log as sent, and Alice's message gone
    await bob.send(town.group, "seen him too", reply_to=group_copy)
    await shopkeeper.send(town.group, "gone into Primark", reply_to=group_copy)
    await said_in(town, town.group, "Update added to report #")
    await said_in(town, town.group, "Noted on report #")

    report = (await the_log(town))[0]
    assert report.id is not None
    events = await town.runtime.store.reports.events(report.id)
    assert sorted((e.kind, e.text) for e in events) == [
        (EventKind.NOTE, "seen him too"),  # Bob's words are a note: they change nothing
        (EventKind.UPDATE, "gone into Primark"),
    ]
    assert report.status == ReportStatus.OPEN


# --- protected, and gone after the chat TTL -----------------------------------------------------


async def test_copies_are_deleted_after_the_schemes_chat_ttl(polling_town: Town) -> None:
    town = polling_town
    shopkeeper = await alice(town)
    await shopkeeper.send_photo(town.bot, phone_photo(), caption=THEFT)
    await shopkeeper.next_reply(town.bot)
    received = await copies(town, NORWICH + WYMONDHAM)
    report = (await the_log(town))[0]
    assert report.id is not None

    async def removal_scheduled() -> bool:
        rows = await town.runtime.store.outbox.for_report(report.id or 0, kind=OutboxKind.DELETE)
        return len(rows) == 4

    scheduled: bool = await town.sandbox.wait_for(removal_scheduled, message="TTL deletes queued")
    assert scheduled
    assert not any(town.sandbox.refresh(c).deleted for c in received.values())

    town.sandbox.advance_time(37 * 3600)
    await town.runtime.outbox.run_once(now=utcnow() + timedelta(hours=37))

    assert all(town.sandbox.refresh(copy).deleted for copy in received.values())


async def vodka_alert_before_dave(town: Town) -> tuple[Person, dict[int, MessageView]]:
    """Alice's text alert has reached Norwich and Wymondham; Dave is at the control room."""
    shopkeeper = await alice(town)
    operator = await dave_in_the_control_room(town)
    await shopkeeper.send(town.bot, "/alert Male took two bottles of vodka, walked up Timberhill")
    return operator, await copies(town, NORWICH + WYMONDHAM)


async def test_the_control_room_calls_detained_and_the_report_is_closed_on_every_copy(
    polling_town: Town,
) -> None:
    town = polling_town
    operator, received = await vodka_alert_before_dave(town)

    await operator.press(received[NORWICH_CONTROL_ROOM], "Detained")

    await every_copy_says(town, NORWICH + WYMONDHAM, "Status: Detained (Dave, ")
    answer = await operator.press(town.sandbox.refresh(received[NORWICH_CONTROL_ROOM]), "Closed")
    assert answer == control_room_texts.operator_status_recorded("closed")
    await every_copy_says(town, NORWICH + WYMONDHAM, "Status: Closed (Dave, ")
    report = (await the_log(town))[0]
    assert report.status == ReportStatus.CLOSED
    calls = [e.status for e in await town.runtime.store.reports.events(report.id or 0)]
    assert calls[-2:] == ["detained", "closed"]


async def test_police_informed_then_the_operators_reference_reaches_every_copy_and_the_log(
    polling_town: Town,
) -> None:
    town = polling_town
    operator, received = await vodka_alert_before_dave(town)

    answer = await operator.press(received[NORWICH_CONTROL_ROOM], "Police informed")
    assert answer == control_room_texts.operator_status_recorded("police_informed")
    assert "Reply to the alert with “ref”" in answer
    await every_copy_says(town, NORWICH + WYMONDHAM, "Status: Police informed (Dave, ")

    await operator.send(
        town.control_room, "officers on the way", reply_to=received[NORWICH_CONTROL_ROOM]
    )
    given = await operator.send(
        town.control_room, "Ref: 36/12345/26", reply_to=received[NORWICH_CONTROL_ROOM]
    )

    said = await said_in(town, town.control_room, "Police ref 36/12345/26 added to report #")
    assert said.reply_to_message_id == given.message_id
    await every_copy_says(town, NORWICH + WYMONDHAM, "Police ref: 36/12345/26")
    report = (await the_log(town))[0]
    assert report.police_reference == "36/12345/26"
    notes = [(e.status, e.text) for e in await town.runtime.store.reports.events(report.id or 0)]
    assert ("police_reference", "36/12345/26") in notes
    assert ("police_reference", "officers on the way") not in notes, "chat is not a ref"
    assert (None, "officers on the way") in notes, "it is the operator's note"


async def test_a_labelled_reference_is_stored_without_its_words(polling_town: Town) -> None:
    town = polling_town
    operator, received = await vodka_alert_before_dave(town)
    await drained(town, (await the_log(town))[0].id or 0)

    await operator.send(
        town.control_room, "police ref is NC 0212 2026", reply_to=received[NORWICH_CONTROL_ROOM]
    )

    await said_in(town, town.control_room, "Police ref NC 0212 2026 added to report #")
    await every_copy_says(town, NORWICH + WYMONDHAM, "Police ref: NC 0212 2026")
    assert (await the_log(town))[0].police_reference == "NC 0212 2026"


async def test_a_bare_crime_number_after_police_informed_is_the_reference(
    polling_town: Town,
) -> None:
    town = polling_town
    operator, received = await vodka_alert_before_dave(town)
    await drained(town, (await the_log(town))[0].id or 0)
    await operator.send(town.control_room, "36/99999/26", reply_to=received[NORWICH_CONTROL_ROOM])
    await operator.press(received[NORWICH_CONTROL_ROOM], "Police informed")
    await every_copy_says(town, NORWICH + WYMONDHAM, "Status: Police informed (Dave, ")

    given = await operator.send(
        town.control_room, "36/12345/26", reply_to=received[NORWICH_CONTROL_ROOM]
    )

    said = await said_in(town, town.control_room, "Police ref 36/12345/26 added to report #")
    assert said.reply_to_message_id == given.message_id
    await every_copy_says(town, NORWICH + WYMONDHAM, "Police ref: 36/12345/26")
    report = (await the_log(town))[0]
    assert report.police_reference == "36/12345/26"
    notes = [(e.status, e.text) for e in await town.runtime.store.reports.events(report.id or 0)]
    assert ("police_reference", "36/99999/26") not in notes, "not a ref before Police informed"


async def test_a_member_cannot_set_the_police_reference(polling_town: Town) -> None:
    town = polling_town
    shopkeeper = await alice(town)
    bob = await enrol(town, 5_000_000_103, "Bob")
    town.group.add_member(bob)
    own = await shopkeeper.send(town.bot, f"/alert {THEFT}")
    received = await copies(town, NORWICH + WYMONDHAM)

    await bob.send(town.group, "ref 99/99999/26", reply_to=received[NORWICH_GROUP])
    await shopkeeper.send(town.bot, "ref 11/11111/26 from PC Smith", reply_to=own)

    await every_copy_says(town, NORWICH + WYMONDHAM, "ref 11/11111/26 from PC Smith")
    report = (await the_log(town))[0]
    assert report.police_reference is None, "only the control room gives the police's reference"


async def test_an_eleventh_alert_in_a_minute_is_refused_and_nothing_is_stored(
    polling_town: Town,
) -> None:
    town = polling_town
    shopkeeper = await alice(town)
    for number in range(10):
        await shopkeeper.send(
            town.bot, f"/alert Male in a red cap at the tills, sighting {number}"
        )
        assert (await shopkeeper.next_reply(town.bot)).body.startswith("Alert sent")

    await shopkeeper.send(town.bot, "/alert Male in a red cap at the tills, sighting 10")

    refusal = await shopkeeper.next_reply(town.bot)
    assert refusal.body == alert_texts.TOO_MANY_ALERTS
    assert len(await the_log(town)) == 10


async def test_a_member_pressing_again_and_again_is_stopped_and_nothing_more_is_sent(
    polling_town: Town,
) -> None:
    """Log only, Happening now, over and over: past twenty changes in a minute Alice is
    told to wait, and neither the log nor any chat gets anything more from her presses."""
    town = polling_town
    shopkeeper = await alice(town)
    await shopkeeper.send(town.bot, f"/alert {THEFT}")
    confirmation = await shopkeeper.next_reply(town.bot)
    await copies(town, NORWICH)

    async def press_when_shown(button: str) -> str | None:
        def offered() -> MessageView | None:
            card = town.sandbox.refresh(confirmation)
            return card if button in card.button_texts else None

        card = await town.sandbox.wait_for(offered, message=f"{button!r} offered")
        return await shopkeeper.press(card, button)

    answers = [
        await press_when_shown("Log only" if press % 2 == 0 else "Happening now")
        for press in range(20)
    ]
    answers += [await press_when_shown("Log only") for _ in range(4)]

    assert alert_texts.too_many_changes(20) not in answers[:20]
    assert answers[20:] == [alert_texts.too_many_changes(20)] * 4
    [report] = await the_log(town)
    assert report.id is not None
    await drained(town, report.id)
    events = await town.runtime.store.reports.events(report.id)
    assert len(events) == 20, "only the changes within the limit are stored"
    rows = len(await town.runtime.store.outbox.for_report(report.id))

    answer = await press_when_shown("Log only")
    await shopkeeper.send(town.bot, "He is back, by the tills", reply_to=confirmation)

    assert answer == alert_texts.too_many_changes(20)
    assert (await shopkeeper.next_reply(town.bot)).body == alert_texts.too_many_changes(20)
    assert len(await town.runtime.store.reports.events(report.id)) == 20
    assert len(await town.runtime.store.outbox.for_report(report.id)) == rows


async def test_add_update_asks_for_the_update_and_the_answer_goes_on_every_copy(
    polling_town: Town,
) -> None:
    town = polling_town
    shopkeeper = await alice(town)
    await shopkeeper.send(town.bot, f"/alert {THEFT}")
    confirmation = await shopkeeper.next_reply(town.bot)
    await copies(town, NORWICH + WYMONDHAM)

    await shopkeeper.press(confirmation, alert_texts.category_to_change("theft"))
    await shopkeeper.press(town.sandbox.refresh(confirmation), alert_texts.BUTTON_ADD_UPDATE)
    report_id = (await the_log(town))[0].id or 0
    question = await shopkeeper.next_reply(town.bot)
    assert question.body == alert_texts.ask_for_update(report_id)
    await shopkeeper.send(town.bot, "gone into Primark", reply_to=question)

    answer = await shopkeeper.next_reply(town.bot)
    assert answer.body == alert_texts.alert_update_added(report_id)
    await every_copy_says(town, NORWICH + WYMONDHAM, "gone into Primark")
    events = await town.runtime.store.reports.events(report_id)
    assert [(e.kind, e.text) for e in events] == [(EventKind.UPDATE, "gone into Primark")]
