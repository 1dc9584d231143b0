"""Subjects in the chats, turn by turn through the Bot API sandbox: the control room makes a
subject from an alert's card, a coordinator from `/show`, a withdrawn report is refused; and
`/gallery` shows each member the subjects they may see, one protected card at a time.
"""

from __future__ import annotations

import re
from datetime import timedelta

from broadcast.subjects.notices import NoticeTerms
from broadcast.subjects.service import Actor
from broadcast.texts import refusals
from broadcast.texts import subjects as subject_texts
from config.errors import Refusal
from config.vocabulary import AuditOutcome, MemberStatus, NoticeStage, Role, SubjectKind
from sandbox import MessageView
from storage.models import Member, utcnow
from tests.test_alerts import (
    NORWICH,
    NORWICH_CONTROL_ROOM,
    NORWICH_GROUP,
    OPERATOR_BUTTONS,
    THEFT,
    alice,
    copies,
    dave_in_the_control_room,
    phone_photo,
    the_log,
)
from tests.test_intake import another_photo
from tests.town import Town

NEW_SUBJECT = "New subject"
MADE = re.compile(
    r"Subject #(\d+) \(ID sought\) made from report #(\d+) with its 1 photo\. "
    r"It is in the scheme's galleries now\."
)


async def _creations(town: Town) -> list[tuple[AuditOutcome, dict[str, object]]]:
    scheme = await town.runtime.store.schemes.get_by_slug("norwich")
    assert scheme.id is not None
    entries = await town.runtime.store.audit.of_actions(scheme.id, ["subject.create"])
    return [(e.outcome, dict(e.detail)) for e in entries]


async def test_the_control_room_makes_a_subject_from_a_card_and_a_withdrawn_report_is_refused(
    polling_town: Town,
) -> None:
    town = polling_town
    store = town.runtime.store
    shopkeeper = await alice(town)
    operator = await dave_in_the_control_room(town)
    carol = town.coordinator

    await shopkeeper.send_photo(town.bot, phone_photo(), caption=THEFT)
    await shopkeeper.next_reply(town.bot)
    card = (await copies(town, NORWICH))[NORWICH_CONTROL_ROOM]
    assert card.button_texts[-1] == NEW_SUBJECT

    answer = await operator.press(card, NEW_SUBJECT)

    [report] = await the_log(town)
    made = MADE.fullmatch(answer or "")
    assert made is not None, answer
    assert int(made.group(2)) == report.id
    [subject] = await store.subjects.of_report(report.id or 0)
    assert subject.id == int(made.group(1))
    assert subject.kind is SubjectKind.ID_SOUGHT
    assert subject.description == THEFT, "the report's description of the person"
    [photo] = await store.subjects.photos(subject.id)
    assert photo.sha256 == (await store.reports.photos(report.id or 0))[0].sha256

    again = await operator.press(card, NEW_SUBJECT)

    assert again == f"Report #{report.id} is Subject #{subject.id} already: nothing new was made."
    assert len(await store.subjects.of_report(report.id or 0)) == 1, "nothing doubled"

    # A second alert, which Carol opens with /show before its sender takes it back.
    await shopkeeper.send(town.bot, "/alert Two lads hanging round the perfume, one in red")
    confirmation = await shopkeeper.next_reply(town.bot)
    second = (await the_log(town))[0]
    assert second.id != report.id
    await carol.send(town.bot, f"/show {second.id}")
    shown = await town.sandbox.wait_for(
        lambda: _card_with(town, carol, NEW_SUBJECT), message="Carol's /show card"
    )
    assert shown.body.startswith(f"Report {second.id} · ")
    assert shown.protect_content
    await shopkeeper.send(town.bot, f"/show {second.id}")
    own = await shopkeeper.next_reply(town.bot)
    assert own.body.startswith(f"Report {second.id} · ")
    assert NEW_SUBJECT not in own.button_texts, "a member makes no subjects"

    await shopkeeper.press(confirmation, "Stood down / Wrong person")
    await shopkeeper.press(town.sandbox.refresh(confirmation), "Wrong person")
    refused = await carol.press(shown, NEW_SUBJECT)

    assert refused == (
        f"Report #{second.id} was withdrawn by its sender, so it is nobody's evidence: "
        "no subject can be made from it."
    )
    assert await store.subjects.of_report(second.id or 0) == []
    assert [
        (outcome, detail.get("report_id"), detail.get("reason"))
        for outcome, detail in await _creations(town)
    ] == [
        (AuditOutcome.ALLOWED, report.id, None),
        (AuditOutcome.REFUSED, report.id, "report_has_subject"),
        (AuditOutcome.REFUSED, second.id, "ReportClosedError"),
    ]


def _card_with(town: Town, person: object, button: str) -> MessageView | None:
    for message in reversed(town.sandbox.chat_messages(town.bot, person)):  # type: ignore[arg-type]
        if message.from_bot and button in message.button_texts:
            return message
    return None


