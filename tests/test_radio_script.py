"""What the radio says for an alert, and how a radio call is bounded: no server needed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from broadcast.radio.assembler import TransmissionAssembler
from broadcast.radio.channel import SAMPLE_RATE
from broadcast.radio.checks import radio_checks
from broadcast.radio.script import alert_script, radio_deliveries, radio_status_deliveries
from config.schemes import RadioConfig, SchemeConfig, load_schemes
from config.vocabulary import Category, Urgency
from storage.models import Report
from storage.outbox_payloads import RadioPayload
from tests.town import EXAMPLE_SCHEMES

SCHEMES = load_schemes(EXAMPLE_SCHEMES)
RADIO = RadioConfig(server="radio.example", spoken_name="Norwich")


def scheme(slug: str = "norwich", radio: RadioConfig | None = RADIO) -> SchemeConfig:
    return SCHEMES.scheme(slug).model_copy(update={"radio": radio})


def report(**fields: object) -> Report:
    values: dict[str, object] = {
        "id": 1234,
        "scheme_id": 1,
        "category": Category.THEFT,
        "urgency": Urgency.NOW,
        "description": "Took two bottles of whisky",
    }
    return Report.model_validate(values | fields)


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        (
            {"subject_description": "Male, grey hoodie", "direction": "Market Street"},
            "ShopWatch alert, Norwich. Theft. Male, grey hoodie. Heading Market Street. "
            "Report 1234.",
        ),
        (
            {"subject_description": "Male, grey hoodie", "direction": "heading Market Street"},
            "ShopWatch alert, Norwich. Theft. Male, grey hoodie. Heading Market Street. "
            "Report 1234.",
        ),
        (
            {"description": "Two females filled a bag with perfume. Left fast."},
            "ShopWatch alert, Norwich. Theft. Two females filled a bag with perfume. Report 1234.",
        ),
        (
            {"category": Category.VIOLENCE, "location_text": "Jarrold, London Street"},
            "ShopWatch alert, Norwich. Violence or abuse to staff. "
            "Took two bottles of whisky. At Jarrold, London Street. Report 1234.",
        ),
        (
            {"subject_description": "Male 🧢 see https://x.example/p @carol_coord #12"},
            "ShopWatch alert, Norwich. Theft. Male see 12. Report 1234.",
        ),
        (
            {
                "subject_description": "tall thin male with a neck tattoo, black joggers, "
                "white trainers, green rucksack, carrying a large bag of meat"
            },
            "ShopWatch alert, Norwich. Theft. tall thin male with a neck tattoo, black "
            "joggers, white trainers, green rucksack, carrying. Report 1234.",
        ),
    ],
)
def test_the_radio_script_says_what_where_and_which_way_in_a_breath(
    fields: dict[str, object], said: str
) -> None:
    assert alert_script(scheme(), report(**fields)) == said


def test_a_scheme_without_a_spoken_name_is_called_by_its_town() -> None:
    wymondham = scheme("wymondham", RadioConfig(server="radio.example"))
    assert alert_script(wymondham, report()).startswith("ShopWatch alert, Wymondham. Theft.")


def test_only_live_alerts_of_schemes_with_a_radio_go_on_air() -> None:
    [delivery] = radio_deliveries(scheme(), report())
    assert isinstance(delivery.payload, RadioPayload)
    assert delivery.payload.speak == delivery.payload.text
    assert radio_deliveries(scheme(), report(urgency=Urgency.LOG)) == []
    assert radio_deliveries(scheme(radio=None), report()) == []
    off = RADIO.model_copy(update={"enabled": False})
    assert radio_deliveries(scheme(radio=off), report()) == []


def test_status_changes_worth_hearing_are_spoken_and_others_stay_in_the_chat() -> None:
    [stood_down] = radio_status_deliveries(scheme(), report(), "stood_down")
    assert stood_down.payload == RadioPayload(
        text="ShopWatch Norwich, report 1234: stood down.",
        speak="ShopWatch Norwich, report 1234: stood down.",
    )
    [detained] = radio_status_deliveries(scheme(), report(), "detained")
    assert isinstance(detained.payload, RadioPayload)
    assert detained.payload.text == "ShopWatch Norwich, report 1234: detained."
    assert radio_status_deliveries(scheme(), report(), "acknowledged") == []


def tone(seconds: float, amplitude: int = 8000) -> bytes:
    t = np.arange(int(SAMPLE_RATE * seconds)) / SAMPLE_RATE
    return (amplitude * np.sin(2 * np.pi * 440 * t)).astype("<i2").tobytes()


def test_a_stuck_key_is_cut_at_the_limit_and_an_open_key_with_nobody_talking_is_dropped() -> None:
    start = datetime(2026, 5, 1, 12, tzinfo=UTC)
    assembler = TransmissionAssembler(max_seconds=5, gap=0.5, idle=0.5)
    frame = tone(0.02)
    cut = []
    for n in range(600):  # twelve seconds of someone leaning on the key
        cut += assembler.add("Shop 12", frame, start + timedelta(seconds=n * 0.02))
    assert [round(t.seconds) for t in cut] == [5, 5]
    assert all(t.cut for t in cut)
    [rest] = assembler.flush(start + timedelta(seconds=13))
    assert round(rest.seconds) == 2
    assert not rest.cut

    for n in range(100):
        assembler.add("Shop 14", bytes(len(frame)), start + timedelta(seconds=n * 0.02))
    assert assembler.flush(start + timedelta(seconds=3)) == []


def test_a_call_is_one_call_until_its_talker_marks_the_end_however_late_its_frames_come() -> None:
    start = datetime(2026, 5, 1, 12, tzinfo=UTC)
    assembler = TransmissionAssembler(gap=0.6, idle=5)
    frame = tone(0.02)
    # Two seconds of speech, numbered in the talker's own audio time; the listener is
    # busy for two seconds in the middle, so half the frames reach it late, in a rush.
    heard = []
    for n in range(100):
        arrived = start + timedelta(seconds=n * 0.02 + (2 if n >= 50 else 0))
        if n == 50:
            assert assembler.flush(arrived) == []
        heard += assembler.add("ShopWatch", frame, arrived, sequence=2 * n, last=n == 99)
    [call] = heard
    assert round(call.seconds, 2) == 2.0
    assert not call.cut
    assert assembler.flush(start + timedelta(seconds=60)) == []


def test_a_talker_who_never_marks_an_end_has_calls_told_apart_by_its_own_silences() -> None:
    start = datetime(2026, 5, 1, 12, tzinfo=UTC)
    assembler = TransmissionAssembler(gap=0.6, idle=5)
    frame = tone(0.02)
    heard = []
    for n in range(50):  # one second, then 0.7 s of silence in its own time, then another
        heard += assembler.add("Shop 3", frame, start, sequence=2 * n)
    assert heard == []
    heard += assembler.add("Shop 3", frame, start, sequence=100 + 70)
    [first] = heard
    assert round(first.seconds, 2) == 1.0
    for n in range(1, 50):
        assert assembler.add("Shop 3", frame, start, sequence=170 + 2 * n) == []
    assert assembler.flush(start + timedelta(seconds=4)) == []
    [second] = assembler.flush(start + timedelta(seconds=5))
    assert round(second.seconds, 2) == 1.0
    # A sequence that begins again is a new call too.
    for n in range(25):
        assembler.add("Shop 3", frame, start, sequence=300 + 2 * n)
    [third] = assembler.add("Shop 3", frame, start, sequence=0)
    assert round(third.seconds, 2) == 0.5


async def test_the_doctor_skips_the_radio_where_no_scheme_has_one() -> None:
    assert await radio_checks(SCHEMES) == [("SKIP", "no scheme has its radio on", "")]
