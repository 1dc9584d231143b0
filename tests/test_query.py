"""The search language: what people type becomes a typed query, or one clear InvalidInputError."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from config.errors import InvalidInputError
from config.vocabulary import Category, ReportStatus
from storage.query import (
    FILTER_NAMES,
    SearchQuery,
    matches,
    parse_query,
    words_of,
)
from storage.search import fts5_match, tsquery

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)  # a Friday; London is on GMT
LONDON = "Europe/London"


def parse(text: str) -> SearchQuery:
    return parse_query(text, now=NOW, timezone=LONDON)


def test_words_and_filters_written_naturally() -> None:
    query = parse_query(
        'Grey HOODIE cat:theft,fraud status:open has:photo shop:"Boots the Chemist" ref:nc-1234',
        now=NOW,
        timezone=LONDON,
    )

    assert query.words == ("grey", "hoodie")
    assert query.categories == {Category.THEFT, Category.FRAUD}
    assert query.statuses == {ReportStatus.OPEN}
    assert query.has_photo
    assert query.shop == "boots the chemist"
    assert query.police_reference == "NC-1234"


def test_dates_are_whole_days_in_the_schemes_timezone() -> None:
    summer = parse_query("from:2026-07-01 to:15/07/2026", now=NOW, timezone=LONDON)
    week = parse_query("since:7d", now=NOW, timezone=LONDON)
    today = parse_query("since:today", now=NOW, timezone=LONDON)

    assert summer.since == datetime(2026, 6, 30, 23, 0, tzinfo=UTC)  # BST midnight
    assert summer.until == datetime(2026, 7, 15, 23, 0, tzinfo=UTC)  # the 15th included
    assert week.since == NOW - timedelta(days=7)
    assert today.since == datetime(2026, 11, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ('"grey" OR "*"', ("grey", "or")),
        ("NEAR(grey hoodie)", ("near", "grey", "hoodie")),
        ("'; DROP TABLE report;--", ("drop", "table", "report")),
        ("hood* -grey", ("hood", "grey")),
        ("Gentleman's Walk, 16:40 £60", ("gentleman", "s", "walk", "16", "40", "60")),
        ("NC-28112 zoë ŁUKASZ", ("nc", "28112", "zoë", "łukasz")),
        ("time: 14:30 tel:0123", ("time", "14", "30", "tel", "0123")),
        ("grey grey GREY", ("grey",)),
    ],
)
def test_query_syntax_and_sql_are_only_words(text: str, words: tuple[str, ...]) -> None:
    query = parse_query(text, now=NOW, timezone=LONDON)

    assert query.words == words
    assert not query.filtered


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ('"*" -- ;', "empty"),
        ("x" * 10_000, "too_long"),
        ("x" * 501, "too_long"),
        ("since:", "missing_value"),
        ("shop:", "missing_value"),
        ("from:2026-13-45", "bad_date"),
        ("from:31/02/2026", "bad_date"),
        ("to:yesterday", "bad_date"),
        ("from:1999-12-31", "bad_date"),
        ("from:2026-11-15 to:2026-11-01", "range_reversed"),
        ("from:2024-01-01 to:2026-11-01", "range_too_long"),
        ("from:2020-01-01", "range_too_long"),
        ("since:800d", "range_too_long"),
        ("since:99999w", "range_too_long"),
        ("since:5m", "bad_date"),
        ("since:7d from:2026-11-01", "since_and_from"),
        ("from:2026-11-01 since:7d", "since_and_from"),
        ("shop:Boots shop:Next", "repeated"),
        ("cat:shoplifters", "bad_cat"),
        ("status:lost", "bad_status"),
        ("has:video", "bad_has"),
        ("ref:'; DROP", "bad_ref"),
        (" ".join(f"w{n}" for n in range(13)), "too_many_words"),
        ("a" * 65, "word_too_long"),
    ],
)
def test_what_cannot_be_searched_is_a_query_error(text: str, reason: str) -> None:
    with pytest.raises(InvalidInputError) as raised:
        parse(text)

    assert raised.value.reason == reason


def test_words_reach_the_index_only_as_quoted_prefixes() -> None:
    words = tuple(words_of("grey\" OR NEAR(*) 'x"))

    assert fts5_match(words) == '("grey"* OR "gray"*) AND "or"* AND "near"* AND "x"*'
    assert tsquery(words) == "('grey':* | 'gray':*) & 'or':* & 'near':* & 'x':*"


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ("grey hoody", "Grey hoodie, black joggers"),
        ("gray hoodie", "grey hoody and a cap"),
        ("trackies", "Male in a grey tracksuit"),
        ("jewelry", "asked about the jewellery counter"),
        ("colour", "hair dyed a bright color"),
        ("hood", "Grey hoodie"),
    ],
)
def test_a_word_finds_its_common_spellings(text: str, written: str) -> None:
    assert matches(written, parse(text).words)


def test_a_spelling_is_no_wider_than_the_word() -> None:
    assert not matches("Grey coat, black hood up", parse("hoody").words)
    assert not matches("Red lady's bag", parse("grey").words)


filters = st.sampled_from([f"{name}:" for name in (*FILTER_NAMES, "category", "until")])
pieces = st.one_of(
    st.text(max_size=40),
    filters,
    st.sampled_from(['"', "“", "”", "*", "OR", "NEAR(", "';", "7d", "2026-02-30", "31/12/2026"]),
    st.from_regex(r"\d{1,6}[hdwm]", fullmatch=True),
    st.from_regex(r"\d{4}-\d{1,2}-\d{1,2}", fullmatch=True),
)


@settings(max_examples=400, deadline=None)
@given(st.lists(pieces, max_size=12).map(" ".join))
def test_any_text_parses_or_is_a_query_error(text: str) -> None:
    try:
        query = parse(text)
    except InvalidInputError:
        return
    assert all(words_of(word) == [word] for word in query.words)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=600))
def test_any_unicode_at_all_parses_or_is_a_query_error(text: str) -> None:
    with contextlib.suppress(InvalidInputError):
        parse(text)


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Zoë ŁUKASZ, Ängelholm", ["zoë", "łukasz", "ängelholm"]),
        ("Вулиця Шевченка 12", ["вулиця", "шевченка", "12"]),
        ("grey🏃hoodie→Boots", ["grey", "hoodie", "boots"]),
        ("李明 ran", ["李明", "ran"]),
        ("٣ رجال", ["٣", "رجال"]),  # Arabic-Indic digits are decimal digits
        ("½ price ²", ["price"]),  # other numerals are not words
        ("İzmir", ["i", "zmir"]),  # lower-cased, İ leaves a mark that cuts the word
        ("snake_case co-op", ["snake", "case", "co", "op"]),
    ],
)
def test_words_are_runs_of_letters_and_decimal_digits_lower_cased(
    text: str, words: list[str]
) -> None:
    assert words_of(text) == words


# Runs of characters that need no lower-casing: lower-case and caseless letters, and
# decimal digits, in every script; and characters that are never part of a word.
word_runs = st.text(st.characters(categories=("Ll", "Lo", "Nd")), min_size=1, max_size=20)
no_words = st.text(st.characters(categories=("Zs", "P", "S", "Cc")), min_size=1, max_size=5)


@settings(max_examples=300, deadline=None)
@given(st.lists(word_runs, min_size=1, max_size=6), no_words)
def test_words_are_the_letter_and_digit_runs_between_spaces_punctuation_and_symbols(
    runs: list[str], between: str
) -> None:
    assert words_of(between.join(runs)) == runs
    assert words_of(between) == []


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_the_words_of_any_text_are_lower_case_and_read_back_as_themselves(text: str) -> None:
    words = words_of(text)

    assert all(word == word.lower() for word in words)
    assert words_of(" ".join(words)) == words
