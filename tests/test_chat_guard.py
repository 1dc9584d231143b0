"""Only active members are in the scheme's chats: the bot admits them, removes them, and any
coordinator can be revoked.

Stories through the sandbox over HTTP, the bot unmodified: people ask to join with the
links the bot sent them, coordinators suspend and reinstate, strangers turn up, the
schemes file changes between two starts.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.cli import main
from broadcast.texts import alerts as alert_texts
from broadcast.texts import chats as chat_texts
from broadcast.texts import membership as membership_texts
from broadcast.texts import refusals as refusal_texts
from config.errors import Refusal
from config.schemes import SchemesFile, parse_schemes
from config.vocabulary import AuditOutcome, MemberStatus, Role
from sandbox import Group, MessageView, Person, SandboxUsageError
from sandbox.formatting import detect_entities
from storage.models import AuditEntry, Member
from tests.sandbox_fixtures import make_jpeg
from tests.town import BOT_TOKEN, EXAMPLE_SCHEMES, Town, running_town

GROUP, CONTROL_ROOM = "the group", "the control room"
ADMINISTRATOR = 700900
THEFT = "Male 30s, grey hoodie, took two bottles of gin, heading to Haymarket"


def schemes_with(**replacements: str) -> SchemesFile:
    text = EXAMPLE_SCHEMES.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    return parse_schemes(text, "schemes.toml")


async def member_row(town: Town, person: Person, scheme: str = "norwich") -> Member | None:
    row = await town.runtime.store.schemes.get_by_slug(scheme)
    assert row.id is not None
    return await town.runtime.store.members.get(row.id, person.id)


async def trail(town: Town, action: str) -> list[AuditEntry]:
    return [e for e in reversed(await town.runtime.store.audit.recent(500)) if e.action == action]


async def notice(town: Town, coordinator: Person, starting: str) -> MessageView:
    """The newest message to `coordinator` that starts so (waits for it)."""

    def probe() -> MessageView | None:
        for message in reversed(town.sandbox.chat_messages(town.bot, coordinator)):
            if message.from_bot and message.body.startswith(starting):
                return message
        return None

    return await town.sandbox.wait_for(probe, message=f"no {starting!r} for {coordinator.name}")


async def confirmation_in(town: Town, member: Person) -> MessageView:
    """The member's confirmation, in their private chat (it has Stood down / Wrong person)."""

    def probe() -> MessageView | None:
        for message in town.sandbox.chat_messages(town.bot, member):
            if message.from_bot and alert_texts.BUTTON_ENDING in message.button_texts:
                return message
        return None

    return await town.sandbox.wait_for(probe, message="no confirmation")


def notices(town: Town, coordinator: Person, starting: str) -> list[str]:
    return [b for b in town.bot_said(coordinator) if b.startswith(starting)]


async def out_of(town: Town, person: Person, *groups: Group, status: str) -> None:
    """Wait until `person` is `status` ("kicked": banned, "left": out) in each of `groups`."""
    for group in groups:

        def now_so(chat: Group = group) -> bool | None:
            return chat.people().get(person.id) == status or None

        await town.sandbox.wait_for(
            now_so, message=f"{person.name} is not {status} in {group.title}"
        )


async def member_in_the_group(
    town: Town, user_id: int, name: str, role: Role = Role.MEMBER
) -> Person:
    """A member approved and let into the group (and the control room, for its people)."""
    person = town.person(user_id, name)
    await town.join(person, role=role)
    links = await town.join_links(person)
    await town.enters(person, town.group, links[GROUP])
    if CONTROL_ROOM in links:
        await town.enters(person, town.control_room, links[CONTROL_ROOM])
    return person


async def members_view(town: Town, coordinator: Person, name: str, slug: str = "") -> MessageView:
    coordinator.skip_replies(town.bot)
    await coordinator.send(town.bot, f"/members {slug}".strip())
    overview = await coordinator.next_reply(town.bot)
    await coordinator.press(overview, next(b for b in overview.button_texts if name in b))
    return town.sandbox.refresh(overview)


# --- 1. admitted through the bot ------------------------------------------------------------


