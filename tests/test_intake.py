"""Everything Alice sends gets an answer, and nothing she sends goes out twice.

Alice runs Boots on Haymarket and sends the way a phone makes it easy: a photo,
then the words as the next message; an album with one caption; a few words with
no command; "ALERT …" in the group; a video; the same alert again when the
signal drops; an edit of an alert she got wrong. Each story counts what she has
to do (messages sent, buttons pressed) and what reaches the log and the chats.
"""

from __future__ import annotations

import importlib.util
import io
from datetime import timedelta

import av
from PIL import Image

from broadcast import voice_notes
from broadcast.intake import VOICE_NOTE
from broadcast.radio import audio
from broadcast.radio.speech import EspeakSynthesizer
from broadcast.texts import intake as words
from config.vocabulary import MemberStatus, Role, RoleOrigin, Urgency
from handlers.intake import expire_offers
from sandbox import MessageView, Person
from storage.models import Member, Report, utcnow
from tests.radio_needs import missing, need_espeak
from tests.test_alerts import (
    NORWICH,
    NORWICH_CONTROL_ROOM,
    NORWICH_GROUP,
    THEFT,
    alice,
    copies,
    copies_in,
    every_copy_says,
    phone_photo,
    said_in,
    the_log,
)
from tests.town import Town

PHOTO_BUTTONS = [words.BUTTON_SEND_AS_ALERT, words.BUTTON_ADD_WORDS, words.BUTTON_CANCEL]
TEXT_BUTTONS = [words.BUTTON_SEND_NOW, words.BUTTON_LOG_ONLY, words.BUTTON_CANCEL]
HEARING = 60.0
"""Seconds the bot may take to load its speech engine and hear a note on a busy machine."""
RED_COAT = "man in red coat stealing from my shop right now heading to market"


def labels(message: MessageView) -> list[str]:
    return [button.text for row in message.buttons for button in row]


def another_photo(colour: tuple[int, int, int]) -> bytes:
    image = Image.new("RGB", (480, 640), colour)
    out = io.BytesIO()
    image.save(out, format="JPEG")
    return out.getvalue()


