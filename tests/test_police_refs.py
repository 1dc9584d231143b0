"""Police references as operators type them, and the replies that are only conversation."""

from __future__ import annotations

import pytest

from broadcast.police_refs import police_reference_in

LABELLED = [
    # a crime number, the force's code / serial / year
    ("ref 36/12345/26", "36/12345/26"),
    ("Ref: 36/12345/26", "36/12345/26"),
    ("police ref is 36/12345/26", "36/12345/26"),
    ("Crime no. 36/12345/26", "36/12345/26"),
    ("crime number 42/987654/26 from PC Smith", "42/987654/26"),
    ("crime ref 20BE/123456A/26", "20BE/123456A/26"),
    ("ref 11/11111/26 from PC Smith", "11/11111/26"),
    ("they gave us ref 37/4521/26, officers attending", "37/4521/26"),
    # an incident or CAD log
    ("police ref is NC 0212 2026", "NC 0212 2026"),
    ("Police ref: nc-02122026-0123", "NC-02122026-0123"),
    ("CAD 1234", "CAD 1234"),
    ("cad1234", "CAD 1234"),
    ("CAD 1234/02DEC26", "1234/02DEC26"),
    ("cad no. 4567 of 02/12/2026", "4567 of 02/12/2026"),
    ("incident number 123", "Incident 123"),
    ("log 123 of 02/12/2026", "123 of 02/12/2026"),
    ("Occurrence 26000123456", "26000123456"),
    ("reference CF0123450126", "CF0123450126"),
    # Action Fraud
    ("action fraud ref NFRC2612012345", "NFRC2612012345"),
    ("ref – NFRC2612012345", "NFRC2612012345"),
]


@pytest.mark.parametrize(("text", "reference"), LABELLED)
def test_a_labelled_reference_is_the_code_without_its_label(text: str, reference: str) -> None:
    assert police_reference_in(text) == reference
    assert police_reference_in(text, expected=True) == reference


BARE = [
    ("36/12345/26", "36/12345/26"),
    ("36/12345/26.", "36/12345/26"),
    (" NC 0212 2026 ", "NC 0212 2026"),
    ("1234/02DEC26", "1234/02DEC26"),
    ("NFRC2612012345", "NFRC2612012345"),
    ("26000123456", "26000123456"),
]


@pytest.mark.parametrize(("text", "reference"), BARE)
def test_a_bare_code_is_a_reference_only_when_one_is_expected(text: str, reference: str) -> None:
    assert police_reference_in(text, expected=True) == reference
    assert police_reference_in(text) is None


CONVERSATION = [
    "officers on the way",
    "Lost him at the Forum, PCSO 123 attending",
    "no ref yet, will chase",
    "ref to follow",
    "refused entry at Primark",
    "on camera 3 now",
    "2",
    "10 mins",
    "police informed",
    "referred to the police",
]


@pytest.mark.parametrize("text", CONVERSATION)
def test_conversation_is_never_a_reference(text: str) -> None:
    assert police_reference_in(text) is None
    assert police_reference_in(text, expected=True) is None


def test_a_reference_longer_than_a_code_is_a_message() -> None:
    assert police_reference_in("ref " + "1" * 70) is None