async def test_a_newcomer_is_let_in_by_their_link_and_a_stranger_with_it_is_turned_away(
    town: Town,
) -> None:
    carol = town.coordinator
    carol.open_chat(town.bot)
    priya = town.person(900400, "Priya")
    await town.join(priya)
    links = await town.join_links(priya)
    assert set(links) == {GROUP}, "a member shop belongs in the group only"

    assert await priya.ask_to_join(links[GROUP]) == "requested"
    await town.sandbox.wait_for(lambda: town.group.holds(priya) or None, message="not let in")

    mallory = town.person(900401, "Mallory")
    assert await mallory.ask_to_join(links[GROUP]) == "requested"
    told = await notice(town, carol, "The bot declined a request to join the group")
    assert f"“Mallory” ({chat_texts.SELF_NAMED}), Telegram id 900401" in told.body
    assert "the link was made for someone else" in told.body
    assert not town.group.holds(mallory)
    assert await mallory.ask_to_join(links[GROUP]) == "requested", "she tries again"

    async def both_answered() -> list[AuditEntry] | None:
        joins = await trail(town, "chat_join")
        return joins if len(joins) == 3 else None

    joins = await town.sandbox.wait_for(both_answered, message="a join request went unanswered")
    assert [(e.actor_telegram_id, e.outcome, e.detail["reason"]) for e in joins] == [
        (priya.id, AuditOutcome.ALLOWED, "active member"),
        (mallory.id, AuditOutcome.REFUSED, "not_their_link"),
        (mallory.id, AuditOutcome.REFUSED, "not_their_link"),
    ]
    assert len(notices(town, carol, "The bot declined")) == 1, "told once a day a person"
    assert not town.group.holds(mallory)
    member = await member_row(town, mallory)
    assert member is None, "nothing about her changed"


async def test_the_control_room_s_people_get_a_link_to_it_and_a_shop_does_not_get_in(
    polling_town: Town,
) -> None:
    town = polling_town
    omar = await member_in_the_group(town, 900410, "Omar", Role.OPERATOR)
    assert town.control_room.holds(omar)
    priya = await member_in_the_group(town, 900411, "Priya")

    omars = await town.join_links(omar)
    assert await priya.ask_to_join(omars[CONTROL_ROOM]) == "requested"

    await notice(town, town.coordinator, "The bot declined a request to join the control room")
    assert not town.control_room.holds(priya)
    member = await member_row(town, priya)
    assert member is not None
    assert (member.role, member.status) == (Role.MEMBER, MemberStatus.ACTIVE), "nothing changed"


# --- 2. removed through the bot -------------------------------------------------------------


async def test_a_suspended_member_is_out_of_both_chats_and_let_back_in_when_reinstated(
    town: Town,
) -> None:
    carol = town.coordinator
    eve = await member_in_the_group(town, 900420, "Eve", Role.OPERATOR)
    old_links = await town.join_links(eve)
    priya = await member_in_the_group(town, 900421, "Priya")
    details = await members_view(town, carol, "Eve")

    answer = await carol.press(details, membership_texts.BUTTON_SUSPEND)

    assert answer == membership_texts.decision_done("suspend", "Eve")
    await out_of(town, eve, town.group, town.control_room, status="kicked")
    with pytest.raises(SandboxUsageError):
        await eve.send(town.group, "still here?")
    await priya.send(town.group, f"/alert {THEFT}")
    for chat in (town.group, town.control_room):

        def copy_in(where: Group = chat) -> bool | None:
            return (
                any(
                    alert_texts.ALERT_SIREN in b and "grey hoodie" in b
                    for b in town.bot_said(where)
                )
                or None
            )

        await town.sandbox.wait_for(copy_in, message="the alert's copy never came")
        assert chat.people()[eve.id] == "kicked", "the copies reach chats she is not in"
    assert await eve.ask_to_join(old_links[GROUP]) == "expired", "her old link is revoked"

    last = town.sandbox.chat_messages(town.bot, eve)[-1].message_id
    await carol.press(town.sandbox.refresh(details), membership_texts.BUTTON_REINSTATE)
    fresh = await town.join_links(eve, after=last)

    assert fresh[GROUP] != old_links[GROUP]
    await out_of(town, eve, town.group, town.control_room, status="left")
    await town.enters(eve, town.group, fresh[GROUP])
    await town.enters(eve, town.control_room, fresh[CONTROL_ROOM])
    bans = [(e.action, e.detail["chat_id"]) for e in await trail(town, "chat_ban")]
    assert sorted(bans) == sorted(
        [("chat_ban", town.group.id), ("chat_ban", town.control_room.id)]
    )


