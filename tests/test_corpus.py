"""The hostile-input corpus (`tests/corpus/`): whatever arrives, the bot answers clearly,
keeps running and stores nothing it should not.

Malformed updates come through the bot's real webhook endpoint and through polling;
bad images are sent by a member as her alert's photo or file; hostile texts are an
alert's words and a /report's answers. After each, the test counts what the log holds
and reads what every chat shows.
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.sandbox.raw_updates import push_raw_update
from bot.web import MAX_UPDATE_BYTES, SECRET_HEADER
from storage.enums import MemberStatus
from tests.town import WEBHOOK_SECRET, Town, running_town

CORPUS = Path(__file__).resolve().parent / "corpus"
UPDATES = sorted((CORPUS / "updates").iterdir())
TEXTS = sorted((CORPUS / "texts").glob("*.txt"))
MALLORY = 900100  # the sender named in the corpus's updates

NOT_UPDATES = {
    "a_json_list.json",
    "a_json_string.json",
    "empty_object.json",
    "missing_update_id.json",
    "not_json.txt",
    "update_id_is_a_string.json",
}
"""Bodies that are not Telegram updates at all: the webhook says 400 and Telegram, which
never sends such a thing, has nothing to retry. Everything else with the right secret
is Telegram's, so it is taken with 200 even when unreadable: any other answer makes
Telegram send it again and hold back every update behind it."""

DEEPLY_NESTED = b'{"update_id": 1, "message": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
OVER_1_MIB = b'{"update_id": 3, "junk": "' + b"x" * MAX_UPDATE_BYTES + b'"}'


@dataclass(frozen=True)
class Stored:
    """What the log holds that a stranger's junk must never add to."""

    reports: int
    members: int
    outbox_due: int
    outbox_failed: int
    files: int


async def stored(town: Town) -> Stored:
    store = town.runtime.store
    reports = members = 0
    for scheme in await store.schemes.list_all():
        assert scheme.id is not None
        reports += len(await store.reports.recent(scheme.id, limit=100_000))
        for status in MemberStatus:
            members += len(await store.members.list_by_status(scheme.id, status))
    backlog = await store.outbox.backlog()
    data_dir = town.runtime.settings.data_dir
    files = sum(1 for path in data_dir.rglob("*") if path.is_file())
    return Stored(reports, members, backlog.due, backlog.failed, files)


def _described(records: list[logging.LogRecord]) -> list[str]:
    return [
        f"{r.name}: {r.getMessage()} ({r.exc_info[1]!r})" if r.exc_info else r.getMessage()
        for r in records
    ]


async def _still_answers(town: Town) -> None:
    """The coordinator's /start after the junk is answered as ever."""
    await town.coordinator.send(town.bot, "/start")
    reply = await town.coordinator.next_reply(town.bot)
    assert reply.body, "the bot answered /start"


# --- malformed updates --------------------------------------------------------------------


async def _post(town: Town, body: bytes) -> int:
    url = town.runtime.settings.webhook_url
    assert url is not None
    headers = {"Content-Type": "application/json", SECRET_HEADER: WEBHOOK_SECRET}
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=io.BytesIO(body), headers=headers) as response,
    ):
        return response.status


async def test_every_malformed_update_posted_to_the_webhook_is_answered_and_changes_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with running_town(tmp_path, webhook=True) as town:
        town.person(MALLORY, "Mallory").open_chat(town.bot)
        before = await stored(town)

        answers = {path.name: await _post(town, path.read_bytes()) for path in UPDATES}
        answers["deeply nested"] = await _post(town, DEEPLY_NESTED)
        answers["just under 1 MiB"] = await _post(
            town, json.dumps({"update_id": 2, "junk": "x" * (MAX_UPDATE_BYTES - 100)}).encode()
        )
        answers["over 1 MiB"] = await _post(town, OVER_1_MIB)

        await _still_answers(town)
        assert await stored(town) == before

    expected = {name: 400 if name in NOT_UPDATES else 200 for name in answers}
    expected |= {"deeply nested": 400, "just under 1 MiB": 200, "over 1 MiB": 413}
    assert answers == expected
    errors = _described([r for r in caplog.records if r.levelno >= logging.ERROR])
    assert not errors, "\n".join(errors)


async def test_every_malformed_update_delivered_by_polling_is_taken_and_changes_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    async with running_town(tmp_path) as town:
        town.person(MALLORY, "Mallory").open_chat(town.bot)
        before = await stored(town)

        for path in UPDATES:
            try:
                body = json.loads(path.read_bytes())
            except ValueError:
                continue  # Telegram's getUpdates only ever returns JSON objects
            if not isinstance(body, dict):
                continue
            push_raw_update(town.sandbox.state, town.bot, body)
            await town.sandbox.wait_for(
                lambda: town.sandbox.pending_updates(town.bot) == 0,
                message=f"the bot never took {path.name} off the queue",
            )

        await _still_answers(town)
        assert await stored(town) == before
    errors = _described([r for r in caplog.records if r.levelno >= logging.ERROR])
    assert not errors, "\n".join(errors)