async def test_gallery_shows_one_protected_card_at_a_time_per_role_and_goes_with_the_ttl(
    polling_town: Town,
) -> None:
    town = polling_town
    store = town.runtime.store
    shopkeeper = await alice(town)
    operator = await dave_in_the_control_room(town)
    carol = town.coordinator
    wymondham = await store.schemes.get_by_slug("wymondham")
    assert wymondham.id is not None
    await store.members.add(
        Member(
            scheme_id=wymondham.id,
            telegram_user_id=5_000_000_150,
            display_name="Wendy",
            shop_name="Spar",
            street="Market Street",
            role=Role.MEMBER,
            status=MemberStatus.ACTIVE,
        )
    )
    wendy = town.person(5_000_000_150, "Wendy")

    await shopkeeper.send(town.bot, "/gallery")
    assert (await shopkeeper.next_reply(town.bot)).body == (
        "The galleries are empty: no one is sought, known or excluded just now."
    )

    made = []
    # Two different pictures: the same one again so soon would be caught as a double.
    pictures = (phone_photo(), another_photo((30, 160, 60)))
    for count, (caption, picture) in enumerate(
        zip((THEFT, "Female 20s, green coat, took a bottle of gin"), pictures, strict=True), 1
    ):
        await shopkeeper.send_photo(town.bot, picture, caption=caption)
        await shopkeeper.next_reply(town.bot)
        card = (await copies(town, NORWICH, count))[NORWICH_CONTROL_ROOM]
        found = MADE.fullmatch(await operator.press(card, NEW_SUBJECT) or "")
        assert found is not None
        made.append((int(found.group(1)), int(found.group(2))))
    (first, first_report), (newest, newest_report) = made

    await shopkeeper.send(town.bot, "/gallery")

    one = await shopkeeper.next_reply(town.bot)
    assert one.body.splitlines()[0] == f"ID sought · Subject #{newest} (1 of 2)"
    assert "Female 20s, green coat" in one.body
    assert "Reports:" not in one.body, "a member is not shown the log's numbers"
    assert one.photo is not None
    assert one.protect_content
    assert one.button_texts == ["Next ▶"]

    await shopkeeper.press(one, "Next ▶")

    two = await shopkeeper.next_reply(town.bot)
    assert two.body.splitlines()[0] == f"ID sought · Subject #{first} (2 of 2)"
    assert THEFT in two.body
    assert two.protect_content
    assert two.button_texts == ["◀ Previous"]

    await carol.send(town.bot, "/gallery")
    coordinators = await town.sandbox.wait_for(
        lambda: _card_with(town, carol, "Next ▶"), message="Carol's gallery card"
    )
    assert f"Reports: #{newest_report}" in coordinators.body

    await wendy.send(town.bot, "/gallery")
    assert (await wendy.next_reply(town.bot)).body.startswith("The galleries are empty"), (
        "Wymondham's neighbour rule does not share Norwich's galleries"
    )

    scheme = await store.schemes.get_by_slug("norwich")
    assert scheme.id is not None
    views = [
        (e.actor_telegram_id, e.detail["subject_id"], e.detail["how"])
        for e in await store.audit.of_actions(scheme.id, ["subject.view"])
    ]
    assert views == [
        (shopkeeper.id, newest, "chat"),
        (shopkeeper.id, first, "chat"),
        (carol.id, newest, "chat"),
    ]

    town.sandbox.advance_time(37 * 3600)
    await town.runtime.outbox.run_once(now=utcnow() + timedelta(hours=37))

    assert town.sandbox.refresh(one).deleted
    assert town.sandbox.refresh(two).deleted
    assert first_report != newest_report


async def _card_says(town: Town, card: MessageView, words: str) -> MessageView:
    def probe() -> MessageView | None:
        now = town.sandbox.refresh(card)
        return now if words in now.body else None

    return await town.sandbox.wait_for(probe, message=f"the card never said {words!r}")