async def test_a_removed_member_is_out_now_and_may_be_invited_back(polling_town: Town) -> None:
    town = polling_town
    carol = town.coordinator
    sam = await member_in_the_group(town, 900430, "Sam")
    links = await town.join_links(sam)

    await carol.press(await members_view(town, carol, "Sam"), membership_texts.BUTTON_REMOVE)

    await out_of(town, sam, town.group, town.control_room, status="left")
    assert await sam.ask_to_join(links[GROUP]) == "expired", "a stale link admits nobody"
    await town.join(sam, shop="New Shop")
    await town.enters(sam, town.group, (await town.join_links(sam))[GROUP])


# --- 3. strangers ----------------------------------------------------------------------------


async def test_a_stranger_added_to_the_group_is_removed_and_the_coordinators_told(
    town: Town,
) -> None:
    carol = town.coordinator
    carol.open_chat(town.bot)
    priya = await member_in_the_group(town, 900440, "Priya")
    larry = town.person(900441, "Larry")

    town.group.add_member(larry)

    await out_of(town, larry, town.group, status="left")
    told = await notice(town, carol, "Someone who is not an approved member")
    assert f"“Larry” ({chat_texts.SELF_NAMED}), Telegram id 900441" in told.body
    assert "The bot removed them from the chat" in told.body
    assert town.group.holds(priya), "members stay"

    async def removal() -> list[AuditEntry] | None:
        return await trail(town, "chat_remove") or None

    removed = await town.sandbox.wait_for(removal, message="the removal is not audited")
    assert [(e.detail["user_id"], e.detail["was"]) for e in removed] == [(larry.id, "member")]


LURE = "ShopWatch Security: re-verify now at https://t.me/sw_verify @carol_coord /verify"


def clickable(text: str) -> list[str]:
    """What a Telegram app would make a link, mention, command or tag of in `text`."""
    return [
        text[entity.offset : entity.offset + entity.length]
        for entity in detect_entities(text)
        if entity.type != "mention" or text[entity.offset - 2 : entity.offset] != "; "
    ]


async def test_a_strangers_name_reads_as_theirs_and_nothing_in_it_is_a_link(
    town: Town,
) -> None:
    """Mallory names herself as the bot's own voice, with a link, a mention and a command;
    the coordinators read it quoted, marked as her own choice, and can tap nothing in it."""
    carol = town.coordinator
    carol.open_chat(town.bot)
    priya = town.person(900402, "Priya")
    await town.join(priya)
    links = await town.join_links(priya)
    mallory = town.sandbox.user(900403, LURE, username="mallory_m")

    assert await mallory.ask_to_join(links[GROUP]) == "requested"
    declined = await notice(town, carol, "The bot declined a request to join the group")
    town.group.add_member(mallory)
    removed = await notice(town, carol, "Someone who is not an approved member")

    for told in (declined, removed):
        assert f"({chat_texts.SELF_NAMED}; @mallory_m), Telegram id 900403" in told.body
        assert "“ShopWatch Security: re-verify now at https:" in told.body
        assert clickable(told.body) == [], told.body
        assert "https://" not in told.body


async def test_a_stranger_who_writes_in_the_group_is_removed(polling_town: Town) -> None:
    town = polling_town
    lurker = town.person(900445, "Lurker")
    town.sandbox.group(town.group.id, town.group.title, members=[lurker])  # there all along

    await lurker.send(town.group, "anything good today?")

    await out_of(town, lurker, town.group, status="left")
    assert town.bot_said(town.group) == []


async def test_a_scheme_that_runs_its_chats_by_hand_is_only_told(tmp_path: Path) -> None:
    schemes = schemes_with(
        **{
            'chat_policy = "members-only"': 'chat_policy = "notify-only"',
        }
    )
    async with running_town(tmp_path, schemes=schemes) as town:
        carol = town.coordinator
        carol.open_chat(town.bot)
        larry = town.person(900446, "Larry")

        town.group.add_member(larry)

        told = await notice(town, carol, "Someone who is not an approved member")
        assert "remove them from the chat if they should not be there" in told.body
        assert town.group.holds(larry)
        priya = town.person(900447, "Priya")
        await town.join(priya)
        assert not [b for b in town.bot_said(priya) if b.startswith("Your personal links")]


# --- 4. the schemes file and revocation ---------------------------------------------------------


