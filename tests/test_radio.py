"""The radio bridge against a real Mumble server (Debian's murmurd) and the Bot API sandbox.

The scheme's radio channel is a Mumble channel; "the control room's radio" is a
second Mumble client in it. Speech is made by the same text-to-speech engine the
bot uses and recognised by the same speech-to-text engine, so the round trip's
word error rate is printed for docs/radio.md.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PIL import Image

from broadcast.radio import audio
from broadcast.radio.channel import Arrival, TextArrival, Transmission
from broadcast.radio.checks import SERVER_FIX, radio_checks
from broadcast.radio.script import alert_script
from broadcast.radio.speech import PiperSynthesizer, build_synthesizer
from broadcast.texts import radio as radio_texts
from broadcast.texts import refusals as refusal_texts
from broadcast.texts import search as search_texts
from config.errors import Refusal
from config.schemes import RadioConfig, SchemesFile, load_schemes
from config.vocabulary import Category, MemberStatus, Role, Urgency
from sandbox import MessageView, Person
from storage.models import Member, Report
from storage.radio import NO_WORDS
from tests.murmur import Murmur
from tests.radio_needs import need_espeak, need_mumble_client
from tests.town import EXAMPLE_SCHEMES, Town, radio_of, running_town

if TYPE_CHECKING:
    from broadcast.radio.mumble import MumbleChannel

# Said into the radio by the control room; the words a shopkeeper must not miss.
CALL = "the suspect is a man in a grey hoodie heading down market street"
KEY_WORDS = ("suspect", "heading", "market", "street")
# A shopkeeper's alert, as typed under the photo.
SIGHTING = "Male 30s, grey hoodie, took razor blades. Heading to Haymarket"


@pytest.fixture
def murmur() -> Iterator[Murmur]:
    """A real murmurd, and the Mumble client with libopus to talk to it (or a skip)."""
    need_mumble_client()
    server = Murmur()
    server.start()
    try:
        yield server
    finally:
        server.close()


def with_radio(port: int) -> SchemesFile:
    """The example schemes file with Norwich's radio on, on this test's Mumble server."""
    schemes = load_schemes(EXAMPLE_SCHEMES)
    norwich = schemes.scheme("norwich")
    radio = RadioConfig(server="127.0.0.1", port=port, username="ShopWatch", spoken_name="Norwich")
    changed = norwich.model_copy(update={"radio": radio})
    return schemes.model_copy(
        update={"schemes": [changed if s.slug == "norwich" else s for s in schemes.schemes]}
    )


def mumble_channel(
    port: int,
    name: str,
    on_link: Callable[[bool, str], None] | None = None,
    idle_seconds: float = 5.0,
) -> MumbleChannel:
    """A Mumble client on this test's server; imported once libopus is known to load."""
    from broadcast.radio.mumble import MumbleChannel

    return MumbleChannel(
        "127.0.0.1",
        port,
        name,
        retry_first=0.2,
        retry_max=1.0,
        on_link=on_link,
        idle_seconds=idle_seconds,
    )


@asynccontextmanager
async def on_the_radio(port: int, name: str) -> AsyncIterator[MumbleChannel]:
    """Someone else in the channel: a plain Mumble client, as the control room's desk set.

    It hears a call as ended only when its talker marks the end (an hour's idle never
    comes in a test), so what it hears never depends on how busy the machine is.
    """
    channel = mumble_channel(port, name, idle_seconds=3600)
    await channel.start()
    try:
        async with asyncio.timeout(20):
            await channel.wait_connected()
        yield channel
    finally:
        await channel.stop()


async def bot_on_air(town: Town) -> None:
    radio = radio_of(town)
    assert radio is not None
    from broadcast.radio.mumble import MumbleChannel

    for link in radio.links.values():
        assert isinstance(link.channel, MumbleChannel)
        async with asyncio.timeout(20):
            await link.channel.wait_connected()


async def hear(channel: MumbleChannel, count: int) -> list[Arrival]:
    """The next `count` things said in the channel. The deadline is only there to end a
    test that fails: on a loaded machine the speech engine alone can take half a minute."""
    heard: list[Arrival] = []
    async with asyncio.timeout(120):
        async for arrival in channel.arrivals():
            heard.append(arrival)
            if len(heard) == count:
                break
    return heard