async def test_a_report_linked_to_an_excluded_subject_says_so_on_the_control_rooms_card(
    polling_town: Town,
) -> None:
    town = polling_town
    services = town.runtime.services
    store = town.runtime.store
    shopkeeper = await alice(town)
    operator = await dave_in_the_control_room(town)
    carol = town.coordinator
    scheme = await store.schemes.get_by_slug("norwich")
    assert scheme.id is not None

    await shopkeeper.send_photo(town.bot, phone_photo(), caption=THEFT)
    await shopkeeper.next_reply(town.bot)
    first = await copies(town, NORWICH)
    made = MADE.fullmatch(await operator.press(first[NORWICH_CONTROL_ROOM], NEW_SUBJECT) or "")
    assert made is not None
    subject_id = int(made.group(1))
    carol_row = await store.members.get(scheme.id, carol.id)
    assert carol_row is not None
    desk = Actor(carol_row)
    await services.subjects.identify(desk, subject_id, name="Dean Smith", basis="PCSO Hale")
    notice = await services.subjects.issue_notice(
        desk, subject_id, NoticeTerms(stage=NoticeStage.EXCLUSION, decided_by="Board")
    )
    until = f"⛔ EXCLUDED until {subject_texts.day(notice.ends_on)} (Subject #{subject_id})"

    excluded = await _card_says(town, first[NORWICH_CONTROL_ROOM], until)
    assert excluded.button_texts == OPERATOR_BUTTONS, "the control room still answers it"
    assert "EXCLUDED" not in town.sandbox.refresh(first[NORWICH_GROUP]).body

    # Seen again: a new alert, which Carol links to the subject from her chat.
    # Seen again later on another camera: a picture of its own, not the first one resent.
    await shopkeeper.send_photo(
        town.bot, another_photo((160, 60, 30)), caption="Same man again, by the tills"
    )
    await shopkeeper.next_reply(town.bot)
    second = await copies(town, NORWICH, 2)
    assert "EXCLUDED" not in second[NORWICH_CONTROL_ROOM].body
    report = (await the_log(town))[0]

    await carol.send(town.bot, f"/link {subject_id} {report.id}")

    assert (await carol.next_reply(town.bot)).body == (
        f"Report #{report.id} is linked to Subject #{subject_id}, with its photos."
    )
    await _card_says(town, second[NORWICH_CONTROL_ROOM], until)
    assert "EXCLUDED" not in town.sandbox.refresh(second[NORWICH_GROUP]).body

    await carol.send(town.bot, f"/link {subject_id} {report.id}")
    assert (await carol.next_reply(town.bot)).body == (
        f"Report #{report.id} was linked to Subject #{subject_id} already: nothing changed."
    )
    await carol.send(town.bot, f"/link {subject_id} 99999")
    assert (await carol.next_reply(town.bot)).body == (
        f"No Subject #{subject_id} or report #99999 in this scheme."
    )
    await carol.send(town.bot, "/link twelve")
    assert (await carol.next_reply(town.bot)).body.startswith("Link a report to a subject:")

    # Made a subject of its own by the control room, then found to be the same person.
    await shopkeeper.send_photo(
        town.bot, another_photo((40, 40, 160)), caption="Male, grey hoodie, by the door"
    )
    await shopkeeper.next_reply(town.bot)
    third = await copies(town, NORWICH, 3)
    other = MADE.fullmatch(await operator.press(third[NORWICH_CONTROL_ROOM], NEW_SUBJECT) or "")
    assert other is not None
    other_id = int(other.group(1))
    await operator.send(town.bot, f"/merge {subject_id} {other_id}")
    assert (await operator.next_reply(town.bot)).body == refusals.refusal(Refusal.WRONG_ROLE)
    assert "EXCLUDED" not in town.sandbox.refresh(third[NORWICH_CONTROL_ROOM]).body
    await carol.send(town.bot, f"/merge {subject_id} {subject_id}")
    assert (await carol.next_reply(town.bot)).body == (
        f"Subject #{subject_id} cannot be merged into itself."
    )

    await carol.send(town.bot, f"/merge {subject_id} {other_id}")

    assert (await carol.next_reply(town.bot)).body == (
        f"Subject #{other_id} is merged into Subject #{subject_id}: its reports, photos, "
        f"answers and notices are Subject #{subject_id}'s now."
    )
    await _card_says(town, third[NORWICH_CONTROL_ROOM], until)
    audited = [
        (e.action, e.outcome, e.actor_telegram_id)
        for e in await store.audit.of_actions(scheme.id, ["subject.link", "subject.merge"])
    ]
    assert audited == [
        ("subject.link", AuditOutcome.ALLOWED, carol.id),
        ("subject.link", AuditOutcome.ALLOWED, carol.id),
        ("subject.link", AuditOutcome.REFUSED, carol.id),
        ("subject.link", AuditOutcome.REFUSED, carol.id),
        ("subject.merge", AuditOutcome.REFUSED, carol.id),
        ("subject.merge", AuditOutcome.ALLOWED, carol.id),
    ]


async def test_a_member_turns_their_monday_digest_off_and_on_from_the_chat(
    polling_town: Town,
) -> None:
    town = polling_town
    store = town.runtime.store
    shopkeeper = await alice(town)
    scheme = await store.schemes.get_by_slug("norwich")
    assert scheme.id is not None

    async def digest_on() -> bool:
        member = await store.members.get(scheme.id or 0, shopkeeper.id)
        assert member is not None
        return member.weekly_digest

    assert await digest_on()
    await shopkeeper.send(town.bot, "/digest off")
    assert (await shopkeeper.next_reply(town.bot)).body == subject_texts.digest_set(False)
    assert not await digest_on()

    await shopkeeper.send(town.bot, "/digest sometimes")
    assert (await shopkeeper.next_reply(town.bot)).body == subject_texts.DIGEST_USAGE
    assert not await digest_on(), "a word it does not know changes nothing"

    await shopkeeper.send(town.bot, "/digest on")
    assert (await shopkeeper.next_reply(town.bot)).body == subject_texts.digest_set(True)
    assert await digest_on()
    entries = await store.audit.of_actions(scheme.id, ["member.digest"])
    assert {e.detail.get("on") for e in entries} == {False, True}
