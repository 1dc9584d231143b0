"""The guided report's rules for each answer, without a bot: amounts, lengths, the order."""

from __future__ import annotations

import pytest

from handlers.report_draft import (
    AnswerError,
    Draft,
    Step,
    free_text,
    parse_value,
    police_reference,
)


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
    assert draft.next_step(Step.DIRECTION) is Step.VALUE

    draft.choose(Step.CATEGORY, "asb")
    assert draft.next_step(Step.DIRECTION) is Step.POLICE_REFERENCE


def test_a_button_that_the_question_did_not_offer_is_refused() -> None:
    draft = Draft()
    for step, value in ((Step.CATEGORY, "murder"), (Step.URGENCY, "later"), (Step.AGE, "old")):
        with pytest.raises(AnswerError):
            draft.choose(step, value)


def test_a_draft_comes_back_from_json_and_anything_else_is_none() -> None:
    draft = Draft(category="theft", photos=["file-1", "file-2"], value_pence=6000)

    assert Draft.from_json(draft.to_json()) == draft
    assert Draft.from_json(None) is None
    assert Draft.from_json({"category": "theft"}) is None
    assert Draft.from_json({**draft.to_json(), "from_an_older_version": 1}) == draft