def word_error_rate(said: str, heard: str) -> float:
    """Word-level edit distance over the words said: 0 is perfect."""
    ref, hyp = said.lower().split(), heard.lower().split()
    row = list(range(len(hyp) + 1))
    for i, word in enumerate(ref, 1):
        previous, row[0] = row[0], i
        for j, other in enumerate(hyp, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != other))
    return row[-1] / len(ref)


def a_photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (320, 240), (90, 110, 130)).save(out, format="JPEG")
    return out.getvalue()


async def member(town: Town, user_id: int, name: str, role: Role = Role.MEMBER) -> Person:
    """An approved Norwich member (as the membership desk would leave them)."""
    scheme = await town.runtime.store.schemes.get_by_slug("norwich")
    await town.runtime.store.members.add(
        Member(
            scheme_id=scheme.id or 0,
            telegram_user_id=user_id,
            display_name=name,
            shop_name="Boots" if role == Role.MEMBER else None,
            street="Haymarket" if role == Role.MEMBER else None,
            role=role,
            status=MemberStatus.ACTIVE,
        )
    )
    return town.person(user_id, name)


def plausible_speech(said: str, heard: Transmission) -> None:
    """Audio as long as the words need: a fifth of a second to a second a word."""
    words = len(said.split())
    audio_length = heard.seconds  # of speech on air, not how long anything took
    assert words * 0.2 <= audio_length <= words * 1.0, (said, audio_length)
    assert not audio.is_silent(heard.pcm)


async def test_a_shops_photo_alert_goes_out_on_the_radio_and_so_does_the_detention(
    tmp_path: Path, murmur: Murmur
) -> None:
    schemes = with_radio(murmur.port)
    async with (
        running_town(tmp_path, schemes=schemes) as town,
        on_the_radio(murmur.port, "ControlRoom") as control_room,
    ):
        await bot_on_air(town)
        alice = await member(town, 600301, "Alice")
        dave = await member(town, 600302, "Dave", Role.OPERATOR)
        town.group.add_member(alice)
        town.control_room.add_member(dave)

        await alice.send_photo(town.group, a_photo(), caption=SIGHTING)

        heard = await hear(control_room, 2)
        [report] = await town.runtime.store.reports.recent(
            (await town.runtime.store.schemes.get_by_slug("norwich")).id or 0, limit=1
        )
        assert report.id is not None
        script = alert_script(schemes.scheme("norwich"), report)
        assert script.startswith("ShopWatch alert, Norwich. Theft. Male 30s, grey hoodie")
        assert script.endswith(f"Report {report.id}.")
        [text] = [a for a in heard if isinstance(a, TextArrival)]
        [spoken] = [a for a in heard if isinstance(a, Transmission)]
        assert (text.speaker, text.text) == ("ShopWatch", script)
        plausible_speech(script, spoken)

        def control_room_copy() -> MessageView | None:
            for message in town.sandbox.chat_messages(town.bot, town.control_room):
                if message.from_bot and "Detained" in message.button_texts:
                    return message
            return None

        card = await town.sandbox.wait_for(control_room_copy, message="no control-room copy")
        await dave.press(card, "Detained")

        heard = await hear(control_room, 2)
        detained = radio_texts.radio_status("Norwich", report.id, "detained")
        assert [a.text for a in heard if isinstance(a, TextArrival)] == [detained]
        [spoken] = [a for a in heard if isinstance(a, Transmission)]
        plausible_speech(detained, spoken)


