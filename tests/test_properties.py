"""What holds for any input at all: captions, alert cards and the schemes file.

Hypothesis writes the inputs (any Unicode, controls and lone surrogates included, and
the example schemes file spoiled line by line); each property is a promise the
product makes whatever a member types or a deployer writes.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from broadcast.alerts import MAX_TEXT, member_text, text_problem
from broadcast.callbacks import CallbackSigner
from broadcast.keywords import guess_category
from broadcast.render import (
    CAPTION_LIMIT,
    TEXT_LIMIT,
    AlertView,
    StatusMark,
    UpdateMark,
    alert_card,
    confirmation,
    utf16_len,
)
from broadcast.routing import Audience
from config.errors import ConfigError
from config.schemes import load_schemes, parse_schemes
from config.vocabulary import Category, ReportStatus, Urgency
from sandbox import shown_text
from storage.models import Report

BOUNDED = settings(max_examples=150, deadline=None)
SIGNER = CallbackSigner(b"a test key of sixteen bytes or more")
AT = datetime(2026, 7, 3, 13, 35, tzinfo=UTC)
EXAMPLE = Path(__file__).resolve().parent.parent / "schemes.example.toml"

ANY_TEXT = st.text(
    st.characters() | st.sampled_from("\ud800\udfff\x00\x1b"), max_size=MAX_TEXT + 50
)
"""Anything a string can hold, a little past the length limit."""
TYPED = st.text(
    st.characters(codec="utf-8", exclude_categories=["Cs"]) | st.sampled_from("\u200b\u202e\n "),
    max_size=MAX_TEXT,
)
"""What a Telegram message can carry: valid UTF-8 (no lone surrogates)."""
INVISIBLE = " \t\n\r\x00\u200b\u200d\u2060\ufeff\u202e\u2066\u00a0"


# --- the caption parser ---------------------------------------------------------------------


@BOUNDED
@given(ANY_TEXT)
def test_any_caption_is_taken_or_refused_in_words_and_always_gets_a_category(text: str) -> None:
    problem = text_problem(text)

    assert problem in (None, "empty", "too_long")
    assert guess_category(text) in tuple(Category)
    if problem is None:
        kept = member_text(text)
        assert kept, "a caption with something visible keeps it"
        assert kept == kept.strip()
        assert all(c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs") for c in kept), (
            "no control character or lone surrogate is stored"
        )
        kept.encode("utf-8")  # any database takes it


@BOUNDED
@given(
    st.text(st.sampled_from(" \t\n\r\x00\u200b\u200d\u2060\ufeff\u202e\u2066\u00a0"), max_size=50)
)
def test_a_caption_of_invisible_characters_alone_is_empty(text: str) -> None:
    assert text_problem(text) == "empty"


# --- the alert card -------------------------------------------------------------------------


def _report(description: str, place: str, direction: str, status: ReportStatus) -> Report:
    return Report.model_validate(
        {
            "id": 123,
            "scheme_id": 1,
            "category": Category.THEFT,
            "urgency": Urgency.NOW,
            "description": description,
            "location_text": place or None,
            "direction": direction or None,
            "status": status,
            "created_at": AT,
            "occurred_at": AT,
        }
    )


@st.composite
def alert_views(draw: st.DrawFn) -> AlertView:
    """A report as anything members and operators could have typed makes it."""
    description = draw(TYPED.filter(lambda t: text_problem(t) is None))
    place, direction, operator = (draw(st.text(max_size=n)) for n in (400, 300, 80))
    update = draw(st.text(max_size=1000))
    report = _report(
        member_text(description),
        member_text(place),
        member_text(direction),
        draw(st.sampled_from(ReportStatus)),
    )
    return AlertView(
        report,
        "Norwich ShopWatch",
        StatusMark("on_camera", member_text(operator) or None, AT),
        UpdateMark(member_text(update), AT) if text_problem(update) is None else None,
    )


@BOUNDED
@given(view=alert_views(), audience=st.sampled_from(Audience), photo=st.booleans())
def test_any_alert_renders_as_a_card_telegram_takes_with_the_lines_people_act_on(
    view: AlertView, audience: Audience, photo: bool
) -> None:
    card = alert_card(view, audience, timezone="Europe/London", has_photo=photo, signer=SIGNER)

    # As Telegram takes it (the sandbox's checks raise what Telegram would answer): plain
    # text, never empty, within the message's or the caption's limit.
    shown = shown_text(card.text, caption=photo)
    assert shown, "never an empty message"
    assert utf16_len(shown) <= (CAPTION_LIMIT if photo else TEXT_LIMIT)
    assert "Report #123" in shown, "the report number always shows"
    if view.report.status is not ReportStatus.WITHDRAWN:
        assert view.report.description.split()[0][:10] in shown, "the description starts"


@BOUNDED
@given(description=TYPED.filter(lambda t: text_problem(t) is None))
def test_any_alert_gets_a_confirmation_telegram_takes(description: str) -> None:
    report = _report(member_text(description), "", "", ReportStatus.OPEN)

    card = confirmation(report, shops=12, neighbours=["Wymondham Business Watch"], signer=SIGNER)

    shown = shown_text(card.text)
    assert 0 < utf16_len(shown) <= TEXT_LIMIT
    assert all(len(data.encode()) <= 64 for row in card.buttons for _, data in row)


# --- the schemes file loader ----------------------------------------------------------------

EXAMPLE_TEXT = EXAMPLE.read_text(encoding="utf-8")
EXAMPLE_LINES = EXAMPLE_TEXT.splitlines()
KEY_LINE = re.compile(r"^(\s*[A-Za-z0-9_-]+\s*=\s*)(.*)$")
TOML_VALUES = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.text(max_size=40).map(lambda t: '"' + t.replace("\\", "\\\\").replace('"', '\\"') + '"'),
    st.sampled_from(
        [
            "true",
            "[]",
            "{}",
            '[1, "a", [2]]',
            "1979-05-27T07:32:00Z",
            "inf",
            "nan",
            "''",
            "{ slug = 1 }",
            "-0",
            '"Mars/Olympus"',
            '["theft", "theft"]',
            '["burglary"]',
            '"norwich"',
            "-1001000000001",
            "0",
        ]
    ),
)
ONE_CLEAR_LINE = re.compile(r"schemes\.toml(:\d+)?: [^\n:]+: [^\n]+")
"""`file:line: field: problem` (the line where the field is known), and nothing else."""


@st.composite
def spoiled_example(draw: st.DrawFn) -> str:
    """The shipped example with a few lines deleted, doubled, swapped, cut or given new values."""
    lines = list(EXAMPLE_LINES)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(lines) - 1))
        how = draw(st.sampled_from(["delete", "double", "swap", "cut", "value", "value"]))
        if how == "delete":
            del lines[at]
        elif how == "double":
            lines.insert(at, lines[at])
        elif how == "swap":
            other = draw(st.integers(0, len(lines) - 1))
            lines[at], lines[other] = lines[other], lines[at]
        elif how == "cut":
            lines[at] = lines[at][: draw(st.integers(0, len(lines[at])))]
        else:
            key = KEY_LINE.match(lines[at])
            if key is not None:
                lines[at] = key.group(1) + draw(TOML_VALUES)
        if not lines:
            break
    return "\n".join(lines) + "\n"


def _loads_or_says_where(text: str) -> None:
    try:
        schemes = parse_schemes(text, "schemes.toml")
    except ConfigError as exc:
        message = str(exc)
    else:
        # What loads, the log can hold: start-up stores every chat and coordinator id.
        for scheme in schemes.schemes:
            ids = [scheme.group_chat_id, scheme.control_room_chat_id, *scheme.coordinators]
            assert all(-(2**63) <= i < 2**63 for i in ids), ids
        return
    assert ONE_CLEAR_LINE.fullmatch(message), message


@BOUNDED
@given(spoiled_example())
@example(EXAMPLE_TEXT.replace("= -1001000000001", f"= {-(2**70)}", 1))  # past 64 bits
@example(EXAMPLE_TEXT.replace("coordinators = [700001]", f"coordinators = [{2**64}]", 1))
def test_a_spoiled_schemes_file_loads_or_says_in_one_line_where_and_what(text: str) -> None:
    _loads_or_says_where(text)


@BOUNDED
@given(st.text(max_size=500))
def test_any_text_as_a_schemes_file_loads_or_says_in_one_line_where_and_what(text: str) -> None:
    _loads_or_says_where(text)


@settings(max_examples=50, deadline=None)
@given(st.binary(max_size=300))
def test_any_bytes_as_a_schemes_file_are_refused_in_one_line(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    path = tmp_path_factory.mktemp("schemes") / "schemes.toml"
    path.write_bytes(data)
    with pytest.raises(ConfigError) as refused:
        load_schemes(path)
    assert "\n" not in str(refused.value)
    assert str(refused.value).startswith(f"{path}")