def phone_video(colour: tuple[int, int, int] = (200, 40, 40)) -> bytes:
    """An MP4 as a phone films it: a dark first moment, then the scene."""
    out = io.BytesIO()
    with av.open(out, mode="w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height = 160, 120
        stream.pix_fmt = "yuv420p"
        for number in range(12):
            scene = Image.new("RGB", (160, 120), (0, 0, 0) if number < 3 else colour)
            frame = av.VideoFrame.from_image(scene)  # type: ignore[no-untyped-call]
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return out.getvalue()


async def bob_from_the_schemes_file(town: Town) -> Person:
    """Bob, in the group, is listed in the schemes file and never wrote to the bot: it may
    not write to him first."""
    scheme = await town.runtime.store.schemes.get_by_slug("norwich")
    assert scheme.id is not None
    bob = town.person(5_000_000_131, "Bob")
    await town.runtime.store.members.add(
        Member(
            scheme_id=scheme.id,
            telegram_user_id=bob.id,
            display_name="Bob",
            role=Role.COORDINATOR,
            role_origin=RoleOrigin.FILE,
            status=MemberStatus.ACTIVE,
        )
    )
    town.group.add_member(bob)
    return bob


async def now_reads(town: Town, message: MessageView, beginning: str) -> MessageView:
    """The bot's message once it has been edited to begin so."""

    def edited() -> MessageView | None:
        now = town.sandbox.refresh(message)
        return now if now.body.startswith(beginning) else None

    return await town.sandbox.wait_for(edited, message=f"the message reading {beginning!r}")


async def photos_of(town: Town, report: Report) -> int:
    assert report.id is not None
    return len(await town.runtime.store.reports.photos(report.id))


# --- a photo, then its words ----------------------------------------------------------------


async def test_a_photo_and_then_its_words_are_one_alert(town: Town) -> None:
    shopkeeper = await alice(town)

    await shopkeeper.send_photo(town.bot, phone_photo())
    question = await shopkeeper.next_reply(town.bot)
    await shopkeeper.send(town.bot, THEFT)
    confirmation = await shopkeeper.next_reply(town.bot)

    assert question.body == words.photo_question(1)
    assert labels(question) == PHOTO_BUTTONS
    assert confirmation.body.startswith("Alert sent to the group, the control room")
    [report] = await the_log(town)
    assert report.description == THEFT
    assert await photos_of(town, report) == 1
    received = await copies(town, NORWICH)
    assert all(copy.photo is not None for copy in received.values())
    assert all(
        copy.body.startswith("🚨 Theft – happening now\n" + THEFT) for copy in received.values()
    )
    await now_reads(town, question, words.sent_with_words(report.id or 0))
    assert labels(town.sandbox.refresh(question)) == []
    assert len(copies_in(town, NORWICH_GROUP)) == 1, "two messages, one alert"


async def test_a_photo_without_words_in_the_group_is_asked_about_in_her_private_chat(
    town: Town,
) -> None:
    """The group sees Alice's photo and then the alert's copy, never the question; her
    words typed in the private chat are its caption, one alert."""
    shopkeeper = await alice(town)
    town.group.add_member(shopkeeper)
    shopkeeper.open_chat(town.bot)
    in_the_group = len(town.sandbox.chat_messages(town.bot, town.group))

    await shopkeeper.send_photo(town.group, phone_photo())
    question = await shopkeeper.next_reply(town.bot)
    assert question.body == words.photo_question(1)
    assert labels(question) == PHOTO_BUTTONS
    assert len(town.sandbox.chat_messages(town.bot, town.group)) == in_the_group + 1, (
        "her photo only: no question in the group"
    )

    await shopkeeper.send(town.bot, THEFT)
    confirmation = await shopkeeper.next_reply(town.bot)

    assert confirmation.body.startswith("Alert sent to the group, the control room")
    [report] = await the_log(town)
    assert report.description == THEFT
    await now_reads(town, question, words.sent_with_words(report.id or 0))
    await copies(town, NORWICH)
    assert len(copies_in(town, NORWICH_GROUP)) == 1, "two messages, one alert"
    from_the_bot = [m for m in town.sandbox.chat_messages(town.bot, town.group) if m.from_bot]
    assert all(labels(m) == [] for m in from_the_bot), "no button in the group"


async def test_a_photo_without_words_in_the_group_from_someone_never_started_is_one_line(
    town: Town,
) -> None:
    bob = await bob_from_the_schemes_file(town)

    await bob.send_photo(town.group, phone_photo())
    told = await said_in(town, town.group, "Bob, that photo")

    assert told.body == words.group_photo_start_me("Bob", "shopwatch_bot")
    assert labels(told) == []
    assert await the_log(town) == []
    assert not [m for m in town.sandbox.chat_messages(town.bot, bob) if m.from_bot]


async def test_a_lone_photo_sent_as_it_is_goes_out_once_however_often_pressed(
    town: Town,
) -> None:
    shopkeeper = await alice(town)
    await shopkeeper.send_photo(town.bot, phone_photo())
    question = await shopkeeper.next_reply(town.bot)

    await shopkeeper.press(question, words.BUTTON_SEND_AS_ALERT, timeout=None)
    await shopkeeper.press(question, words.BUTTON_SEND_AS_ALERT, timeout=None)  # a double tap
    card = await now_reads(town, question, "Alert sent")

    [report] = await the_log(town)
    assert report.description == words.PHOTO_WITHOUT_WORDS
    assert await photos_of(town, report) == 1
    assert words.BUTTON_SEND_AS_ALERT not in labels(card)
    await copies(town, NORWICH)
    assert len(copies_in(town, NORWICH_CONTROL_ROOM)) == 1


async def test_add_words_asks_for_them_and_the_answer_goes_with_the_photo(town: Town) -> None:
    shopkeeper = await alice(town)
    await shopkeeper.send_photo(town.bot, phone_photo())
    question = await shopkeeper.next_reply(town.bot)

    await shopkeeper.press(question, words.BUTTON_ADD_WORDS)
    await now_reads(town, question, words.ASK_FOR_WORDS)
    await shopkeeper.send(town.bot, THEFT)
    confirmation = await shopkeeper.next_reply(town.bot)

    assert confirmation.body.startswith("Alert sent")
    [report] = await the_log(town)
    assert (report.description, await photos_of(town, report)) == (THEFT, 1)


async def test_a_photo_nobody_answers_expires_with_a_note_and_nothing_goes_out(
    town: Town,
) -> None:
    shopkeeper = await alice(town)
    await shopkeeper.send_photo(town.bot, phone_photo())
    unanswered = await shopkeeper.next_reply(town.bot)
    await shopkeeper.send_photo(town.bot, another_photo((10, 200, 10)))
    question = await shopkeeper.next_reply(town.bot)
    await shopkeeper.press(question, words.BUTTON_CANCEL)
    await now_reads(town, question, words.CANCELLED)

    expired = await expire_offers(town.runtime.application, utcnow() + timedelta(minutes=16))
    await now_reads(town, unanswered, words.expired(words.EXPIRED_PHOTO))
    assert labels(town.sandbox.refresh(unanswered)) == []
    await shopkeeper.send(town.bot, THEFT)
    later = await shopkeeper.next_reply(town.bot)

    assert expired == 1, "the cancelled one was finished already"
    assert later.body == words.text_offer(THEFT), "words sent later are asked about anew"
    assert await the_log(town) == []
    assert all(copies_in(town, chat) == [] for chat in NORWICH)


# --- an album -------------------------------------------------------------------------------


async def test_an_album_with_one_caption_is_one_alert_with_all_its_photos(town: Town) -> None:
    shopkeeper = await alice(town)
    album = [phone_photo(), another_photo((10, 200, 10)), another_photo((10, 10, 200))]

    await shopkeeper.send_album(town.bot, album, caption=THEFT)
    confirmation = await shopkeeper.next_reply(town.bot)

    assert confirmation.body.startswith("Alert sent")
    [report] = await the_log(town)
    assert report.description == THEFT
    assert await photos_of(town, report) == 3
    await copies(town, NORWICH)

    def group_photos() -> list[MessageView] | None:
        said = town.sandbox.chat_messages(town.bot, town.group)
        shown = [m for m in said if m.from_bot and m.photo]
        return shown if len(shown) >= 3 else None

    shown = await town.sandbox.wait_for(group_photos, message="the album in the group")
    assert len(shown) == 3, "the card with the first photo, the other two beneath it"
    assert len(copies_in(town, NORWICH_GROUP)) == 1
    assert town.bot_said(shopkeeper) == [confirmation.body], "one answer, not one a photo"


async def test_an_album_without_words_is_asked_about_once(town: Town) -> None:
    shopkeeper = await alice(town)
    await shopkeeper.send_album(town.bot, [phone_photo(), another_photo((10, 200, 10))])
    question = await shopkeeper.next_reply(town.bot)
    await shopkeeper.send(town.bot, THEFT)
    await shopkeeper.next_reply(town.bot)

    assert question.body == words.photo_question(2)
    [report] = await the_log(town)
    assert await photos_of(town, report) == 2


async def test_an_album_without_words_in_the_group_is_asked_about_privately(
    town: Town,
) -> None:
    shopkeeper = await alice(town)
    town.group.add_member(shopkeeper)
    shopkeeper.open_chat(town.bot)

    await shopkeeper.send_album(town.group, [phone_photo(), another_photo((10, 200, 10))])
    question = await shopkeeper.next_reply(town.bot)
    await shopkeeper.press(question, words.BUTTON_SEND_AS_ALERT)
    confirmation = await now_reads(town, question, "Alert sent")

    assert question.body == words.photo_question(2)
    assert labels(confirmation) == ["Suspicious · Change", "Log only", "Stood down / Wrong person"]
    [report] = await the_log(town)
    assert await photos_of(town, report) == 2
    await copies(town, NORWICH)
    from_the_bot = [m for m in town.sandbox.chat_messages(town.bot, town.group) if m.from_bot]
    assert all(labels(m) == [] for m in from_the_bot), "no question or button in the group"


# --- words with no command ------------------------------------------------------------------


async def test_plain_words_are_offered_and_a_double_press_sends_once(town: Town) -> None:
    shopkeeper = await alice(town)

    await shopkeeper.send(town.bot, RED_COAT)
    offer = await shopkeeper.next_reply(town.bot)
    await shopkeeper.press(offer, words.BUTTON_SEND_NOW, timeout=None)
    await shopkeeper.press(offer, words.BUTTON_SEND_NOW, timeout=None)  # a double tap
    await now_reads(town, offer, "Alert sent")

    assert offer.body == words.text_offer(RED_COAT)
    assert labels(offer) == TEXT_BUTTONS
    [report] = await the_log(town)
    assert report.description == RED_COAT
    await copies(town, NORWICH)
    assert len(copies_in(town, NORWICH_CONTROL_ROOM)) == 1


async def test_a_pressed_offer_button_answers_that_offer_only(town: Town) -> None:
    shopkeeper = await alice(town)
    await shopkeeper.send(town.bot, RED_COAT)
    first = await shopkeeper.next_reply(town.bot)
    await shopkeeper.send(town.bot, "alert two lads by the tills filling a bag with razors")
    second = await shopkeeper.next_reply(town.bot)

    await shopkeeper.press(second, words.BUTTON_LOG_ONLY)
    await now_reads(town, second, "Kept in the log")
    await shopkeeper.press(first, words.BUTTON_CANCEL)
    await now_reads(town, first, words.CANCELLED)

    [report] = await the_log(town)
    assert second.body == words.text_offer("two lads by the tills filling a bag with razors")
    assert report.description == "two lads by the tills filling a bag with razors"
    assert report.urgency == Urgency.LOG
    assert labels(town.sandbox.refresh(second)) == [], "the offer is answered"
    assert all(copies_in(town, chat) == [] for chat in NORWICH), "log only reaches no chat"


async def test_alert_in_the_group_is_offered_privately_and_then_reaches_the_control_room(
    town: Town,
) -> None:
    shopkeeper = await alice(town)
    town.group.add_member(shopkeeper)
    shopkeeper.open_chat(town.bot)

    await shopkeeper.send(town.group, "ALERT man in red coat stealing from M&S now")
    told = await shopkeeper.next_reply(town.group)
    offer = await shopkeeper.next_reply(town.bot)
    await shopkeeper.press(offer, words.BUTTON_SEND_NOW)

    assert told.body == words.group_offer_sent("Alice")
    assert offer.body == words.text_offer("man in red coat stealing from M&S now")
    [report] = await the_log(town)
    assert report.description == "man in red coat stealing from M&S now"
    await copies(town, [NORWICH_CONTROL_ROOM])


async def test_alert_in_the_group_from_someone_who_never_started_the_bot_is_told_how(
    town: Town,
) -> None:
    scheme = await town.runtime.store.schemes.get_by_slug("norwich")
    assert scheme.id is not None
    bob = town.person(5_000_000_131, "Bob")
    await town.runtime.store.members.add(  # listed in the schemes file, never wrote to the bot
        Member(
            scheme_id=scheme.id,
            telegram_user_id=bob.id,
            display_name="Bob",
            role=Role.COORDINATOR,
            role_origin=RoleOrigin.FILE,
            status=MemberStatus.ACTIVE,
        )
    )
    town.group.add_member(bob)

    await bob.send(town.group, "🚨 lad in grey hoodie legged it with two bottles of gin")
    told = await bob.next_reply(town.group)

    assert told.body == words.group_offer_how(
        "Bob", "shopwatch_bot", "lad in grey hoodie legged it with two bottles of gin"
    )
    assert await the_log(town) == []


# --- doubles --------------------------------------------------------------------------------


async def test_the_same_alert_again_is_caught_and_sent_only_if_she_insists(town: Town) -> None:
    shopkeeper = await alice(town)
    await shopkeeper.send(town.bot, f"/alert {THEFT}")
    await shopkeeper.next_reply(town.bot)

    await shopkeeper.send(town.bot, f"/alert {THEFT}")
    caught = await shopkeeper.next_reply(town.bot)
    [report] = await the_log(town)
    await shopkeeper.press(caught, words.BUTTON_SEND_AGAIN)
    await now_reads(town, caught, "Alert sent")

    assert caught.body == words.double(report.id or 0)
    assert labels(caught) == [words.BUTTON_SEND_AGAIN, words.BUTTON_CANCEL]
    assert len(await the_log(town)) == 2


async def test_the_same_photo_with_other_words_is_caught_by_its_hash(town: Town) -> None:
    shopkeeper = await alice(town)
    photo = phone_photo()
    await shopkeeper.send_photo(town.bot, photo, caption=THEFT)
    await shopkeeper.next_reply(town.bot)

    await shopkeeper.send_photo(town.bot, photo, caption="same man again, grey hoodie")
    caught = await shopkeeper.next_reply(town.bot)
    await shopkeeper.press(caught, words.BUTTON_CANCEL)

    [report] = await the_log(town)
    assert caught.body == words.double(report.id or 0)
    await copies(town, NORWICH)
    assert len(copies_in(town, NORWICH_GROUP)) == 1


async def test_the_same_alert_again_in_the_group_is_asked_about_in_her_private_chat(
    town: Town,
) -> None:
    """Alice's phone sends her group alert twice: the question and its buttons are hers
    alone, in her private chat; the group sees the copies and nothing more."""
    shopkeeper = await alice(town)
    town.group.add_member(shopkeeper)
    shopkeeper.open_chat(town.bot)
    await shopkeeper.send(town.group, f"/alert {THEFT}")
    await shopkeeper.next_reply(town.bot)
    await copies(town, NORWICH)
    in_the_group = len(town.sandbox.chat_messages(town.bot, town.group))

    await shopkeeper.send(town.group, f"/alert {THEFT}")
    caught = await shopkeeper.next_reply(town.bot)
    [report] = await the_log(town)

    assert caught.body == words.group_double(report.id or 0)
    assert labels(caught) == [words.BUTTON_SEND_AGAIN, words.BUTTON_CANCEL]
    assert len(town.sandbox.chat_messages(town.bot, town.group)) == in_the_group + 1, (
        "her second message only"
    )
    await shopkeeper.press(caught, words.BUTTON_SEND_AGAIN)
    await now_reads(town, caught, "Alert sent")
    assert len(await the_log(town)) == 2
    await copies(town, NORWICH, count=2)
    from_the_bot = [m for m in town.sandbox.chat_messages(town.bot, town.group) if m.from_bot]
    assert all(labels(m) == [] for m in from_the_bot), "no question or button in the group"


async def test_the_same_alert_again_from_someone_the_bot_may_not_write_to_is_one_line(
    town: Town,
) -> None:
    bob = await bob_from_the_schemes_file(town)
    await bob.send(town.group, f"/alert {THEFT}")
    await said_in(town, town.group, "Report #")

    await bob.send(town.group, f"/alert {THEFT}")
    told = await said_in(town, town.group, "Bob, you sent this")

    [report] = await the_log(town)
    assert told.body == words.group_double_start_me(report.id or 0, "Bob", "shopwatch_bot")
    assert labels(told) == []
    said = [m.body for m in town.sandbox.chat_messages(town.bot, town.group) if m.from_bot]
    assert sum(body.startswith("Bob, you sent this") for body in said) == 1
    assert not [m for m in town.sandbox.chat_messages(town.bot, bob) if m.from_bot]


# --- an edit --------------------------------------------------------------------------------


async def test_editing_the_alert_message_corrects_every_copy(town: Town) -> None:
    shopkeeper = await alice(town)
    sent = await shopkeeper.send(town.bot, "/alert red jakcet, took perfume, heading to Haymarket")
    await shopkeeper.next_reply(town.bot)
    await copies(town, NORWICH)

    await shopkeeper.edit(sent, "/alert red jacket, took perfume, heading to Timber Hill")
    answer = await shopkeeper.next_reply(town.bot)

    [report] = await the_log(town)
    assert answer.body == words.correction_added(report.id or 0)
    await every_copy_says(town, NORWICH, "red jacket, took perfume, heading to Timber Hill")


# --- a video --------------------------------------------------------------------------------


async def test_a_video_goes_out_with_a_still_of_it_as_the_photo(town: Town) -> None:
    shopkeeper = await alice(town)

    await shopkeeper.send_video(town.bot, phone_video(), caption=THEFT, width=160, height=120)
    confirmation = await shopkeeper.next_reply(town.bot)

    assert confirmation.body.startswith("Alert sent")
    [report] = await the_log(town)
    assert await photos_of(town, report) == 1
    received = await copies(town, [NORWICH_GROUP])
    still = received[NORWICH_GROUP].photo
    assert still is not None
    with Image.open(io.BytesIO(still)) as image:
        red, green, _ = image.convert("RGB").getpixel((80, 60))  # type: ignore[misc]
    assert red > 150 > green, "a frame of the scene, not the dark first moment"


async def test_an_mp4_sent_as_a_file_or_a_round_video_is_a_video_not_that_photo(
    town: Town,
) -> None:
    shopkeeper: Person = await alice(town)
    await shopkeeper.send_document(
        town.bot, phone_video(), "clip.mp4", caption=THEFT, mime_type="video/mp4"
    )
    first = await shopkeeper.next_reply(town.bot)
    await shopkeeper.send_video_note(town.bot, phone_video((40, 40, 200)))
    question = await shopkeeper.next_reply(town.bot)
    await shopkeeper.send_document(town.bot, b"\x00\x00\x00 not a film", "clip.mp4", THEFT)
    broken = await shopkeeper.next_reply(town.bot)

    assert first.body.startswith("Alert sent")
    assert question.body == words.photo_question(1)
    assert broken.body == words.VIDEO_UNREADABLE
    assert "photo cannot be used" not in broken.body
    [report] = await the_log(town)
    assert await photos_of(town, report) == 1


# --- a voice note, with the radio off -------------------------------------------------------


async def test_a_voice_note_is_heard_offered_with_its_words_and_kept_with_the_report(
    polling_town: Town,
) -> None:
    need_espeak()
    if not voice_notes.can_read_audio() or importlib.util.find_spec("pocketsphinx") is None:
        missing("the radio extra (soundfile, numpy, pocketsphinx) is not installed")
    town = polling_town
    shopkeeper = await alice(town)
    speech = await EspeakSynthesizer().synthesize("man in a red coat stealing razor blades")
    note = audio.ogg_opus_bytes(audio.silence(0.3) + speech + audio.silence(0.3))

    await shopkeeper.send_voice(town.bot, note, duration=3)
    offer = await shopkeeper.next_reply(town.bot, timeout=HEARING)
    await shopkeeper.press(offer, words.BUTTON_SEND_NOW)
    await now_reads(town, offer, "Alert sent")

    [report] = await the_log(town)
    assert report.description, "the words as heard"
    assert offer.body == words.voice_offer(report.description)
    assert labels(offer) == TEXT_BUTTONS
    assert report.id is not None
    [kept] = [
        e for e in await town.runtime.store.reports.events(report.id) if e.status == VOICE_NOTE
    ]
    assert kept.text is not None
    path = kept.text.split("recording ", 1)[1].split(":", 1)[0]
    recording = town.runtime.settings.data_dir / path
    assert recording.is_file()
    assert audio.read_audio(recording.read_bytes()), "the recording plays"
    await copies(town, NORWICH)


async def test_a_voice_note_that_is_not_sound_is_answered_and_nothing_is_kept(
    polling_town: Town,
) -> None:
    town = polling_town
    shopkeeper = await alice(town)

    await shopkeeper.send_voice(town.bot, b"OggS not really a voice note", duration=2)
    answer = await shopkeeper.next_reply(town.bot)

    assert answer.body in (words.VOICE_UNREADABLE, words.VOICE_NO_ENGINE)
    assert await the_log(town) == []
