"""Only vetted members see and send alerts: invites, joining, approval, managing, strangers.

Stories run through the sandbox against the real bot, turn by turn; the storage
the stories rely on is checked on both databases in `TestMembershipStorage`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from broadcast.membership import card_prefix
from broadcast.texts import chats as chat_texts
from broadcast.texts import common as common_texts
from broadcast.texts import membership as membership_texts
from broadcast.texts import refusals as refusal_texts
from config.errors import DuplicateError, NotFoundError, Refusal
from config.vocabulary import AuditOutcome, MemberStatus, Role
from sandbox import MessageView, Person
from storage.members import Applicant
from storage.models import AuditEntry, Member
from storage.outbox import Delivery
from storage.outbox_payloads import MessagePayload
from storage.store import Store
from tests.town import Town

NORWICH_AGREEMENT_START = "I will use ShopWatch alerts only to protect my business"


def now() -> datetime:
    return datetime.now(UTC)


async def audit_of(town: Town, person: Person) -> list[AuditEntry]:
    """What the audit trail holds about what `person` did, oldest first."""
    return list(reversed(await town.runtime.store.audit.recent(200, actor=person.id)))


async def member_row(town: Town, person: Person, scheme: str = "norwich") -> Member | None:
    row = await town.runtime.store.schemes.get_by_slug(scheme)
    assert row.id is not None
    return await town.runtime.store.members.get(row.id, person.id)


def button_data(message: MessageView, label: str) -> str:
    """The callback data behind a button, as a modified client could read and resend it."""
    for row in message.buttons:
        for button in row:
            if button.text == label:
                return str(button.callback_data)
    raise AssertionError(f"no button {label!r}")


async def once_decided(town: Town, card: MessageView) -> MessageView:
    """The card once the outbox has edited the decision into it (its buttons gone)."""

    def probe() -> MessageView | None:
        now_card = town.sandbox.refresh(card)
        return now_card if not now_card.button_texts else None

    return await town.sandbox.wait_for(probe, message="the card was never closed")


# --- joining ---------------------------------------------------------------------------


async def test_a_shop_joins_with_an_invite_and_the_coordinator_approves_it(town: Town) -> None:
    carol = town.coordinator
    priya = town.person(900100, "Priya")
    await carol.send(town.bot, "/invite")
    invite = await carol.next_reply(town.bot)
    assert "Invite link for a new member shop of Norwich ShopWatch" in invite.body
    assert "https://t.me/shopwatch_bot?start=" in invite.body
    code = invite.body.split("?start=")[1].split()[0]

    await priya.send(town.bot, f"/start {code}")
    question = await priya.next_reply(town.bot)
    assert "invited to join Norwich ShopWatch as a member shop" in question.body
    assert "what is your full name?" in question.body
    assert question.button_texts == [membership_texts.BUTTON_CANCEL]
    await priya.send(town.bot, "Priya Shah")
    assert (await priya.next_reply(town.bot)).body == membership_texts.JOIN_ASK_SHOP
    await priya.send(town.bot, "Corner Books")
    assert (await priya.next_reply(town.bot)).body == membership_texts.JOIN_ASK_STREET
    await priya.send(town.bot, "London Street")
    agreement = await priya.next_reply(town.bot)
    assert NORWICH_AGREEMENT_START in agreement.body
    assert agreement.button_texts == [
        membership_texts.BUTTON_AGREE,
        membership_texts.BUTTON_CANCEL,
    ]

    await priya.press(agreement, membership_texts.BUTTON_AGREE)
    sent = await priya.next_reply(town.bot)
    assert "has gone to the coordinator" in sent.body
    assert town.sandbox.refresh(agreement).button_texts == [], "one can agree only once"
    pending = await member_row(town, priya)
    assert pending is not None
    assert pending.status == MemberStatus.PENDING
    assert (pending.display_name, pending.shop_name, pending.street) == (
        "Priya Shah",
        "Corner Books",
        "London Street",
    )
    assert pending.agreement_accepted_at is not None

    card = await carol.next_reply(town.bot)
    assert "Request to join Norwich ShopWatch as a member shop" in card.body
    assert "Name: Priya Shah" in card.body
    assert "Shop: Corner Books, London Street" in card.body
    assert f"id {priya.id}" in card.body
    assert card.button_texts == [membership_texts.BUTTON_APPROVE, membership_texts.BUTTON_REJECT]

    assert await carol.press(card, membership_texts.BUTTON_APPROVE) == "Priya Shah is approved."
    welcome = await priya.next_reply(town.bot)
    assert welcome.body.startswith("You are approved: welcome to Norwich ShopWatch")
    assert "How to send an alert" in welcome.body
    assert set(await town.join_links(priya, after=welcome.message_id)) == {"the group"}
    priya.skip_replies(town.bot)
    closed = await once_decided(town, card)
    assert "Approved by Carol" in closed.body

    active = await member_row(town, priya)
    assert active is not None
    assert active.status == MemberStatus.ACTIVE
    assert active.approved_by == carol.id
    await priya.send(town.bot, "/whoami")
    assert (
        "Norwich ShopWatch: member shop, active (Corner Books)"
        in (await priya.next_reply(town.bot)).body
    )
    carols = [(e.action, e.outcome) for e in await audit_of(town, carol)]
    assert ("invite", AuditOutcome.ALLOWED) in carols
    assert ("member_approve", AuditOutcome.ALLOWED) in carols
    priyas = [(e.action, e.outcome) for e in await audit_of(town, priya)]
    assert ("join_request", AuditOutcome.ALLOWED) in priyas


async def test_the_join_helper_makes_an_active_member_in_one_line(polling_town: Town) -> None:
    town = polling_town
    omar = town.sandbox.user(900101, "Omar", username="omar_cctv")

    member = await town.join(omar, role=Role.OPERATOR)

    assert (member.role, member.status) == (Role.OPERATOR, MemberStatus.ACTIVE)
    await omar.send(town.bot, "/whoami")
    reply = await omar.next_reply(town.bot)
    assert "Norwich ShopWatch: CCTV control-room operator, active" in reply.body


async def test_a_person_can_join_a_second_scheme(polling_town: Town) -> None:
    town = polling_town
    priya = town.person(900102, "Priya")
    await town.join(priya)
    wendy = town.coordinator_of("wymondham")

    await town.join(priya, scheme="wymondham", by=wendy)

    await priya.send(town.bot, "/whoami")
    reply = (await priya.next_reply(town.bot)).body
    assert "Norwich ShopWatch: member shop, active" in reply
    assert "Wymondham Business Watch: member shop, active" in reply


async def test_every_coordinator_sees_the_card_and_a_rejection_closes_every_copy(
    polling_town: Town,
) -> None:
    town = polling_town
    carol = town.coordinator
    dave = town.person(900110, "Dave")
    await town.join(dave, role=Role.COORDINATOR)
    sam = town.person(900111, "Sam")

    code = await town.invite()
    answer = await town.apply(sam, code, shop="Sam's Vapes")
    assert "has gone to the coordinator" in answer.body
    carols_card = await town.approval_card(sam, carol)
    daves_card = await town.approval_card(sam, dave)
    assert "Shop: Sam's Vapes, London Street" in daves_card.body

    assert (
        await carol.press(carols_card, membership_texts.BUTTON_REJECT)
        == "Sam's request is rejected."
    )

    told = await sam.next_reply(town.bot)
    assert told.body.startswith("Your request to join Norwich ShopWatch was not approved")
    for card in (carols_card, daves_card):
        closed = await once_decided(town, card)
        assert "Rejected by Carol" in closed.body
    rejected = await member_row(town, sam)
    assert rejected is not None
    assert rejected.status == MemberStatus.REMOVED
    await sam.send(town.bot, "/members")
    assert (await sam.next_reply(town.bot)).body == refusal_texts.refusal(Refusal.REMOVED)


async def test_a_pending_member_is_told_to_wait_for_approval(polling_town: Town) -> None:
    town = polling_town
    nina = town.person(900120, "Nina")
    await town.apply(nina, await town.invite())
    nina.skip_replies(town.bot)

    await nina.send(town.bot, "/members")

    assert (await nina.next_reply(town.bot)).body == refusal_texts.refusal(Refusal.PENDING)
    await nina.send(town.bot, "/whoami")
    assert "member shop, waiting for approval" in (await nina.next_reply(town.bot)).body
    refused = [e for e in await audit_of(town, nina) if e.outcome == AuditOutcome.REFUSED]
    assert [(e.action, e.detail["reason"]) for e in refused] == [("members", "pending")]


# --- invite codes that do not work -----------------------------------------------------


async def test_unknown_expired_used_and_malformed_codes_are_refused(polling_town: Town) -> None:
    town = polling_town
    store = town.runtime.store
    norwich = await store.schemes.get_by_slug("norwich")
    assert norwich.id is not None
    await store.invites.create(
        norwich.id, "expired-code-0001", Role.MEMBER, town.coordinator.id, now() - timedelta(1)
    )
    used = await town.invite()
    await town.join(town.person(900130, "First"), shop="First Shop")
    del used  # the helper used a code of its own; use one the same way:
    used = await town.invite()
    await town.apply(town.person(900131, "Second"), used)
    eve = town.person(900132, "Eve")

    for code in ("NoSuchCode1234567890", "expired-code-0001", used, "ab$cd"):
        await eve.send(town.bot, f"/start {code}")
        assert (await eve.next_reply(town.bot)).body == membership_texts.INVITE_UNUSABLE, code

    assert await member_row(town, eve) is None
    refusals = [e.detail["reason"] for e in await audit_of(town, eve)]
    assert refusals == ["invite_unusable"] * 4
    await eve.send(town.bot, "/start")
    assert (
        "ask your scheme coordinator for an invite link" in (await eve.next_reply(town.bot)).body
    )


async def test_a_member_who_opens_another_invite_is_told_they_belong_already(
    polling_town: Town,
) -> None:
    town = polling_town
    priya = town.person(900135, "Priya")
    await town.join(priya)
    code = await town.invite()

    await priya.send(town.bot, f"/start {code}")

    reply = await priya.next_reply(town.bot)
    assert reply.body == membership_texts.already_member("Norwich ShopWatch", "active")
    assert await town.runtime.store.invites.find_usable(code, now()) is not None


async def test_cancelling_half_way_keeps_the_link_usable(polling_town: Town) -> None:
    town = polling_town
    tom = town.person(900140, "Tom")
    code = await town.invite()
    await tom.send(town.bot, f"/start {code}")
    question = await tom.next_reply(town.bot)
    await tom.send(town.bot, "Tom Baker")
    await tom.next_reply(town.bot)

    await tom.send(town.bot, f"/start {code}")
    assert (await tom.next_reply(town.bot)).body == membership_texts.JOIN_ALREADY_JOINING
    await tom.press(question, membership_texts.BUTTON_CANCEL)
    cancelled = await tom.next_reply(town.bot)
    assert cancelled.body.startswith("Joining cancelled; nothing was saved.")
    assert "still works until" in cancelled.body
    assert await member_row(town, tom) is None

    answer = await town.apply(tom, code, shop="Baker's")
    assert "has gone to the coordinator" in answer.body
    assert await town.runtime.store.invites.find_usable(code, now()) is None


async def test_of_two_people_on_one_link_only_the_first_to_agree_gets_in(
    polling_town: Town,
) -> None:
    town = polling_town
    anna, ben = town.person(900150, "Anna"), town.person(900151, "Ben")
    code = await town.invite()
    for person in (anna, ben):
        await person.send(town.bot, f"/start {code}")
        for answer in (person.name, "Shop", "Street"):
            await person.next_reply(town.bot)
            await person.send(town.bot, answer)
    anna_agreement = await anna.next_reply(town.bot)
    ben_agreement = await ben.next_reply(town.bot)

    await anna.press(anna_agreement, membership_texts.BUTTON_AGREE)
    await ben.press(ben_agreement, membership_texts.BUTTON_AGREE)

    assert "has gone to the coordinator" in (await anna.next_reply(town.bot)).body
    assert (await ben.next_reply(town.bot)).body == membership_texts.INVITE_USED_MEANWHILE
    assert await member_row(town, ben) is None
    assert [e.detail.get("reason") for e in await audit_of(town, ben)] == ["invite_used_meanwhile"]


async def test_a_button_from_an_earlier_join_changes_nothing(polling_town: Town) -> None:
    town = polling_town
    tom = town.person(900155, "Tom")
    await tom.send(town.bot, f"/start {await town.invite()}")
    earlier = await tom.next_reply(town.bot)
    await tom.send(town.bot, "/cancel")
    await tom.next_reply(town.bot)
    await tom.send(town.bot, f"/start {await town.invite()}")
    await tom.next_reply(town.bot)

    answer = await tom.press(earlier, membership_texts.BUTTON_CANCEL)
    forged = await town.press_forged(tom, "join:agree:1:0123456789ab")

    assert answer == refusal_texts.refusal(Refusal.STALE)
    assert forged == refusal_texts.refusal(Refusal.FORGED)
    await tom.send(town.bot, "Tom Baker")
    assert (await tom.next_reply(town.bot)).body == membership_texts.JOIN_ASK_SHOP, "still joining"
    assert [e.detail["reason"] for e in await audit_of(town, tom)] == ["stale", "forged"]


# --- who may do what -----------------------------------------------------------------


async def test_an_operator_may_not_invite(polling_town: Town) -> None:
    town = polling_town
    omar = town.person(900160, "Omar")
    await town.join(omar, role=Role.OPERATOR)

    await omar.send(town.bot, "/invite")

    assert (await omar.next_reply(town.bot)).body == refusal_texts.refusal(Refusal.WRONG_ROLE)
    refused = [e for e in await audit_of(town, omar) if e.action == "invite"]
    assert [(e.outcome, e.detail["reason"]) for e in refused] == [
        (AuditOutcome.REFUSED, "wrong_role")
    ]


async def test_invites_and_the_member_list_stay_out_of_the_group(polling_town: Town) -> None:
    town = polling_town
    await town.coordinator.send(town.group, "/invite")

    reply = await town.coordinator.next_reply(town.group)

    assert reply.body == common_texts.ONLY_IN_PRIVATE
    assert "start=" not in "".join(town.bot_said(town.group))


async def test_a_forged_approval_from_a_non_coordinator_changes_nothing(
    town: Town,
) -> None:
    mallory = town.person(900170, "Mallory")
    await town.join(mallory)
    sam = town.person(900171, "Sam")
    await town.apply(sam, await town.invite())
    card = await town.approval_card(sam, town.coordinator)
    approve = button_data(card, membership_texts.BUTTON_APPROVE)
    await mallory.send(town.bot, "/whoami")
    await mallory.next_reply(town.bot)

    copied = await town.press_forged(mallory, approve)
    altered = await town.press_forged(mallory, approve[:-1] + ("0" if approve[-1] != "0" else "1"))

    assert copied == refusal_texts.refusal(Refusal.WRONG_ROLE)
    assert altered == refusal_texts.refusal(Refusal.FORGED)
    pending = await member_row(town, sam)
    assert pending is not None
    assert pending.status == MemberStatus.PENDING
    assert town.sandbox.refresh(card).button_texts == [
        membership_texts.BUTTON_APPROVE,
        membership_texts.BUTTON_REJECT,
    ]
    refused = [e for e in await audit_of(town, mallory) if e.outcome == AuditOutcome.REFUSED]
    assert [(e.action, e.detail["reason"]) for e in refused] == [
        ("member_approve", "wrong_role"),
        ("member_button", "forged"),
    ]
    assert refused[0].detail["member_id"] == pending.id


async def test_a_coordinator_of_another_scheme_cannot_approve_here(polling_town: Town) -> None:
    town = polling_town
    wendy = town.coordinator_of("wymondham")
    await wendy.send(town.bot, "/whoami")
    await wendy.next_reply(town.bot)
    sam = town.person(900175, "Sam")
    await town.apply(sam, await town.invite())
    card = await town.approval_card(sam, town.coordinator)

    answer = await town.press_forged(wendy, button_data(card, membership_texts.BUTTON_APPROVE))

    assert answer == refusal_texts.refusal(Refusal.WRONG_SCHEME)
    pending = await member_row(town, sam)
    assert pending is not None
    assert pending.status == MemberStatus.PENDING
    refused = [e for e in await audit_of(town, wendy) if e.outcome == AuditOutcome.REFUSED]
    assert [e.detail["reason"] for e in refused] == ["wrong_scheme"]


async def test_approving_twice_approves_once(polling_town: Town) -> None:
    town = polling_town
    carol = town.coordinator
    sam = town.person(900180, "Sam")
    await town.apply(sam, await town.invite())
    card = await town.approval_card(sam, carol)
    approve = button_data(card, membership_texts.BUTTON_APPROVE)
    await carol.press(card, membership_texts.BUTTON_APPROVE)
    await sam.next_reply(town.bot)
    sam.skip_replies(town.bot)

    replayed = await town.press_forged(carol, approve, on=card)
    rejected_late = await town.press_forged(
        carol, button_data(card, membership_texts.BUTTON_REJECT), on=card
    )

    assert replayed == "Nothing changed: Sam is active already."
    assert rejected_late == "Nothing changed: Sam is active already."
    member = await member_row(town, sam)
    assert member is not None
    assert member.status == MemberStatus.ACTIVE
    welcomes = [b for b in town.bot_said(sam) if b.startswith("You are approved")]
    assert len(welcomes) == 1
    decisions = [
        (e.action, e.outcome)
        for e in await audit_of(town, carol)
        if e.action.startswith("member_")
    ]
    assert decisions == [
        ("member_approve", AuditOutcome.ALLOWED),
        ("member_approve", AuditOutcome.REFUSED),
        ("member_reject", AuditOutcome.REFUSED),
    ]


async def test_an_administrator_approves_for_any_scheme(polling_town: Town) -> None:
    town = polling_town
    store = town.runtime.store
    kings_lynn = await store.schemes.get_by_slug("kings-lynn")
    assert kings_lynn.id is not None
    ada = town.person(900185, "Ada")
    await store.members.add(
        Member(
            scheme_id=kings_lynn.id,
            telegram_user_id=ada.id,
            display_name="Ada",
            role=Role.ADMIN,
            status=MemberStatus.ACTIVE,
        )
    )
    await ada.send(town.bot, "/whoami")
    await ada.next_reply(town.bot)
    sam = town.person(900186, "Sam")
    await town.apply(sam, await town.invite())
    card = await town.approval_card(sam, town.coordinator)

    answer = await town.press_forged(ada, button_data(card, membership_texts.BUTTON_APPROVE))

    assert answer == "Sam is approved."
    await town.sandbox.wait_for(lambda: "Approved by Ada" in town.sandbox.refresh(card).body)


# --- managing members ----------------------------------------------------------------


async def test_a_suspended_member_is_refused_until_reinstated(polling_town: Town) -> None:
    town = polling_town
    carol = town.coordinator
    priya = town.person(900190, "Priya")
    await town.join(priya, shop="Corner Books")
    town.group.add_member(priya)

    await carol.send(town.bot, "/members")
    overview = await carol.next_reply(town.bot)
    assert overview.body.startswith("Norwich ShopWatch members: 2 active.")
    assert "✅ Priya – Corner Books" in overview.button_texts
    await carol.press(overview, "✅ Priya – Corner Books")
    details = town.sandbox.refresh(overview)
    assert "Priya, member shop of Norwich ShopWatch" in details.body
    assert details.button_texts == [
        membership_texts.BUTTON_SUSPEND,
        membership_texts.BUTTON_REMOVE,
        membership_texts.BUTTON_BACK,
    ]

    answer = await carol.press(details, membership_texts.BUTTON_SUSPEND)
    assert answer == membership_texts.decision_done("suspend", "Priya")
    assert carol.last_answer is not None
    assert carol.last_answer.show_alert
    told = await priya.next_reply(town.bot)
    assert told.body.startswith("Your membership of Norwich ShopWatch has been suspended")
    assert town.sandbox.refresh(details).button_texts == [
        membership_texts.BUTTON_REINSTATE,
        membership_texts.BUTTON_REMOVE,
        membership_texts.BUTTON_BACK,
    ]

    await priya.send(town.bot, "/members")
    assert (await priya.next_reply(town.bot)).body == refusal_texts.refusal(Refusal.SUSPENDED)
    await town.sandbox.wait_for(
        lambda: town.group.people()[priya.id] == "kicked" or None,
        message="she is still in the group",
    )
    refused = [e for e in await audit_of(town, priya) if e.outcome == AuditOutcome.REFUSED]
    assert [e.action for e in refused] == ["members"]

    await carol.press(town.sandbox.refresh(details), membership_texts.BUTTON_REINSTATE)
    back = await priya.next_reply(town.bot)
    assert back.body.startswith("Your membership of Norwich ShopWatch is active again.")
    member = await member_row(town, priya)
    assert member is not None
    assert member.status == MemberStatus.ACTIVE


async def test_a_removed_member_is_refused_and_may_be_invited_back(polling_town: Town) -> None:
    town = polling_town
    carol = town.coordinator
    priya = town.person(900195, "Priya")
    await town.join(priya)
    await carol.send(town.bot, "/members")
    overview = await carol.next_reply(town.bot)
    await carol.press(overview, next(b for b in overview.button_texts if "Priya" in b))

    await carol.press(town.sandbox.refresh(overview), membership_texts.BUTTON_REMOVE)

    assert (await priya.next_reply(town.bot)).body.startswith("You are no longer a member")
    await priya.send(town.bot, "/members")
    assert (await priya.next_reply(town.bot)).body == refusal_texts.refusal(Refusal.REMOVED)
    await carol.press(town.sandbox.refresh(overview), membership_texts.BUTTON_BACK)
    assert "Priya" not in " ".join(town.sandbox.refresh(overview).button_texts)

    member = await town.join(priya, shop="New Shop")
    assert (member.status, member.shop_name) == (MemberStatus.ACTIVE, "New Shop")


async def test_an_invited_coordinator_may_not_revoke_one_from_the_schemes_file(
    polling_town: Town,
) -> None:
    town = polling_town
    carol = town.coordinator
    dave = town.person(900196, "Dave")
    await town.join(dave, role=Role.COORDINATOR)
    await dave.send(town.bot, "/members")
    overview = await dave.next_reply(town.bot)

    await dave.press(
        overview, next(b for b in overview.button_texts if "Carol" in b or "Coordinator" in b)
    )

    assert town.sandbox.refresh(overview).button_texts == [membership_texts.BUTTON_BACK]
    carols = await member_row(town, carol)
    assert carols is not None
    answer = await town.press_forged(
        dave, town.runtime.services.signer.sign("mb", "suspend", carols.id or 0, "v")
    )
    assert answer == refusal_texts.refusal(Refusal.NEEDS_ADMIN)
    own = await member_row(town, dave)
    assert own is not None
    answer = await town.press_forged(
        dave, town.runtime.services.signer.sign("mb", "suspend", own.id or 0, "v")
    )
    assert answer == refusal_texts.refusal(Refusal.OWN_MEMBERSHIP)
    still = await member_row(town, carol)
    assert still is not None
    assert still.status == MemberStatus.ACTIVE


async def test_a_long_member_list_comes_a_page_at_a_time(polling_town: Town) -> None:
    town = polling_town
    store = town.runtime.store
    norwich = await store.schemes.get_by_slug("norwich")
    assert norwich.id is not None
    for number in range(10):
        await store.members.add(
            Member(
                scheme_id=norwich.id,
                telegram_user_id=910000 + number,
                display_name=f"Shopkeeper {number}",
                shop_name=f"Shop {number}",
                status=MemberStatus.ACTIVE,
            )
        )
    carol = town.coordinator

    await carol.send(town.bot, "/members")
    first = await carol.next_reply(town.bot)

    assert "11 active" in first.body
    assert "(page 1 of 2)" in first.body
    assert first.button_texts[-1] == membership_texts.BUTTON_NEXT
    assert len(first.button_texts) == 9
    await carol.press(first, membership_texts.BUTTON_NEXT)
    second = town.sandbox.refresh(first)
    assert "(page 2 of 2)" in second.body
    assert second.button_texts[-1] == membership_texts.BUTTON_PREVIOUS
    assert len(second.button_texts) == 4


async def test_whoami_tells_a_stranger_how_to_join(polling_town: Town) -> None:
    town = polling_town
    sam = town.person(900197, "Sam")

    await sam.send(town.bot, "/whoami")

    reply = (await sam.next_reply(town.bot)).body
    assert reply.startswith("Sam, you are not a member of any scheme yet.")
    assert "invite link" in reply


# --- the group chat --------------------------------------------------------------------


async def test_the_coordinators_hear_of_a_stranger_joining_the_group(town: Town) -> None:
    carol = town.coordinator
    carol.open_chat(town.bot)
    priya = town.person(900200, "Priya")
    await town.join(priya)
    lurker = town.sandbox.user(900201, "Larry", username="larry_l")

    town.group.add_member(priya)
    town.group.add_member(lurker)

    notice = await carol.next_reply(town.bot)
    assert notice.body.startswith(
        "Someone who is not an approved member of Norwich ShopWatch joined Norwich ShopWatch"
    )
    assert f"“Larry” ({chat_texts.SELF_NAMED}; @larry_l), Telegram id 900201" in notice.body
    await carol.send(town.bot, "/whoami")
    assert "Norwich ShopWatch: coordinator" in (await carol.next_reply(town.bot)).body
    assert not any("Priya" in b for b in town.bot_said(carol) if b.startswith("Someone"))
    assert town.bot_said(town.group) == []


async def test_a_stranger_reported_twice_by_telegram_is_reported_once(
    polling_town: Town,
) -> None:
    town = polling_town
    carol = town.coordinator
    carol.open_chat(town.bot)
    lurker = town.person(900205, "Larry")

    town.joins_by_link(town.group, lurker)
    town.group.add_member(lurker)
    notice = await carol.next_reply(town.bot)
    await carol.send(town.bot, "/whoami")
    await carol.next_reply(town.bot)

    assert f"“Larry” ({chat_texts.SELF_NAMED}), Telegram id 900205" in notice.body
    notices = [b for b in town.bot_said(carol) if b.startswith("Someone")]
    assert len(notices) == 1
    joins = [e for e in await audit_of(town, lurker) if e.action == "group_join"]
    assert joins
    assert {e.outcome for e in joins} == {AuditOutcome.REFUSED}


# --- the storage membership relies on, on SQLite and PostgreSQL ----------------------------


def applicant(user_id: int = 5_000_000_101, name: str = "Priya Shah") -> Applicant:
    return Applicant(
        telegram_user_id=user_id,
        display_name=name,
        username="priya",
        shop_name="Corner Books",
        street="London Street",
    )


class TestMembershipStorage:
    async def norwich_invite(
        self, store: Store, code: str, *, role: Role = Role.MEMBER, expires_in: float = 7
    ) -> int:
        norwich = await store.schemes.get_by_slug("norwich")
        assert norwich.id is not None
        invite = await store.invites.create(
            norwich.id, code, role, 700001, now() + timedelta(days=expires_in)
        )
        assert invite.id is not None
        return invite.id

    async def test_an_invite_is_checked_without_being_used_up(self, synced_store: Store) -> None:
        await self.norwich_invite(synced_store, "CHECK-ME-1")
        await self.norwich_invite(synced_store, "OLD-ONE-1", expires_in=-1)

        assert await synced_store.invites.find_usable("CHECK-ME-1", now()) is not None
        assert await synced_store.invites.find_usable("CHECK-ME-1", now()) is not None
        assert await synced_store.invites.find_usable("OLD-ONE-1", now()) is None
        assert await synced_store.invites.find_usable("NEVER-MADE", now()) is None
        later = now() + timedelta(days=8)
        assert await synced_store.invites.find_usable("CHECK-ME-1", later) is None

    async def test_joining_uses_the_invite_and_makes_a_pending_member_at_once(
        self, synced_store: Store
    ) -> None:
        invite_id = await self.norwich_invite(synced_store, "JOIN-ME-1", role=Role.OPERATOR)
        moment = now()

        member = await synced_store.members.join(invite_id, applicant(), moment)

        assert (member.role, member.status) == (Role.OPERATOR, MemberStatus.PENDING)
        assert member.agreement_accepted_at == moment
        assert await synced_store.invites.find_usable("JOIN-ME-1", moment) is None
        with pytest.raises(NotFoundError):
            await synced_store.members.join(invite_id, applicant(5_000_000_102), moment)
        assert await synced_store.members.get(member.scheme_id, 5_000_000_102) is None

    async def test_a_join_that_cannot_be_stored_leaves_the_invite_unused(
        self, synced_store: Store
    ) -> None:
        first = await self.norwich_invite(synced_store, "FIRST-1")
        second = await self.norwich_invite(synced_store, "SECOND-1")
        await synced_store.members.join(first, applicant(), now())

        with pytest.raises(DuplicateError):
            await synced_store.members.join(second, applicant(), now())

        assert await synced_store.invites.find_usable("SECOND-1", now()) is not None

    async def test_a_removed_member_comes_back_in_the_same_row(self, synced_store: Store) -> None:
        first = await self.norwich_invite(synced_store, "FIRST-2")
        again = await self.norwich_invite(synced_store, "AGAIN-2", role=Role.POLICE)
        member = await synced_store.members.join(first, applicant(), now())
        assert member.id is not None
        await synced_store.members.transition(
            member.id, MemberStatus.REMOVED, allowed_from={MemberStatus.PENDING}, by=700001
        )

        back = await synced_store.members.join(again, applicant(name="Priya S."), now())

        assert back.id == member.id
        assert (back.display_name, back.role, back.status) == (
            "Priya S.",
            Role.POLICE,
            MemberStatus.PENDING,
        )
        assert back.approved_by is None

    async def test_a_status_changes_only_from_the_expected_one(self, synced_store: Store) -> None:
        invite_id = await self.norwich_invite(synced_store, "STATUS-1")
        member = await synced_store.members.join(invite_id, applicant(), now())
        assert member.id is not None
        pending = {MemberStatus.PENDING}

        approved, changed = await synced_store.members.transition(
            member.id, MemberStatus.ACTIVE, allowed_from=pending, by=700001
        )
        again, changed_again = await synced_store.members.transition(
            member.id, MemberStatus.ACTIVE, allowed_from=pending, by=700002
        )

        assert changed
        assert (approved.status, approved.approved_by) == (MemberStatus.ACTIVE, 700001)
        assert approved.approved_at is not None
        assert not changed_again
        assert again.approved_by == 700001
        with pytest.raises(NotFoundError):
            await synced_store.members.transition(
                999_999, MemberStatus.ACTIVE, allowed_from=pending, by=700001
            )

    async def test_queued_messages_are_found_by_their_dedupe_prefix(
        self, synced_store: Store
    ) -> None:
        norwich = await synced_store.schemes.get_by_slug("norwich")
        assert norwich.id is not None
        for key in ("card:1:a", "card:1:b", "card:12:a", "card_1:a", "other:1"):
            await synced_store.outbox.enqueue(
                norwich.id,
                Delivery(chat_id=700001, payload=MessagePayload(text=key), dedupe_key=key),
            )

        found = await synced_store.outbox.by_dedupe_prefix("card:1:")

        assert [row.dedupe_key for row in found] == ["card:1:a", "card:1:b"]
        assert [r.dedupe_key for r in await synced_store.outbox.by_dedupe_prefix("card_")] == [
            "card_1:a"
        ]

    async def test_a_scheme_is_read_by_its_id(self, synced_store: Store) -> None:
        norwich = await synced_store.schemes.get_by_slug("norwich")
        assert norwich.id is not None

        assert (await synced_store.schemes.get(norwich.id)).slug == "norwich"
        with pytest.raises(NotFoundError):
            await synced_store.schemes.get(999_999)

    async def test_a_second_request_gets_cards_of_its_own(self, synced_store: Store) -> None:
        first = await self.norwich_invite(synced_store, "CARD-1")
        member = await synced_store.members.join(first, applicant(), now())
        assert member.id is not None
        await synced_store.members.transition(
            member.id, MemberStatus.REMOVED, allowed_from={MemberStatus.PENDING}, by=700001
        )
        again = await self.norwich_invite(synced_store, "CARD-2")

        back = await synced_store.members.join(again, applicant(), now())

        assert card_prefix(back) != card_prefix(member)
        reread = await synced_store.members.get_by_id(member.id)
        assert card_prefix(reread) == card_prefix(back), "the key survives the round trip"
