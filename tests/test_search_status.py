"""A search result says where each report stands: a withdrawn one never reads as a live theft.

Priya sends three alerts about a grey hoodie: one she stands down, one she says was
the wrong person, one still live. Olive in the control room searches "grey hoody"
(as people type it) and reads each result's status; the withdrawn one's words are
not shown, as they left its copies in the chats.
"""

from __future__ import annotations

from broadcast.texts import alerts as alert_texts
from broadcast.texts import search as search_texts
from config.vocabulary import ReportStatus, Role
from sandbox import MessageView, Person
from storage.models import Report
from tests.town import Town

PRIYA = 5_000_000_301
OLIVE = 5_000_000_302


async def alert(town: Town, priya: Person, words: str) -> MessageView:
    await priya.send(town.bot, f"/alert {words}")
    return await priya.next_reply(town.bot)


async def ending(town: Town, priya: Person, confirmation: MessageView, button: str) -> None:
    await priya.press(confirmation, alert_texts.BUTTON_ENDING)
    await priya.press(town.sandbox.refresh(confirmation), button)


async def in_log(town: Town) -> list[Report]:
    scheme = await town.runtime.store.schemes.get_by_slug("norwich")
    return await town.runtime.store.reports.recent(scheme.id or 0)


async def test_each_result_shows_its_status_and_a_withdrawn_one_hides_its_words(
    polling_town: Town,
) -> None:
    town = polling_town
    priya = town.person(PRIYA, "Priya")
    await town.join(priya, shop="Jarrold", street="London Street")
    olive = town.person(OLIVE, "Olive")
    await town.join(olive, Role.OPERATOR)

    over = await alert(town, priya, "Grey hoodie took razor blades, gone towards Haymarket")
    await ending(town, priya, over, alert_texts.BUTTON_STAND_DOWN)
    wrong = await alert(town, priya, "Gray hoodie with a red rucksack took perfume testers")
    await ending(town, priya, wrong, alert_texts.BUTTON_WRONG_PERSON)
    await alert(town, priya, "Grey hoody took two bottles of gin, still in the shop")

    async def settled() -> list[Report] | None:
        reports = await in_log(town)
        statuses = [r.status for r in reports]
        wanted = [ReportStatus.OPEN, ReportStatus.WITHDRAWN, ReportStatus.CLOSED]
        return reports if statuses == wanted else None

    live, withdrawn, closed = await town.sandbox.wait_for(settled, message="the three settled")

    await olive.send(town.bot, "/search grey hoody")
    results = await olive.next_reply(town.bot)

    lines = results.body.split("\n")

    def line_of(report: Report) -> str:
        return next(line for line in lines if line.startswith(f"{report.id} · "))

    assert " · Theft · open · Jarrold, London Street" in line_of(live)
    assert " · Theft · WITHDRAWN · Jarrold, London Street" in line_of(withdrawn)
    assert " · Theft · closed · Jarrold, London Street" in line_of(closed)
    assert search_texts.RESULT_WITHDRAWN in lines
    assert "perfume" not in results.body, "the wrong person's description is not shown"
    assert "two bottles of gin" in results.body
