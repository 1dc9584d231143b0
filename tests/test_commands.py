"""Finding one's way: each role's own /help and menu, and an answer for every command
sent misspelt or in the wrong chat. Told as Priya (a shop), Omar (an operator), Carol
(the coordinator) and PC West, on the sandbox."""

from __future__ import annotations

import pytest

from broadcast import commands
from broadcast.texts import refusals as refusal_texts
from config.errors import Refusal
from config.vocabulary import Role
from sandbox import Person
from tests.town import Town


def scope(person: Person) -> dict[str, object]:
    return {"type": "chat", "chat_id": person.id}


def menu(town: Town, person: Person) -> list[str]:
    return [name for name, _ in town.sandbox.commands(town.bot, scope(person))]


async def helped(town: Town, person: Person) -> str:
    await person.send(town.bot, "/help")
    return (await person.next_reply(town.bot)).body


async def test_a_shop_reads_its_own_help_and_menu(polling_town: Town) -> None:
    town = polling_town
    priya = town.person(900301, "Priya")
    await town.join(priya, shop="Corner Books")

    said = await helped(town, priya)

    assert all(f"/{name} " in said for name in ("alert", "report", "search", "show"))
    assert not any(f"/{name} " in said for name in ("invite", "export", "grade"))
    assert "ref 36/12345/26" not in said, "a shop does not give police references"
    assert menu(town, priya) == [
        "alert",
        "report",
        "search",
        "show",
        "gallery",
        "whoami",
        "help",
        "start",
    ]


async def test_an_operator_is_told_of_search_and_the_ref_reply(polling_town: Town) -> None:
    town = polling_town
    omar = town.person(900302, "Omar")
    await town.join(omar, role=Role.OPERATOR)

    said = await helped(town, omar)

    assert all(f"/{name} " in said for name in ("search", "show"))
    assert "ref 36/12345/26" in said
    assert "/invite" not in said
    assert "search" in menu(town, omar)
    assert "invite" not in menu(town, omar)


async def test_the_coordinator_sees_every_desk_command(polling_town: Town) -> None:
    town = polling_town

    said = await helped(town, town.coordinator)

    for name in ("/invite", "/members", "/export", "/grade", "/search", "/show", "/alert"):
        assert name in said
    assert {"invite", "members", "export", "grade", "link", "merge"} <= set(
        menu(town, town.coordinator)
    )


async def test_the_police_see_search_and_export_but_send_no_alerts(polling_town: Town) -> None:
    town = polling_town
    west = town.person(900304, "PC West")
    await town.join(west, role=Role.POLICE)

    said = await helped(town, west)

    assert all(f"/{name} " in said for name in ("search", "export"))
    assert not any(f"/{name} " in said for name in ("alert", "report", "invite"))


async def test_a_stranger_is_told_how_to_join(polling_town: Town) -> None:
    town = polling_town
    nobody = town.person(900305, "Nobody")

    assert await helped(town, nobody) == commands.STRANGER_HELP
    assert menu(town, nobody) == ["help", "start"]


@pytest.mark.parametrize("command", ["/report", "/help", "/grade 12"])
async def test_a_private_command_in_the_group_says_where_it_works(
    polling_town: Town, command: str
) -> None:
    town = polling_town
    priya = town.person(900306, "Priya")
    await town.join(priya, shop="Corner Books")
    town.group.add_member(priya)

    sent = await priya.send(town.group, command)

    reply = await priya.next_reply(town.group)
    assert reply.body == commands.wrong_chat(command.split(maxsplit=1)[0][1:])
    assert "works in your private chat with me" in reply.body
    assert reply.reply_to_message_id == sent.message_id


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("/alret man in red coat", "Did you mean /alert man in red coat?"),
        ("/serch grey hoodie", "Did you mean /search grey hoodie?"),
        ("/repot", "Did you mean /report?"),
        ("/hlep", "Did you mean /help?"),
    ],
)
async def test_a_misspelt_command_is_answered_with_the_one_meant(
    polling_town: Town, typed: str, meant: str
) -> None:
    town = polling_town
    priya = town.person(900307, "Priya")
    await town.join(priya, shop="Corner Books")

    await priya.send(town.bot, typed)

    assert (await priya.next_reply(town.bot)).body.endswith(meant)


async def test_a_command_that_means_nothing_points_to_help(polling_town: Town) -> None:
    town = polling_town
    priya = town.person(900308, "Priya")
    await town.join(priya, shop="Corner Books")

    await priya.send(town.bot, "/weather")

    assert (await priya.next_reply(town.bot)).body == (
        "I don't know /weather. Send /help to see what you can do."
    )


async def test_invite_with_a_word_that_is_no_role_lists_the_roles(polling_town: Town) -> None:
    town = polling_town

    await town.coordinator.send(town.bot, "/invite manager")

    reply = await town.coordinator.next_reply(town.bot)
    assert reply.body.startswith("To invite someone, send /invite")
    assert reply.body != refusal_texts.refusal(Refusal.WRONG_ROLE)


async def test_help_half_way_through_joining_says_how_to_go_on(polling_town: Town) -> None:
    town = polling_town
    tom = town.person(900309, "Tom")
    code = await town.invite()
    await tom.send(town.bot, f"/start {code}")
    question = await tom.next_reply(town.bot)

    await tom.send(town.bot, "/help")

    assert (await tom.next_reply(town.bot)).body == commands.JOINING_HELP
    await tom.send(town.bot, "Tom Baker")
    assert (await tom.next_reply(town.bot)).body != question.body, "joining goes on"


@pytest.mark.parametrize(
    ("role", "offered_elsewhere"),
    [(Role.MEMBER, "/export"), (Role.OPERATOR, "/invite"), (Role.POLICE, "/alert")],
)
async def test_each_command_in_a_menu_works_for_its_holder_and_one_outside_it_is_refused(
    polling_town: Town, role: Role, offered_elsewhere: str
) -> None:
    town = polling_town
    person = town.person(900310, f"A {role.value}")
    await town.join(person, role=role)
    wrong_role = refusal_texts.refusal(Refusal.WRONG_ROLE)

    for name in menu(town, person):
        if name in ("help", "start"):
            continue
        await person.send(town.bot, f"/{name}")
        answer = await person.next_reply(town.bot)
        assert answer.body != wrong_role, f"/{name} is in the menu of a {role.value}"
        if name == "report":
            await person.send(town.bot, "/cancel")
            await person.next_reply(town.bot)

    await person.send(town.bot, offered_elsewhere)
    assert (await person.next_reply(town.bot)).body == wrong_role
