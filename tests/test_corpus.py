"""The hostile-input corpus (`tests/corpus/`): whatever arrives, the bot answers clearly,
keeps running and stores nothing it should not.

Malformed updates come through the bot's real webhook endpoint and through polling;
bad images are sent by a member as her alert's photo or file; hostile texts are an
alert's words and a /report's answers. After each, the test counts what the log holds
and reads what every chat shows.
"""

from __future__ import annotations

import functools
import io
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from PIL import Image

from bot.web import MAX_UPDATE_BYTES, SECRET_HEADER
from broadcast.texts import alerts as alert_texts
from broadcast.texts import common as common_texts
from broadcast.texts import membership as membership_texts
from broadcast.texts import report as report_texts
from config.vocabulary import MemberStatus
from handlers.join import NAME_LIMIT, SHOP_LIMIT
from sandbox import Group, MessageView
from sandbox.raw_updates import push_raw_update
from tests.sandbox_fixtures import make_jpeg
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


# --- bad images ---------------------------------------------------------------------------

PRIYA = 5_000_000_301
CAPTION = "Male 30s, grey hoodie, took two bottles of gin, heading to Haymarket"
NOT_A_PHOTO = "that file is not a photo we can use"


@dataclass(frozen=True)
class BadImage:
    file_name: str
    mime_type: str
    data: bytes = field(repr=False)
    why: str
    """The reason the member reads in `alert_texts.photo_refused`."""


def _png_bomb() -> bytes:
    """17 kB on the wire, 144 million pixels once decoded."""
    out = io.BytesIO()
    Image.new("1", (12_000, 12_000)).save(out, format="PNG")
    return out.getvalue()