async def test_a_radio_call_reaches_the_control_room_as_a_voice_note_with_its_transcript(
    tmp_path: Path, murmur: Murmur
) -> None:
    schemes = with_radio(murmur.port)
    async with (
        running_town(tmp_path, schemes=schemes) as town,
        on_the_radio(murmur.port, "ControlRoom") as control_room,
    ):
        await bot_on_air(town)
        store = town.runtime.store
        scheme = await store.schemes.get_by_slug("norwich")
        assert scheme.id is not None
        earlier = await store.reports.create(
            Report(
                scheme_id=scheme.id,
                category=Category.THEFT,
                urgency=Urgency.NOW,
                description="Male, grey hoodie, took razor blades",
            )
        )
        olive = town.person(600201, "Olive")
        await store.members.add(
            Member(
                scheme_id=scheme.id,
                telegram_user_id=olive.id,
                display_name="Olive",
                role=Role.OPERATOR,
                status=MemberStatus.ACTIVE,
            )
        )
        town.control_room.add_member(olive)
        speech = await PiperSynthesizer().synthesize(CALL)
        await control_room.send_speech(audio.silence(0.3) + speech)

        def voice_note() -> MessageView | None:
            for message in town.sandbox.chat_messages(town.bot, town.control_room):
                if message.from_bot and message.voice is not None:
                    return message
            return None

        note = await town.sandbox.wait_for(voice_note, timeout=120, message="no voice note")
        assert note.voice is not None
        assert note.voice.startswith(b"OggS")
        caption = note.body
        buttons = [button.text for row in note.buttons for button in row]
        assert buttons == [
            radio_texts.button_attach(earlier.id or 0),
            radio_texts.BUTTON_NEW_REPORT,
        ]
        assert caption.startswith("Radio call from ControlRoom")
        transcript = caption.split("\n", 1)[1]
        print(f"\nround trip: said {CALL!r}\n            heard {transcript!r}")
        print(
            f"word error rate (piper -> Mumble/Opus -> pocketsphinx): "
            f"{word_error_rate(CALL, transcript):.0%}"
        )
        # pocketsphinx, after Opus through Mumble, now and then mishears a word of the call
        # on a loaded machine ("heading" as "had a"): the path is what this story checks,
        # most of the call's key words arriving; bench/radio_wer.py measures the engines.
        heard = [word for word in KEY_WORDS if word in transcript.split()]
        assert len(heard) >= len(KEY_WORDS) - 1, (heard, transcript)

        logged = (await store.reports.recent(scheme.id, limit=1))[0]
        assert logged.source == "radio"
        assert logged.urgency == Urgency.LOG
        assert logged.description == transcript
        assert logged.id is not None
        [event] = await store.reports.events(logged.id)
        assert event.text == f"ControlRoom: {transcript}"
        assert event.id is not None
        recording = town.runtime.settings.data_dir / f"radio/norwich/event-{event.id}.ogg"
        assert abs(len(audio.read_audio(recording.read_bytes())) / 96_000 - 3.5) < 2.5
        assert NO_WORDS not in caption
        # The call is in the log by what was said: the operator finds it with /search.
        await olive.send(town.bot, "/search suspect market")
        results = await olive.next_reply(town.bot)
        assert "Results 1–1" in results.body
        assert results.button_texts[0] == search_texts.search_open_button(logged.id)

        # The operator says which alert the call is about: it moves there, in one tap.
        answer = await olive.press(note, radio_texts.button_attach(earlier.id or 0))
        assert answer == radio_texts.RADIO_CALL_DONE
        assert earlier.id is not None
        [moved] = await store.reports.events(earlier.id)
        assert moved.id == event.id
        assert (await store.reports.get(logged.id)).status == "closed"
        filed = radio_texts.radio_call_attached(caption, earlier.id)

        def card_filed() -> bool:
            now = [m for m in town.sandbox.chat_messages(town.bot, town.control_room) if m.voice]
            return now[0].body == filed and not now[0].buttons

        await town.sandbox.wait_for(card_filed, message="the call's card was not updated")