async def test_a_coordinator_dropped_from_the_file_is_a_member_after_a_restart(
    tmp_path: Path,
) -> None:
    fiona_id = 700002
    both = schemes_with(
        **{
            "coordinators = [700001]": f"coordinators = [700001, {fiona_id}]",
            "administrators = []": f"administrators = [{ADMINISTRATOR}]",
        }
    )
    async with running_town(tmp_path, schemes=both) as town:
        fiona = town.person(fiona_id, "Fiona")
        row = await member_row(town, fiona)
        assert row is not None
        assert (row.role, row.status) == (Role.COORDINATOR, MemberStatus.ACTIVE)
        dave = town.person(900450, "Dave")
        await town.join(dave, role=Role.COORDINATOR)

    one = schemes_with(**{"administrators = []": f"administrators = [{ADMINISTRATOR}]"})
    async with running_town(tmp_path, schemes=one) as town:
        fiona = town.person(fiona_id, "Fiona")
        row = await member_row(town, fiona)
        assert row is not None
        assert (row.role, row.status) == (Role.MEMBER, MemberStatus.ACTIVE)
        await fiona.send(town.bot, "/export witness")
        assert (await fiona.next_reply(town.bot)).body == refusal_texts.refusal(Refusal.WRONG_ROLE)
        withdrawn = await trail(town, "role_withdrawn")
        assert [(e.actor_telegram_id, e.detail["from"]) for e in withdrawn] == [
            (None, "coordinator")
        ]
        await out_of(town, fiona, town.control_room, status="left")

        admin = town.person(ADMINISTRATOR, "Ada")
        dave = town.person(900450, "Dave")
        details = await members_view(town, admin, "Dave", "norwich")
        assert await admin.press(
            details, membership_texts.BUTTON_SUSPEND
        ) == membership_texts.decision_done("suspend", "Dave")
        suspended = await member_row(town, dave)
        assert suspended is not None
        assert suspended.status == MemberStatus.SUSPENDED


async def test_who_may_revoke_a_coordinator(polling_town: Town) -> None:
    town = polling_town
    carol = town.coordinator
    dave = town.person(900460, "Dave")
    dave_row = await town.join(dave, role=Role.COORDINATOR)
    carol_row = await member_row(town, carol)
    assert carol_row is not None
    signer = town.runtime.services.signer

    by_invite = await town.press_forged(dave, signer.sign("mb", "suspend", carol_row.id or 0, "v"))
    themselves = await town.press_forged(
        carol, signer.sign("mb", "remove", carol_row.id or 0, "v")
    )

    assert by_invite == refusal_texts.refusal(Refusal.NEEDS_ADMIN), (
        "an invited coordinator is below the file"
    )
    assert themselves == refusal_texts.refusal(Refusal.OWN_MEMBERSHIP)
    details = await members_view(town, carol, "Dave")
    assert membership_texts.BUTTON_SUSPEND in details.button_texts, "the file's coordinator may"
    assert await carol.press(
        details, membership_texts.BUTTON_REMOVE
    ) == membership_texts.decision_done("remove", "Dave")
    gone = await member_row(town, dave)
    assert gone is not None
    assert gone.status == MemberStatus.REMOVED
    assert dave_row.id is not None
    refusals = [
        (e.actor_telegram_id, e.detail["reason"])
        for e in await trail(town, "member_suspend") + await trail(town, "member_remove")
        if e.outcome == AuditOutcome.REFUSED
    ]
    assert sorted(refusals) == sorted([(dave.id, "needs_admin"), (carol.id, "own_membership")])


@pytest.fixture
async def cli_town(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Town]:
    """Norwich running, with `shopwatch` commands pointed at its log."""
    async with running_town(tmp_path) as town:
        for name, value in {
            "SHOPWATCH_DATABASE_URL": town.runtime.settings.database_url,
            "SHOPWATCH_SCHEMES_FILE": str(EXAMPLE_SCHEMES),
            "SHOPWATCH_DATA_DIR": str(tmp_path / "data"),
            "SHOPWATCH_BOT_TOKEN": BOT_TOKEN,
        }.items():
            monkeypatch.setenv(name, value)
        yield town


async def shopwatch(*words: str) -> int:
    """A `shopwatch` command run as from a shell, beside the running bot."""
    return await asyncio.to_thread(main, list(words))