def _gif_of_10000_frames() -> bytes:
    """Each frame differs by one pixel, so none is merged away."""
    frames = []
    for i in range(10_000):
        frame = Image.new("L", (16, 16), 0)
        frame.putpixel((i % 16, (i // 16) % 16), 255 - i // 256)
        frames.append(frame)
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=10)
    return out.getvalue()


@pytest.fixture(scope="session")
def bad_images() -> dict[str, BadImage]:
    """Every bad kind of image, made once: nothing big is kept in the repository."""
    jpeg = make_jpeg(640, 480)
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    html = b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>"
    sixty_mb = b"\xff\xd8\xff\xe0" + bytes(60 * 1024 * 1024)
    return {
        "truncated JPEG": BadImage("cctv.jpg", "image/jpeg", jpeg[: len(jpeg) // 2], NOT_A_PHOTO),
        "PNG bomb": BadImage(
            "bomb.png", "image/png", _png_bomb(), "the photo's dimensions are too large"
        ),
        "GIF of 10,000 frames": BadImage(
            "clip.gif", "image/gif", _gif_of_10000_frames(), "it is an animation, not a photo"
        ),
        "SVG renamed .jpg": BadImage("suspect.jpg", "image/jpeg", svg, NOT_A_PHOTO),
        "HTML renamed .jpg": BadImage("suspect.jpg", "image/jpeg", html, NOT_A_PHOTO),
        "zero bytes": BadImage("empty.jpg", "image/jpeg", b"", "the photo is empty"),
        "60 MB": BadImage("huge.jpg", "image/jpeg", sixty_mb, "the photo is too large"),
    }


async def _settled(town: Town) -> Stored:
    """What the log holds once the outbox has sent everything due (the joining's cards)."""

    async def drained() -> bool:
        return (await town.runtime.store.outbox.backlog()).due == 0

    await town.sandbox.wait_for(drained, message="the outbox never drained")
    return await stored(town)


async def test_a_bad_image_sent_as_an_alert_is_refused_with_the_reason_and_nothing_is_stored(
    polling_town: Town, bad_images: dict[str, BadImage]
) -> None:
    town = polling_town
    priya = town.person(PRIYA, "Priya")
    await town.join(priya, shop="Jarrold", street="London Street")
    before = await _settled(town)
    group, control_room = town.chat(town.group), town.chat(town.control_room)

    answers = {}
    for kind, image in bad_images.items():
        await priya.send_document(
            town.bot, image.data, image.file_name, CAPTION, mime_type=image.mime_type
        )
        answers[kind] = (await priya.next_reply(town.bot)).body

    assert answers == {
        kind: alert_texts.photo_refused(image.why) for kind, image in bad_images.items()
    }
    assert await _settled(town) == before
    assert town.chat(town.group) == group
    assert town.chat(town.control_room) == control_room


async def test_a_photo_sent_as_a_file_is_an_alert_like_any_photo(polling_town: Town) -> None:
    town = polling_town
    priya = town.person(PRIYA, "Priya")
    await town.join(priya, shop="Jarrold", street="London Street")

    await priya.send_document(
        town.bot, make_jpeg(640, 480), "IMG_2041.jpg", CAPTION, mime_type="image/jpeg"
    )

    assert (await priya.next_reply(town.bot)).body.startswith("Alert sent to")
    copy = await town.bot_message_after(town.control_room, 0, lambda m: CAPTION in m.body)
    assert copy.photo is not None


# --- hostile texts ------------------------------------------------------------------------

OMAR = 5_000_000_302
FORMATTING = {
    "bold",
    "italic",
    "underline",
    "strikethrough",
    "spoiler",
    "code",
    "pre",
    "text_link",
    "text_mention",
    "blockquote",
    "custom_emoji",
}
"""Entities only a parse mode or explicit entities make: a member's words must never
turn into any of them on a copy."""
WITHOUT_CONTROLS = {
    "nul_bytes.txt": "took gin then left towards Market St",
    "terminal_escapes.txt": "[31mred[0m bell took gin\nand left",
}
"""What is kept of a text with control characters: what a screen would show."""


def hostile(name: str) -> str:
    return (CORPUS / "texts" / name).read_text(encoding="utf-8")


def _shows_literally(copy: MessageView, text: str) -> None:
    """Every word of `text` is on the copy as typed, and nothing of it became formatting."""
    missing = [word for word in text.split() if word not in copy.body]
    assert not missing, f"{missing[:3]} not shown literally on the copy"
    assert copy.parse_mode is None
    assert {entity.type for entity in copy.entities}.isdisjoint(FORMATTING)


def _once_shown(town: Town, copy: MessageView, text: str) -> MessageView | None:
    now = town.sandbox.refresh(copy)
    return now if all(word in now.body for word in text.split()) else None


async def _copy_of(town: Town, chat: Group, report_id: int) -> MessageView:
    mark = f"Report #{report_id}"
    return await town.bot_message_after(chat, 0, lambda m: mark in m.body, what=mark)


@pytest.fixture
async def town_on_each_database(database_url: str, tmp_path: Path) -> AsyncIterator[Town]:
    """Norwich with its log on SQLite, and on PostgreSQL when the tests have one."""
    async with running_town(tmp_path, database_url=database_url) as running:
        yield running


async def test_hostile_texts_as_alerts_are_stored_as_sent_and_every_copy_shows_them_literally(
    town_on_each_database: Town,
) -> None:
    town = town_on_each_database
    priya, omar = town.person(PRIYA, "Priya"), town.person(OMAR, "Omar")
    await town.join(priya, shop="Jarrold", street="London Street")
    await town.join(omar, shop="Boots", street="Haymarket")
    reports = town.runtime.store.reports

    for turn, path in enumerate(TEXTS):
        member = (priya, omar)[turn % 2]  # within the posting limit of each
        text = path.read_text(encoding="utf-8")
        await member.send(town.bot, f"/alert {text}")
        answer = await member.next_reply(town.bot)

        if path.name == "only_invisible.txt":
            assert answer.body == alert_texts.ALERT_EMPTY_COMMAND
            continue
        assert answer.body.startswith("Alert sent to"), f"{path.name}: {answer.body}"
        report_id = int(answer.body.split("Report #")[1].split(".")[0])
        report = await reports.get(report_id)
        assert report.description == WITHOUT_CONTROLS.get(path.name, text.strip()), path.name
        for chat in (town.group, town.control_room):
            _shows_literally(await _copy_of(town, chat, report_id), report.description)


async def test_hostile_answers_to_report_are_kept_as_typed_or_asked_again(
    polling_town: Town,
) -> None:
    town = polling_town
    priya = town.person(PRIYA, "Priya")
    await town.join(priya, shop="Jarrold", street="London Street")

    async def tap(question: MessageView, button: str) -> MessageView:
        await priya.press(question, button)
        return await priya.next_reply(town.bot)

    async def say(text: str) -> MessageView:
        await priya.send(town.bot, text)
        return await priya.next_reply(town.bot)

    await priya.send(town.bot, "/report")
    question = await tap(await priya.next_reply(town.bot), "Theft")
    await tap(question, "Happening now – alert everyone")
    asked_again = await say(hostile("only_invisible.txt"))
    assert report_texts.report_answer_problem("empty") in asked_again.body
    too_long = await say(hostile("emoji_flood.txt"))
    assert too_long.body.startswith(report_texts.report_answer_problem("too_long", 1000))
    confirmation = await say(hostile("html_injection.txt"))  # a live report: the alert goes
    assert confirmation.body.startswith("Alert sent to"), confirmation.body
    question = await priya.next_reply(town.bot)
    question = await tap(question, report_texts.REPORT_BUTTON_NOT_SURE)  # how many
    question = await tap(question, "Male")
    question = await tap(question, "25–40")
    for _ in range(3):  # height, build, hair
        question = await tap(question, report_texts.REPORT_BUTTON_NOT_SURE)
    question = await say(hostile("markdown_injection.txt"))
    question = await tap(question, report_texts.REPORT_BUTTON_SKIP)  # marks
    question = await tap(question, report_texts.REPORT_BUTTON_SKIP)  # a name
    question = await say(hostile("rtl_override.txt"))
    await tap(question, report_texts.REPORT_BUTTON_FINISH)

    report_id = int(confirmation.body.split("Report #")[1].split(".")[0])
    report = await town.runtime.store.reports.get(report_id)
    assert report.description == hostile("html_injection.txt")
    assert report.subject_description == f"Male, 25–40, {hostile('markdown_injection.txt')}"
    assert report.direction == hostile("rtl_override.txt")
    assert report.direction is not None
    for chat in (town.group, town.control_room):
        first = await _copy_of(town, chat, report_id)
        # The answers after the alert reach the copies as edits.
        copy = await town.sandbox.wait_for(
            functools.partial(_once_shown, town, first, report.direction)
        )
        for text in (report.description, report.subject_description, report.direction):
            _shows_literally(copy, text)


async def test_hostile_answers_when_joining_are_asked_again_or_kept_as_a_screen_shows_them(
    polling_town: Town,
) -> None:
    town = polling_town
    code = await town.invite()
    newcomer = town.person(PRIYA, "Priya")

    async def say(text: str) -> MessageView:
        await newcomer.send(town.bot, text)
        return await newcomer.next_reply(town.bot)

    await say(f"/start {code}")
    assert (await say(hostile("only_invisible.txt"))).body == membership_texts.answer_too_long(
        NAME_LIMIT
    )
    assert (await say(hostile("rtl_override.txt"))).body == membership_texts.JOIN_ASK_SHOP
    assert (await say(hostile("html_injection.txt"))).body == membership_texts.answer_too_long(
        SHOP_LIMIT
    )
    assert (await say(hostile("nul_bytes.txt"))).body == membership_texts.JOIN_ASK_STREET
    agreement = await say(hostile("zero_width.txt"))
    await newcomer.press(agreement, membership_texts.BUTTON_AGREE)

    card = await town.approval_card(newcomer, town.coordinator)
    scheme = await town.runtime.store.schemes.get_by_slug("norwich")
    assert scheme.id is not None
    member = await town.runtime.store.members.get(scheme.id, PRIYA)
    assert member is not None
    assert member.display_name == hostile("rtl_override.txt")
    assert member.shop_name == WITHOUT_CONTROLS["nul_bytes.txt"]
    assert member.street == hostile("zero_width.txt")
    for answer in (member.display_name, member.shop_name, member.street):
        _shows_literally(card, answer)


CAPTIONS = [
    "html_injection.txt",
    "markdown_injection.txt",
    "rtl_override.txt",
    "zero_width.txt",
    "nul_bytes.txt",
    "bidi_isolates_unbalanced.txt",
]


async def test_hostile_captions_and_updates_show_literally_under_every_photo(
    polling_town: Town,
) -> None:
    town = polling_town
    priya = town.person(PRIYA, "Priya")
    await town.join(priya, shop="Jarrold", street="London Street")
    reports = town.runtime.store.reports

    for number, name in enumerate(CAPTIONS):
        # A picture of its own each time: the same one again would be caught as a double.
        await priya.send_photo(town.bot, make_jpeg(640, 480 + number), hostile(name))
        confirmation = await priya.next_reply(town.bot)
        assert confirmation.body.startswith("Alert sent to"), f"{name}: {confirmation.body}"
        report_id = int(confirmation.body.split("Report #")[1].split(".")[0])
        report = await reports.get(report_id)
        assert report.description == WITHOUT_CONTROLS.get(name, hostile(name).strip()), name
        copy = await _copy_of(town, town.control_room, report_id)
        assert copy.photo is not None
        _shows_literally(copy, report.description)

    update = hostile("terminal_escapes.txt")
    await priya.send(town.bot, update, reply_to=confirmation)
    expected = " ".join(WITHOUT_CONTROLS["terminal_escapes.txt"].split())

    async def updated_copy() -> MessageView | None:
        copy = town.sandbox.refresh(await _copy_of(town, town.group, report_id))
        return copy if expected in " ".join(copy.body.split()) else None

    _shows_literally(await town.sandbox.wait_for(updated_copy), expected)


ABSURD_COMMANDS = [
    f"/show {2**70}",
    "/show ²",
    f"/grade {2**70}",
    f"/grade {2**70} A 1 P",
    "/grade ² A 1 P",
    "/grade 1 Z 9 Q",
    "/export --from 99999-01-01",
    "/export 2026-02-30 2026-01-01",
    f"/invite member {2**70}",
    "/invite " + "x" * 4000,
    f"/search ref:{2**70}",
    f"/search since:{2**70}d",
    "/search from:9999-99-99",
    "/search " + "\u202e" * 50,
    "/search " + '"' * 101,
    "/search has:" + "x" * 3000,
    f"/members {2**70}",
    "/start " + "A" * 64,
    f"/start {2**70}",
]


async def test_absurd_command_arguments_get_an_answer_and_nothing_breaks(
    polling_town: Town, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    town = polling_town

    for command in ABSURD_COMMANDS:
        await town.coordinator.send(town.bot, command)
        answer = await town.coordinator.next_reply(town.bot)
        assert answer.body != common_texts.SOMETHING_WENT_WRONG, command

    errors = _described([r for r in caplog.records if r.levelno >= logging.ERROR])
    assert not errors, "\n".join(errors)
