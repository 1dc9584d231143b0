"""The guided report's rules for each answer, without a bot: amounts, lengths, the order."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from broadcast.descriptors import Descriptors
from handlers.report import LABELS
from handlers.report_draft import (
    BUTTONS,
    SKIP,
    AnswerError,
    Draft,
    Step,
    free_text,
    parse_value,
    police_reference,
)
from storage.models import Report


@pytest.mark.parametrize(
    ("typed", "pence"),
    [
        ("£60", 6000),
        ("60", 6000),
        ("60.50", 6050),
        ("60.5", 6050),
        (" £ 60.05 ", 6005),
        ("£1,200", 120000),
        ("0", 0),
    ],
)
def test_amounts_are_read_as_people_type_them(typed: str, pence: int) -> None:
    assert parse_value(typed) == pence


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("lots", "not_an_amount"),
        ("-5", "not_an_amount"),
        ("£", "not_an_amount"),
        ("60.505", "not_an_amount"),
        ("1,20", "not_an_amount"),
        ("£250,000", "too_much"),
    ],
)
def test_what_is_not_an_amount_is_refused(typed: str, reason: str) -> None:
    with pytest.raises(AnswerError) as refused:
        parse_value(typed)
    assert refused.value.reason == reason


def test_typed_text_is_tidied_and_bounded() -> None:
    assert free_text("  grey   hoodie\n\n\n black  cap ", 100) == "grey hoodie\nblack cap"
    for typed, reason in (("   \n ", "empty"), ("x" * 101, "too_long")):
        with pytest.raises(AnswerError) as refused:
            free_text(typed, 100)
        assert refused.value.reason == reason


def test_police_references_take_their_usual_shapes() -> None:
    assert police_reference(" NC-12345-24 ") == "NC-12345-24"
    assert police_reference("37/12345/24") == "37/12345/24"
    with pytest.raises(AnswerError):
        police_reference("<b>ref</b>")


def test_the_value_question_is_asked_only_where_something_was_lost() -> None:
    draft = Draft()
    draft.choose(Step.CATEGORY, "theft")
    assert draft.next_step(Step.VEHICLE) is Step.PROPERTY
    assert draft.next_step(Step.PROPERTY) is Step.VALUE

    draft.choose(Step.CATEGORY, "asb")
    assert draft.next_step(Step.VEHICLE) is Step.CCTV


def test_a_button_that_the_question_did_not_offer_is_refused() -> None:
    draft = Draft()
    for step, value in (
        (Step.CATEGORY, "murder"),
        (Step.URGENCY, "later"),
        (Step.AGE, "old"),
        (Step.WHEN, "tomorrow"),
        (Step.HEIGHT, "giant"),
        (Step.CCTV, "maybe"),
        (Step.APPEARANCE, "ic9"),
    ):
        with pytest.raises(AnswerError):
            draft.choose(step, value)


def test_every_button_value_has_a_label_and_every_label_a_value() -> None:
    for step, values in BUTTONS.items():
        assert [value for value, _ in LABELS[step]] == [str(v) for v in values], step


def test_a_live_report_is_not_asked_when_and_a_sent_one_more_photos_but_no_summary() -> None:
    draft = Draft()
    draft.choose(Step.CATEGORY, "theft")
    draft.choose(Step.URGENCY, "now")
    assert draft.next_step(Step.URGENCY) is Step.DESCRIPTION
    assert draft.next_step(Step.POLICE_REFERENCE) is Step.PHOTOS

    draft.report_id = 12
    assert draft.next_step(Step.POLICE_REFERENCE) is Step.PHOTOS
    assert draft.next_step(Step.PHOTOS) is None

    draft.choose(Step.URGENCY, "log")
    assert draft.next_step(Step.URGENCY) is Step.WHEN


def test_the_ethnicity_descriptor_is_asked_only_when_the_scheme_turned_it_on() -> None:
    off = Draft()
    assert off.next_step(Step.HAIR) is Step.CLOTHING
    off.appearance = "ic1"  # even if something put it there, it is not kept
    assert off.descriptors().subject_appearance is None

    on = Draft(appearance_on=True)
    assert on.next_step(Step.HAIR) is Step.APPEARANCE
    on.choose(Step.APPEARANCE, "ic1")
    assert on.descriptors().subject_appearance == "ic1"


def test_no_field_for_religion_health_or_sexual_orientation() -> None:
    names = " ".join([*Descriptors.model_fields, *Report.model_fields, *Step])
    for word in ("religion", "faith", "health", "disab", "medical", "sexual", "orientation"):
        assert word not in names


NOW = datetime(2026, 12, 2, 14, 0, tzinfo=UTC)  # a Wednesday; 14:00 in London


@pytest.mark.parametrize(
    ("typed", "local"),
    [
        ("13:30", datetime(2026, 12, 2, 13, 30)),
        ("9am", datetime(2026, 12, 2, 9, 0)),
        ("1.15pm", datetime(2026, 12, 2, 13, 15)),
        ("yesterday 15:00", datetime(2026, 12, 1, 15, 0)),
        ("28/11 18:45", datetime(2026, 11, 28, 18, 45)),
        ("28/11/2026", datetime(2026, 11, 28, 12, 0)),
        ("30/12", datetime(2025, 12, 30, 12, 0)),
    ],
)
def test_a_typed_time_is_read_in_the_schemes_time(typed: str, local: datetime) -> None:
    draft = Draft(timezone="Europe/London", urgency="log")
    draft.type_in(Step.WHEN, typed, NOW)
    assert draft.occurred == local.replace(tzinfo=ZoneInfo("Europe/London")).astimezone(UTC)
    assert draft.next_step(Step.WHEN) is Step.DESCRIPTION


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("soon", "not_a_time"),
        ("14", "not_a_time"),
        ("25:00", "not_a_time"),
        ("13pm", "not_a_time"),
        ("31/02 10:00", "not_a_time"),
        ("16:00", "in_future"),
        ("2.15pm", "in_future"),
        ("01/01/2025 10:00", "too_old"),
    ],
)
def test_a_time_that_cannot_be_meant_is_refused(typed: str, reason: str) -> None:
    draft = Draft(urgency="log")
    with pytest.raises(AnswerError) as refused:
        draft.type_in(Step.WHEN, typed, NOW)
    assert refused.value.reason == reason


def test_earlier_today_or_yesterday_asks_about_what_time() -> None:
    draft = Draft(urgency="log")
    draft.choose(Step.WHEN, "yesterday", NOW)
    assert draft.next_step(Step.WHEN) is Step.WHEN_TIME
    draft.choose(Step.WHEN_TIME, "evening", NOW)
    assert draft.occurred == datetime(2026, 12, 1, 19, 0, tzinfo=UTC)

    draft.choose(Step.WHEN, "today", NOW)
    with pytest.raises(AnswerError):
        draft.choose(Step.WHEN_TIME, "evening", NOW)  # still to come
    draft.choose(Step.WHEN_TIME, SKIP, NOW)  # not sure: midday
    assert draft.occurred == datetime(2026, 12, 2, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("typed", "plate"),
    [
        ("silver Ford Focus ab12cde", "AB12 CDE"),
        ("white van, AB12 CDE, ladder on the roof", "AB12 CDE"),
        ("old red Fiesta K123 ABC", "K123 ABC"),
        ("classic Mini ABC 123D", "ABC 123D"),
        ("a black BMW, didn't get the plate", None),
    ],
)
def test_a_registration_is_found_in_the_vehicles_words(typed: str, plate: str | None) -> None:
    draft = Draft()
    draft.type_in(Step.VEHICLE, typed)
    assert (draft.vehicle, draft.registration) == (typed, plate)


def test_a_draft_comes_back_from_json_and_anything_else_is_none() -> None:
    draft = Draft(category="theft", photos=["file-1", "file-2"], value_pence=6000)

    assert Draft.from_json(draft.to_json()) == draft
    assert Draft.from_json(None) is None
    assert Draft.from_json({"category": "theft"}) is None
    assert Draft.from_json({**draft.to_json(), "from_an_older_version": 1}) == draft