async def test_the_deployment_suspends_a_member_from_the_command_line(
    cli_town: Town, capsys: pytest.CaptureFixture[str]
) -> None:
    town = cli_town
    priya = await member_in_the_group(town, 900470, "Priya")
    who = ["--scheme", "norwich", "--telegram-id", str(priya.id)]

    assert await shopwatch("member", "suspend", *who) == 0

    assert "Priya is suspended" in capsys.readouterr().out
    await out_of(town, priya, town.group, status="kicked")
    assert await shopwatch("member", "suspend", *who) == 1, "once"
    assert "already" in capsys.readouterr().out
    assert await shopwatch("member", "list", "--scheme", "norwich") == 0
    listed = capsys.readouterr().out
    assert f"{priya.id}\tmember\tsuspended\tPriya" in listed
    assert "700001\tcoordinator, file\tactive" in listed
    carol = ["--scheme", "norwich", "--telegram-id", "700001"]
    assert await shopwatch("member", "remove", *carol) == 1
    assert refusal_texts.refusal(Refusal.LAST_COORDINATOR) in capsys.readouterr().err
    assert await shopwatch("member", "reinstate", "--scheme", "norwich", "--telegram-id", "1") == 2

    decided = await trail(town, "member_suspend") + await trail(town, "member_remove")
    assert {e.actor_telegram_id for e in decided} == {None}, "audited as the system"
    assert all("(command line)" in e.detail["by"] for e in decided)
    assert [(e.action, e.outcome) for e in decided] == [
        ("member_suspend", AuditOutcome.ALLOWED),
        ("member_suspend", AuditOutcome.REFUSED),
        ("member_remove", AuditOutcome.REFUSED),
    ]
    carol_row = await member_row(town, town.coordinator)
    assert carol_row is not None
    assert carol_row.status == MemberStatus.ACTIVE


# --- rights ---------------------------------------------------------------------------------


async def test_without_the_right_to_ban_a_suspension_is_refused_whole(polling_town: Town) -> None:
    town = polling_town
    carol = town.coordinator
    priya = await member_in_the_group(town, 900480, "Priya")

    town.control_room.set_bot_rights(town.bot, by=carol, can_restrict_members=False)

    told = await notice(town, carol, "The bot lacks rights in the control room")
    assert "ban users" in told.body
    details = await members_view(town, carol, "Priya")
    answer = await carol.press(details, membership_texts.BUTTON_SUSPEND)
    assert answer is not None
    assert answer.startswith("The bot cannot do that: it may not ban users in the control room")
    row = await member_row(town, priya)
    assert row is not None
    assert row.status == MemberStatus.ACTIVE
    assert town.group.holds(priya)
    refused = await trail(town, "member_suspend")
    assert [(e.outcome, e.detail["reason"], e.detail["right"]) for e in refused] == [
        (AuditOutcome.REFUSED, "bot_lacks_rights", "can_restrict_members")
    ]
    assert len(notices(town, carol, "The bot lacks rights")) == 1


# --- 5. the member's message replaced ------------------------------------------------------------


async def test_a_members_photo_alert_in_the_group_is_replaced_by_the_protected_copy(
    polling_town: Town,
) -> None:
    town = polling_town
    priya = await member_in_the_group(town, 900490, "Priya")

    original = await priya.send_photo(town.group, make_jpeg(), THEFT)

    confirmation = await confirmation_in(town, priya)
    assert alert_texts.MEMBER_ALERT_REPLACED in confirmation.body
    await town.sandbox.wait_for(
        lambda: town.sandbox.refresh(original).deleted or None,
        message="the member's message stayed",
    )
    copies = [
        m
        for m in town.sandbox.chat_messages(town.bot, town.group)
        if m.from_bot and m.photo is not None and not m.deleted
    ]
    assert len(copies) == 1
    assert copies[0].protect_content


async def test_with_the_setting_off_the_members_message_stays_beside_the_copy(
    tmp_path: Path,
) -> None:
    schemes = schemes_with(**{"replace_member_alerts = true": "replace_member_alerts = false"})
    async with running_town(tmp_path, schemes=schemes) as town:
        priya = await member_in_the_group(town, 900491, "Priya")

        original = await priya.send_photo(town.group, make_jpeg(), THEFT)
        confirmation = await confirmation_in(town, priya)

        assert alert_texts.MEMBER_ALERT_REPLACED not in confirmation.body

        def copy() -> MessageView | None:
            for message in town.sandbox.chat_messages(town.bot, town.group):
                if message.from_bot and message.photo is not None:
                    return message
            return None

        assert (await town.sandbox.wait_for(copy, message="no copy")).protect_content
        assert not town.sandbox.refresh(original).deleted