async def test_a_members_voice_note_goes_out_on_the_radio_and_into_the_log_as_words(
    tmp_path: Path, murmur: Murmur
) -> None:
    async with (
        running_town(tmp_path, schemes=with_radio(murmur.port)) as town,
        on_the_radio(murmur.port, "ControlRoom") as control_room,
    ):
        await bot_on_air(town)
        store = town.runtime.store
        scheme = await store.schemes.get_by_slug("norwich")
        assert scheme.id is not None
        sam = town.person(600101, "Sam")
        await store.members.add(
            Member(
                scheme_id=scheme.id,
                telegram_user_id=sam.id,
                display_name="Sam",
                shop_name="Sams Shoes",
                status=MemberStatus.ACTIVE,
            )
        )
        town.group.add_member(sam)
        speech = await PiperSynthesizer().synthesize(CALL)
        note = audio.ogg_opus_bytes(audio.silence(0.3) + speech)

        await sam.send_voice(town.group, note, duration=4)

        heard = await hear(control_room, 2)
        assert [a.text for a in heard if isinstance(a, TextArrival)] == [
            "Voice note from Sams Shoes"
        ]
        [on_air] = [a for a in heard if isinstance(a, Transmission)]
        heard_length, sent_length = on_air.seconds, len(speech) / 96_000  # audio, not timing
        assert abs(heard_length - sent_length) < 1.5
        reply = await sam.next_reply(town.group, timeout=120)
        assert reply.body.startswith("Voice note added to report #")
        for word in KEY_WORDS:
            assert word in reply.body.split(), (word, reply.body)

        # Not about any alert: the control room keeps it as a report of its own...
        olive = await member(town, 600102, "Olive", Role.OPERATOR)
        town.control_room.add_member(olive)

        def call_card() -> MessageView | None:
            for message in town.sandbox.chat_messages(town.bot, town.control_room):
                if message.from_bot and message.voice is not None:
                    return message
            return None

        card = await town.sandbox.wait_for(call_card, message="no voice note in the control room")
        assert card.button_texts == [radio_texts.BUTTON_NEW_REPORT]
        town.control_room.add_member(sam)  # a shop in the control room's chat may not file it
        assert await sam.press(card, radio_texts.BUTTON_NEW_REPORT) == refusal_texts.refusal(
            Refusal.WRONG_ROLE
        )
        assert (
            await olive.press(card, radio_texts.BUTTON_NEW_REPORT) == radio_texts.RADIO_CALL_DONE
        )
        kept = radio_texts.radio_call_kept(card.body)
        await town.sandbox.wait_for(
            lambda: (now := call_card()) is not None and now.body == kept and not now.buttons,
            message="the call's card does not say it was kept",
        )
        # ...and finds it again in the log by what was said.
        report_id = int(reply.body.removeprefix("Voice note added to report #").split(":")[0])
        await olive.send(town.bot, "/search suspect market")
        results = await olive.next_reply(town.bot)
        assert "Results 1–1" in results.body
        assert results.button_texts[0] == search_texts.search_open_button(report_id)


async def test_the_radio_link_comes_back_after_the_server_restarts(murmur: Murmur) -> None:
    # What the channel told its listener, one entry per change: down, up, down, up.
    changes: list[bool] = []
    changed = asyncio.Event()

    def noted(up: bool, _reason: str) -> None:
        if not changes or changes[-1] != up:
            changes.append(up)
            changed.set()

    async def told(*expected: bool) -> None:
        """Until the link has changed exactly so: a retry still failing says nothing new."""
        async with asyncio.timeout(20):
            while tuple(changes) != expected:
                assert tuple(changes) == expected[: len(changes)], changes
                changed.clear()
                await changed.wait()

    murmur.stop()  # down at start-up
    bot = mumble_channel(murmur.port, "ShopWatch", on_link=noted)
    await bot.start()
    try:
        await told(False)
        murmur.start()
        await told(False, True)
        murmur.stop()  # down mid-shift
        await told(False, True, False)
        murmur.start()
        await told(False, True, False, True)
        async with on_the_radio(murmur.port, "ControlRoom") as control_room:
            await bot.send_text("radio check")
            [heard] = await hear(control_room, 1)
        assert isinstance(heard, TextArrival)
        assert heard.text == "radio check"
        assert changes == [False, True, False, True]
    finally:
        await bot.stop()


async def test_coordinators_hear_once_that_the_radio_is_down_and_once_that_it_is_back(
    tmp_path: Path, murmur: Murmur
) -> None:
    async with running_town(tmp_path, schemes=with_radio(murmur.port)) as town:
        await bot_on_air(town)
        town.coordinator.open_chat(town.bot)
        murmur.stop()  # mid-shift: the bot keeps trying, and says so once
        down = await town.coordinator.next_reply(town.bot, timeout=30)
        assert "cannot reach the radio server 127.0.0.1" in down.body
        murmur.start()
        back = await town.coordinator.next_reply(town.bot, timeout=30)
        assert back.body == radio_texts.radio_link_up("Norwich ShopWatch", "127.0.0.1")
        told = [b for b in town.bot_said(town.coordinator) if "radio" in b]
        assert told == [down.body, back.body]


async def test_the_doctor_says_whether_the_radio_server_answers(murmur: Murmur) -> None:
    schemes = with_radio(murmur.port)
    [(status, detail, _)] = await radio_checks(schemes)
    assert status == "OK", detail
    murmur.stop()
    [(status, detail, fix)] = await radio_checks(schemes)
    assert (status, fix) == ("FAIL", SERVER_FIX)
    assert detail.startswith(f"norwich: 127.0.0.1:{murmur.port}: not answering")


def test_espeak_is_available_as_the_small_engine() -> None:
    need_espeak()
    engine = build_synthesizer("espeak")
    pcm = asyncio.run(engine.synthesize("ShopWatch alert"))
    assert 0.5 < len(pcm) / 96_000 < 3
