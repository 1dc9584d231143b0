"""The Bot API sandbox, driven by the unmodified python-telegram-bot client over HTTP."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta

import aiohttp
import pytest
import telegram
from aiohttp import web
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    MessageEntity,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken, RetryAfter
from telegram.ext import Application, ApplicationBuilder, CommandHandler, ContextTypes

from sandbox import (
    BotApiSandbox,
    BotHandle,
    Person,
    SandboxLimits,
    SandboxTimeoutError,
    SandboxUsageError,
)
from tests.sandbox_fixtures import (
    client_fixture,
    client_for,
    make_jpeg,
    sandbox_fixture,
    shop_bot_fixture,
)

__all__ = ["client_fixture", "sandbox_fixture", "shop_bot_fixture"]

NORWICH = -1001000000001
KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("On camera", callback_data="status:camera"),
            InlineKeyboardButton("Lost", callback_data="status:lost"),
        ]
    ]
)


@asynccontextmanager
async def webhook_receiver(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> AsyncIterator[str]:
    """A webhook endpoint on a loopback port; yields its URL."""
    app = web.Application()
    app.router.add_post("/hook", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        yield f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    finally:
        await runner.cleanup()


@pytest.fixture
async def alice(sandbox: BotApiSandbox, shop_bot: BotHandle) -> Person:
    """Alice, who has started the bot (so it may write to her)."""
    person = sandbox.user(700001, "Alice", username="alice")
    person.open_chat(shop_bot)
    return person


async def test_get_me_describes_the_bot(client: telegram.Bot, shop_bot: BotHandle) -> None:
    me = await client.get_me()
    assert (me.id, me.username, me.is_bot) == (shop_bot.id, "shopwatch_bot", True)
    assert me.can_read_all_group_messages


async def test_sent_message_is_held_by_the_chat(
    sandbox: BotApiSandbox, client: telegram.Bot, shop_bot: BotHandle, alice: Person
) -> None:
    sent = await client.send_message(
        alice.id,
        "\n  Heads up: grey hoodie, Market St  \n",
        entities=[MessageEntity(MessageEntity.BOLD, 3, 8)],
        reply_markup=KEYBOARD,
        protect_content=True,
    )
    # Telegram trims the text and moves the entities with it.
    assert sent.text == "Heads up: grey hoodie, Market St"
    assert sent.entities == (MessageEntity(MessageEntity.BOLD, 0, 8),)
    [held] = sandbox.chat_messages(shop_bot, alice)
    assert held.message_id == sent.message_id
    assert held.from_bot
    assert held.text == "Heads up: grey hoodie, Market St"
    assert held.entities == (MessageEntity(MessageEntity.BOLD, 0, 8),)
    assert held.source_text == "\n  Heads up: grey hoodie, Market St  \n"
    assert held.protect_content
    assert held.button_texts == ["On camera", "Lost"]
    assert (await alice.next_reply(shop_bot)).message_id == sent.message_id


async def test_person_messages_arrive_through_get_updates_with_offsets(
    sandbox: BotApiSandbox, client: telegram.Bot, shop_bot: BotHandle, alice: Person
) -> None:
    await alice.send(shop_bot, "/start")
    await alice.send(shop_bot, "hello @shopwatch_bot")
    first = await client.get_updates()
    assert [u.message.text for u in first if u.message] == ["/start", "hello @shopwatch_bot"]
    start = first[0].message
    assert start is not None
    assert start.entities == (MessageEntity(MessageEntity.BOT_COMMAND, 0, 6),)
    assert start.chat.id == alice.id
    assert start.from_user is not None
    assert start.from_user.username == "alice"
    again = await client.get_updates()
    assert [u.update_id for u in again] == [u.update_id for u in first]
    assert await client.get_updates(offset=first[-1].update_id + 1) == ()

    polls = sandbox.polls_received(shop_bot)
    waiting = asyncio.create_task(client.get_updates(offset=first[-1].update_id + 1, timeout=10))
    await sandbox.wait_for(lambda: sandbox.polls_received(shop_bot) > polls)
    # The poll is in the sandbox with nothing to give: it waits for the next message.
    await alice.send(shop_bot, "later")
    [late] = await waiting
    assert late.message is not None
    assert late.message.text == "later"


async def test_bot_cannot_write_first_or_to_unknown_chats(
    sandbox: BotApiSandbox, client: telegram.Bot
) -> None:
    stranger = sandbox.user(700099, "Stranger")
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await client.send_message(stranger.id, "hi")
    with pytest.raises(BadRequest, match="Chat not found"):
        await client.send_message(123456789, "hi")
    with pytest.raises(BadRequest, match="Chat not found"):
        await client.send_message(-100999, "hi")


async def test_text_and_caption_length_limits(client: telegram.Bot, alice: Person) -> None:
    await client.send_message(alice.id, "x" * 4096)
    with pytest.raises(BadRequest, match="Message is too long"):
        await client.send_message(alice.id, "x" * 4097)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await client.send_message(alice.id, "   ")
    with pytest.raises(BadRequest, match="Message caption is too long"):
        await client.send_photo(alice.id, make_jpeg(), caption="c" * 1025)


async def test_a_parse_mode_is_refused_by_name_and_nothing_is_posted(
    sandbox: BotApiSandbox, client: telegram.Bot, shop_bot: BotHandle, alice: Person
) -> None:
    # ShopWatch sends plain text; the sandbox parses no markup, and says so rather than
    # showing tags a phone would not.
    for mode in (ParseMode.HTML, ParseMode.MARKDOWN_V2):
        with pytest.raises(BadRequest, match=f"(?i)implements no parse_mode \\('{mode.value}'"):
            await client.send_message(alice.id, "<b>Lost</b> at 3.15pm", parse_mode=mode)
        with pytest.raises(BadRequest, match="implements no parse_mode"):
            await client.send_photo(alice.id, make_jpeg(), caption="*Lost*", parse_mode=mode)
    assert sandbox.chat_messages(shop_bot, alice) == []
    sent = await client.send_message(alice.id, "<b>Lost</b> at 3.15pm")
    assert sent.text == "<b>Lost</b> at 3.15pm"
    assert sent.entities == ()


async def test_blasting_a_group_hits_the_flood_limit(
    sandbox: BotApiSandbox,
    client: telegram.Bot,
    shop_bot: BotHandle,
    alice: Person,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")
    sandbox.limits = SandboxLimits(enabled=True, per_group_per_minute=20)
    sandbox.group(NORWICH, "Norwich ShopWatch", [alice], bots=[shop_bot])
    for number in range(20):
        await client.send_message(NORWICH, f"alert {number}")
    with pytest.raises(RetryAfter) as raised:
        await client.send_message(NORWICH, "one too many")
    retry_after = raised.value.retry_after
    assert isinstance(retry_after, dtm.timedelta)
    assert retry_after > dtm.timedelta(0)
    assert len(sandbox.chat_messages(None, NORWICH)) == 20


async def test_a_chats_newer_messages_are_read_from_where_a_reader_left_off(
    sandbox: BotApiSandbox, client: telegram.Bot, shop_bot: BotHandle, alice: Person
) -> None:
    norwich = sandbox.group(NORWICH, "Norwich ShopWatch", [alice], bots=[shop_bot])
    assert sandbox.last_message_id(None, NORWICH) == 0
    for number in range(3):
        await client.send_message(NORWICH, f"alert {number}")
    seen = sandbox.last_message_id(None, NORWICH)
    await alice.send(norwich, "seen it")
    await client.send_message(NORWICH, "alert 3")

    newer = sandbox.chat_messages(None, NORWICH, after=seen)

    assert [m.body for m in newer] == ["seen it", "alert 3"]
    assert len(sandbox.chat_messages(None, NORWICH)) == 5
    assert sandbox.chat_messages(None, NORWICH, after=newer[-1].message_id) == []


async def test_private_chat_allows_a_short_burst_only(
    sandbox: BotApiSandbox, client: telegram.Bot, alice: Person, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # else PTB 22 warns on every RetryAfter
    sandbox.limits = SandboxLimits(enabled=True, per_chat_per_second=1, per_chat_burst=3)
    for _ in range(3):
        await client.send_message(alice.id, "ok")
    with pytest.raises(RetryAfter):
        await client.send_message(alice.id, "too fast")


async def test_blocked_user_and_kicked_bot_answer_403(
    sandbox: BotApiSandbox, client: telegram.Bot, shop_bot: BotHandle, alice: Person
) -> None:
    await client.send_message(alice.id, "welcome")
    alice.block(shop_bot)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await client.send_message(alice.id, "still there?")
    group = sandbox.group(NORWICH, "Norwich ShopWatch", [alice], bots=[shop_bot])
    await client.send_message(NORWICH, "hello group")
    sandbox.kick_bot(shop_bot, group, by=alice)
    with pytest.raises(Forbidden, match="bot was kicked from the supergroup chat"):
        await client.send_message(NORWICH, "anyone?")
    updates = await client.get_updates()
    statuses = [u.my_chat_member.new_chat_member.status for u in updates if u.my_chat_member]
    assert statuses == ["kicked", "kicked"]


async def test_photo_upload_downloads_byte_identical(
    sandbox: BotApiSandbox, client: telegram.Bot, shop_bot: BotHandle, alice: Person
) -> None:
    jpeg = make_jpeg(320, 240)
    sent = await client.send_photo(alice.id, jpeg, caption="grey hoodie")
    [size] = sent.photo
    assert (size.width, size.height) == (320, 240)
    remote = await client.get_file(size.file_id)
    assert bytes(await remote.download_as_bytearray()) == jpeg
    assert await sandbox.download(size.file_id) == jpeg
    [held] = sandbox.chat_messages(shop_bot, alice)
    assert (held.photo, held.caption) == (jpeg, "grey hoodie")

    again = await client.send_photo(alice.id, size.file_id)
    assert again.photo[0].file_unique_id == size.file_unique_id
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await client.send_photo(alice.id, "AgACAgQAAxkBnotAFileId")
    with pytest.raises(BadRequest, match="Image_process_failed"):
        await client.send_photo(alice.id, b"not a jpeg")


async def test_a_persons_photo_reaches_the_bot_and_downloads(
    client: telegram.Bot, shop_bot: BotHandle, alice: Person
) -> None:
    jpeg = make_jpeg(100, 80, "red")
    await alice.send_photo(shop_bot, jpeg, caption="suspect #theft")
    [update] = await client.get_updates()
    assert update.message is not None
    assert update.message.caption == "suspect #theft"
    photo = update.message.photo[-1]
    downloaded = await (await client.get_file(photo.file_id)).download_as_bytearray()
    assert bytes(downloaded) == jpeg


async def test_media_group_and_document(
    sandbox: BotApiSandbox, client: telegram.Bot, shop_bot: BotHandle, alice: Person
) -> None:
    first, second = make_jpeg(colour="blue"), make_jpeg(colour="green")
    album = await client.send_media_group(
        alice.id, [InputMediaPhoto(first, caption="front"), InputMediaPhoto(second)]
    )
    assert len({m.media_group_id for m in album}) == 1
    report = await client.send_document(alice.id, b"date,shop\n", filename="weekly.csv")
    assert report.document is not None
    assert report.document.file_name == "weekly.csv"
    held = sandbox.chat_messages(shop_bot, alice)
    assert [m.photo for m in held[:2]] == [first, second]
    assert held[0].caption == "front"
    assert held[2].document is not None
    assert (held[2].document.file_name, held[2].document.data) == ("weekly.csv", b"date,shop\n")


async def test_a_persons_album_arrives_as_one_update_a_photo_sharing_its_group(
    client: telegram.Bot, shop_bot: BotHandle, alice: Person
) -> None:
    front, side = make_jpeg(colour="blue"), make_jpeg(colour="green")
    await alice.send_album(shop_bot, [front, side], caption="two of him")
    updates = await client.get_updates()
    messages = [u.message for u in updates if u.message is not None]
    assert len(updates) == len(messages) == 2, "Telegram sends each album item on its own"
    assert messages[0].media_group_id is not None
    assert messages[0].media_group_id == messages[1].media_group_id
    assert [m.caption for m in messages] == ["two of him", None]
    fetched = [
        bytes(await (await client.get_file(m.photo[-1].file_id)).download_as_bytearray())
        for m in messages
    ]
    assert fetched == [front, side]
    with pytest.raises(SandboxUsageError):
        await alice.send_album(shop_bot, [front])


async def test_a_persons_video_and_round_video_arrive_as_telegram_describes_them(
    client: telegram.Bot, shop_bot: BotHandle, alice: Person
) -> None:
    await alice.send_video(shop_bot, b"mp4 bytes", "him again", width=320, duration=4)
    await alice.send_video_note(shop_bot, b"round", length=240, duration=2)
    video, note = [u.message for u in await client.get_updates()]
    assert video is not None
    assert video.video is not None
    assert (video.video.width, video.video.duration, video.video.mime_type) == (
        320,
        timedelta(seconds=4),
        "video/mp4",
    )
    assert video.caption == "him again"
    assert note is not None
    assert note.video_note is not None
    assert (note.video_note.length, note.video_note.duration) == (240, timedelta(seconds=2))
    assert note.caption is None
    data = await (await client.get_file(note.video_note.file_id)).download_as_bytearray()
    assert bytes(data) == b"round"


async def test_edits_change_what_the_chat_holds(
    sandbox: BotApiSandbox, client: telegram.Bot, shop_bot: BotHandle, alice: Person
) -> None:
    sent = await client.send_message(alice.id, "Theft, Market St", reply_markup=KEYBOARD)
    await client.edit_message_text("Theft, Market St: on camera", alice.id, sent.message_id)
    [held] = sandbox.chat_messages(shop_bot, alice)
    assert (held.text, held.edited) == ("Theft, Market St: on camera", True)
    assert held.buttons == (), "an edit without reply_markup drops the keyboard, as on Telegram"
    lost = InlineKeyboardMarkup([[InlineKeyboardButton("Found", callback_data="found")]])
    await client.edit_message_reply_markup(alice.id, sent.message_id, reply_markup=lost)
    assert sandbox.refresh(held).button_texts == ["Found"]
    with pytest.raises(BadRequest, match="Message is not modified"):
        await client.edit_message_reply_markup(alice.id, sent.message_id, reply_markup=lost)
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await client.edit_message_text("nope", alice.id, 999)


async def test_delete_message_only_within_48_hours(
    sandbox: BotApiSandbox, client: telegram.Bot, shop_bot: BotHandle, alice: Person
) -> None:
    recent = await client.send_message(alice.id, "delete me")
    old = await client.send_message(alice.id, "too old")
    assert await client.delete_message(alice.id, recent.message_id)
    assert sandbox.chat_messages(shop_bot, alice)[0].deleted
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await client.delete_message(alice.id, recent.message_id)
    sandbox.advance_time(49 * 3600)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await client.delete_message(alice.id, old.message_id)


async def test_button_press_round_trip(
    sandbox: BotApiSandbox, client: telegram.Bot, shop_bot: BotHandle, alice: Person
) -> None:
    sent = await client.send_message(alice.id, "Theft, Market St", reply_markup=KEYBOARD)
    [view] = sandbox.chat_messages(shop_bot, alice)
    pressing = asyncio.create_task(alice.press(view, "On camera"))
    [update] = await client.get_updates(timeout=5)
    query = update.callback_query
    assert query is not None
    assert query.data == "status:camera"
    assert query.from_user.id == alice.id
    assert query.message is not None
    assert query.message.message_id == sent.message_id
    await query.answer("Marked on camera")
    assert await pressing == "Marked on camera"
    with pytest.raises(BadRequest, match="Query is too old"):
        await query.answer("twice")
    assert '> Alice pressed [On camera]: answered "Marked on camera"' in (
        sandbox.transcript().replace("'", '"')
    )


async def test_unanswered_press_times_out(
    sandbox: BotApiSandbox, client: telegram.Bot, shop_bot: BotHandle, alice: Person
) -> None:
    await client.send_message(alice.id, "pick", reply_markup=KEYBOARD)
    [view] = sandbox.chat_messages(shop_bot, alice)
    with pytest.raises(SandboxTimeoutError, match="did not answer"):
        await alice.press(view, "Lost", timeout=0.1)
    with pytest.raises(SandboxUsageError, match="no button"):
        await alice.press(view, "Missing")


async def test_webhook_delivery_with_secret_and_retry(
    sandbox: BotApiSandbox, client: telegram.Bot, shop_bot: BotHandle, alice: Person
) -> None:
    received: asyncio.Queue[tuple[str | None, dict[str, object]]] = asyncio.Queue()
    failures = [1]

    async def receive(request: web.Request) -> web.Response:
        if failures:
            failures.pop()
            return web.Response(status=502)
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        await received.put((secret, await request.json()))
        return web.Response()

    async with webhook_receiver(receive) as url:
        assert await client.set_webhook(url, secret_token="s3cret-Token")
        with pytest.raises(Conflict, match="webhook is active"):
            await client.get_updates()
        await alice.send(shop_bot, "/start")
        secret, body = await asyncio.wait_for(received.get(), 5)
        assert secret == "s3cret-Token"
        update = Update.de_json(body, client)
        assert update.message is not None
        assert update.message.text == "/start"
        info = await client.get_webhook_info()
        assert info.url == url
        assert info.last_error_message == "Wrong response from the webhook: 502 Bad Gateway"
        await sandbox.wait_for(lambda: sandbox.pending_updates(shop_bot) == 0)
        assert await client.delete_webhook()
    assert await client.get_updates() == ()


async def test_malformed_json_unknown_token_and_method(
    sandbox: BotApiSandbox, shop_bot: BotHandle
) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{sandbox.base_url}{shop_bot.token}/sendMessage",
            data=b"{not json",
            headers={"Content-Type": "application/json"},
        ) as response:
            assert response.status == 400
            assert (await response.json())["ok"] is False
        async with session.post(f"{sandbox.base_url}{shop_bot.token}/sendSticker2") as response:
            assert (response.status, (await response.json())["description"]) == (
                404,
                "Not Found",
            )
        async with session.post(f"{sandbox.base_url}{shop_bot.token}/GETME") as response:
            assert (await response.json())["result"]["username"] == "shopwatch_bot"
    with pytest.raises(InvalidToken):
        async with telegram.Bot("12345:unknown", base_url=sandbox.base_url) as stranger:
            await stranger.get_me()


async def test_json_and_form_bodies_with_nested_markup(
    sandbox: BotApiSandbox, shop_bot: BotHandle, alice: Person
) -> None:
    url = f"{sandbox.base_url}{shop_bot.token}/sendMessage"
    markup = KEYBOARD.to_dict()
    async with aiohttp.ClientSession() as session:
        async with session.post(
            url, json={"chat_id": alice.id, "text": "json", "reply_markup": markup}
        ) as response:
            assert (await response.json())["ok"]
        form = {"chat_id": str(alice.id), "text": "form", "reply_markup": json.dumps(markup)}
        async with session.post(url, data=form) as response:
            assert (await response.json())["ok"]
    held = sandbox.chat_messages(shop_bot, alice)
    assert [(m.text, m.button_texts) for m in held] == [
        ("json", ["On camera", "Lost"]),
        ("form", ["On camera", "Lost"]),
    ]


async def test_group_messages_reach_every_bot_but_not_bots_messages(
    sandbox: BotApiSandbox, client: telegram.Bot, shop_bot: BotHandle, alice: Person
) -> None:
    other = sandbox.add_bot("7000000002:AAHsecondDeploymentToken", "radio_bridge_bot")
    group = sandbox.group(NORWICH, "Norwich ShopWatch", [alice], bots=[shop_bot, other])
    async with client_for(sandbox, other) as second:
        await second.send_message(NORWICH, "radio: suspect heading north")
        await alice.send(group, "seen him")
        for bot in (client, second):
            [update] = await bot.get_updates()
            assert update.message is not None
            assert update.message.text == "seen him"
            assert update.message.chat.type == "supergroup"
    reply = await alice.next_reply(group, from_bot=other)
    assert reply.text == "radio: suspect heading north"


async def test_stop_releases_a_waiting_long_poll(client: telegram.Bot) -> None:
    sandbox = BotApiSandbox(limits=SandboxLimits.off())
    await sandbox.start()
    bot = sandbox.add_bot("7000000003:AAHlongPollToken", "poll_bot")
    async with client_for(sandbox, bot) as poller:
        waiting = asyncio.create_task(poller.get_updates(timeout=30))
        await sandbox.wait_for(lambda: sandbox.polls_received(bot) == 1)
        await sandbox.stop()
        assert await asyncio.wait_for(waiting, 5) == ()


async def test_application_replies_to_start_end_to_end(
    sandbox: BotApiSandbox, shop_bot: BotHandle, alice: Person
) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("Welcome to Norwich ShopWatch", do_quote=True)

    app: Application = (  # type: ignore[type-arg]
        ApplicationBuilder()
        .token(shop_bot.token)
        .base_url(sandbox.base_url)
        .base_file_url(sandbox.base_file_url)
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        sent = await alice.send(shop_bot, "/start")
        reply = await alice.next_reply(shop_bot, timeout=5)
        await app.updater.stop()
        await app.stop()
    assert reply.text == "Welcome to Norwich ShopWatch"
    assert reply.reply_to_message_id == sent.message_id
    assert "Welcome to Norwich ShopWatch" in sandbox.transcript()


async def test_group_membership_edits_and_copies(
    sandbox: BotApiSandbox, client: telegram.Bot, shop_bot: BotHandle, alice: Person
) -> None:
    bob = sandbox.user(700002, "Bob", username="bob_the_coordinator")
    group = sandbox.group(NORWICH, "Norwich ShopWatch", [alice], owner=bob)
    group.add_bot(shop_bot, by=bob)
    joined, welcome = await client.get_updates()
    assert joined.my_chat_member is not None
    assert joined.my_chat_member.new_chat_member.status == "administrator"
    assert welcome.message is not None
    assert [u.id for u in welcome.message.new_chat_members] == [shop_bot.id]
    owner = await client.get_chat_member(NORWICH, bob.id)
    assert owner.status == "creator"

    said = await alice.send(group, "grey hoodie, Market St")
    await alice.edit(said, "grey hoodie, now Gentleman's Walk")
    updates = await client.get_updates(offset=welcome.update_id + 1)
    edited = updates[-1].edited_message
    assert edited is not None
    assert edited.text == "grey hoodie, now Gentleman's Walk"

    protected = await client.send_message(NORWICH, "Police only", protect_content=True)
    with pytest.raises(BadRequest, match="protected content"):
        await client.copy_message(alice.id, NORWICH, protected.message_id)
    copied = await client.copy_message(alice.id, NORWICH, said.message_id)
    assert sandbox.chat_messages(shop_bot, alice)[-1].message_id == copied.message_id
    located = await client.send_location(NORWICH, 52.6284, 1.2924)
    assert located.location is not None
    assert await sandbox.wait_for(lambda: len(sandbox.chat_messages(None, group)) == 4)