async def test_wrong_person_takes_the_members_message_down_too(tmp_path: Path) -> None:
    schemes = schemes_with(**{"replace_member_alerts = true": "replace_member_alerts = false"})
    async with running_town(tmp_path, schemes=schemes) as town:
        priya = await member_in_the_group(town, 900492, "Priya")
        original = await priya.send(town.group, f"/alert {THEFT}")
        confirmation = await confirmation_in(town, priya)

        await priya.press(confirmation, alert_texts.BUTTON_ENDING)
        await priya.press(town.sandbox.refresh(confirmation), alert_texts.BUTTON_WRONG_PERSON)

        await town.sandbox.wait_for(
            lambda: town.sandbox.refresh(original).deleted or None,
            message="the member's message stayed after Wrong person",
        )


async def test_log_only_takes_the_members_message_down_with_the_copies(tmp_path: Path) -> None:
    schemes = schemes_with(**{"replace_member_alerts = true": "replace_member_alerts = false"})
    async with running_town(tmp_path, schemes=schemes) as town:
        priya = await member_in_the_group(town, 900493, "Priya")
        original = await priya.send(town.group, f"/alert {THEFT}")
        confirmation = await confirmation_in(town, priya)

        await priya.press(confirmation, alert_texts.URGENCY_BUTTONS["log"])

        await town.sandbox.wait_for(
            lambda: town.sandbox.refresh(original).deleted or None,
            message="the member's message stayed after Log only",
        )
        await town.sandbox.wait_for(
            lambda: (
                not any(alert_texts.ALERT_SIREN in b for b in town.bot_said(town.control_room))
                or None
            ),
            message="a copy stayed after Log only",
        )


async def test_a_member_of_another_scheme_is_turned_away_and_a_ban_of_one_who_left_is_audited(
    polling_town: Town,
) -> None:
    town = polling_town
    carol = town.coordinator
    carol.open_chat(town.bot)
    priya = await member_in_the_group(town, 900494, "Priya")
    wendy = town.coordinator_of("wymondham")
    walter = town.person(900495, "Walter")
    await town.join(walter, scheme="wymondham", by=wendy)

    assert await walter.ask_to_join((await town.join_links(priya))[GROUP]) == "requested"

    told = await notice(town, carol, "The bot declined a request to join the group")
    assert f"“Walter” ({chat_texts.SELF_NAMED}), Telegram id 900495" in told.body
    assert not town.group.holds(walter)
    town.group.remove_member(priya)  # she leaves of her own accord
    await carol.press(await members_view(town, carol, "Priya"), membership_texts.BUTTON_SUSPEND)

    async def banned() -> list[AuditEntry] | None:
        bans = await trail(town, "chat_ban")
        return bans if len(bans) == 2 else None  # the group and the control room

    await town.sandbox.wait_for(banned)
    bans = {e.detail["chat_id"]: e.detail["was"] for e in await trail(town, "chat_ban")}
    assert bans.get(town.group.id) == "left", bans
    await out_of(town, priya, town.group, status="kicked")


async def test_a_suspended_operators_press_in_a_chat_run_by_hand_is_answered_and_changes_nothing(
    tmp_path: Path,
) -> None:
    schemes = schemes_with(**{'chat_policy = "members-only"': 'chat_policy = "notify-only"'})
    async with running_town(tmp_path, schemes=schemes) as town:
        carol = town.coordinator
        eve = town.person(900447, "Eve")
        await town.join(eve, role=Role.OPERATOR)
        town.control_room.add_member(eve)  # the scheme's people let her in by hand
        priya = town.person(900448, "Priya")
        await town.join(priya)
        await carol.press(await members_view(town, carol, "Eve"), membership_texts.BUTTON_SUSPEND)
        await priya.send(town.bot, f"/alert {THEFT}")

        def copy() -> MessageView | None:
            for message in town.sandbox.chat_messages(town.bot, town.control_room):
                if message.from_bot and "On camera" in message.button_texts:
                    return message
            return None

        card = await town.sandbox.wait_for(copy, message="the control room's copy")
        assert town.control_room.holds(eve), "nobody took her out of a chat run by hand"

        answer = await eve.press(card, "On camera")

        assert answer == refusal_texts.refusal(Refusal.SUSPENDED)
        norwich = await town.runtime.store.schemes.get_by_slug("norwich")
        assert norwich.id is not None
        [report] = await town.runtime.store.reports.recent(norwich.id)
        assert report.id is not None
        assert await town.runtime.store.reports.events(report.id) == []
        [press] = await trail(town, "group_press")
        assert (press.actor_telegram_id, press.detail["reason"]) == (eve.id, "suspended")
