"""The search language: what a person types after /search, turned into a typed query.

Pure (no database, no Telegram), so it can be tested against any text at all.
Anything that is not a filter is a plain word: quotes, stars, `OR`, `NEAR` and
SQL are words like any other, because the words never reach the database as
syntax, only as tokens the index already holds. Words are cut exactly as the
index cuts the log's text (runs of letters and digits, lower-cased), so what a
person types matches what was written, on SQLite and PostgreSQL alike.

    grey hoodie since:7d cat:theft,fraud status:open has:photo
    from:2026-11-01 to:15/11/2026 shop:"Boots" ref:NC-1234
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from config.errors import InvalidInputError
from config.vocabulary import Category, ReportStatus

MAX_QUERY_CHARS = 500
MAX_WORDS = 12
MAX_WORD_CHARS = 64
MAX_SHOP_CHARS = 100
# Retention keeps a year by default; two years bounds the work a search can ask for.
MAX_RANGE = timedelta(days=731)

FILTER_NAMES = ("cat", "status", "has", "since", "from", "to", "shop", "ref")
_ALIASES = {"category": "cat", "until": "to", "reference": "ref"}

# A filter is `name:value` at the start of a word; the value may be quoted, with
# straight or curly quotes (phones type curly ones), and the closing quote may be missing.
_FILTER = re.compile(
    r"(?<!\S)(?P<name>[A-Za-z]+):"
    r'(?:"(?P<straight>[^"]*)"?|“(?P<curly>[^”]*)”?|(?P<bare>\S*))'
)
_PERIOD = re.compile(r"(?P<count>\d{1,5})(?P<unit>[hdw])")
_ISO_DATE = re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})")
_UK_DATE = re.compile(r"(?P<day>\d{1,2})/(?P<month>\d{1,2})/(?P<year>\d{4})")
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9/-]{0,39}")
_UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}


def is_word_char(char: str) -> bool:
    """Letters and decimal digits, as the index's tokenisers count them on both databases."""
    category = unicodedata.category(char)
    return category[0] == "L" or category == "Nd"


# A superset of words (Python's \w also takes other numerals); non-ASCII ones are refined.
_ROUGH_WORD = re.compile(r"[^\W_]+")


def words_of(text: str) -> list[str]:
    """The words of `text` as the index holds them: letter/digit runs, lower-cased."""
    found: list[str] = []
    for token in _ROUGH_WORD.findall(text):
        if token.isascii():  # most of the log, and much quicker
            found.append(token.lower())
        else:
            found.extend(_exact_words(token))
    return found


def _exact_words(text: str) -> list[str]:
    found: list[str] = []
    current: list[str] = []
    for char in text:
        if is_word_char(char):
            current.append(char)
        elif current:
            found.append("".join(current))
            current = []
    if current:
        found.append("".join(current))
    # Lower-casing can itself produce marks (İ -> i + dot), which cut a word.
    return [piece for word in found for piece in _split_marks(word.lower())]


def matches(text: str, words: tuple[str, ...]) -> bool:
    """Whether every word, or one of its spellings, starts a word of `text`: the index's
    test, done on one text."""
    held = set(words_of(text))
    return all(
        any(token.startswith(spelt) for token in held for spelt in spellings(word))
        for word in words
    )


_SPELLINGS = (
    ("grey", "gray"),
    ("colour", "color"),
    ("neighbour", "neighbor"),
    ("favour", "favor"),
    ("jewellery", "jewelry", "jewelery"),
    ("moustache", "mustache", "mustach"),
    ("tattoo", "tatoo", "tatto"),
    ("pyjama", "pajama"),
    ("trainer", "sneaker"),
    ("trackie", "tracky", "tracksuit", "trakkie"),
    ("hoodie", "hoody", "hoodee"),
    ("beanie", "beany"),
    ("ciggie", "ciggy", "cigarette", "cigs"),
    ("baccy", "tobacco"),
)
_SPELLING_OF = {spelt: group for group in _SPELLINGS for spelt in group}
_ENDINGS = (("ie", "y"), ("y", "ie"), ("ise", "ize"), ("ize", "ise"))
_VOWELS = frozenset("aeiouy")


def spellings(word: str) -> tuple[str, ...]:
    """The word and the ways people also spell it, each a prefix as the index reads it.

    Shop-floor words are typed every which way ("grey hoody", "gray hoodie", "trackie",
    "tracky"), so a search for one finds the others: a table of common variants (British
    and American spellings, slang and the word it stands for) and a few endings that
    swap (-ie/-y, -ise/-ize). Only whole words are swapped; a word someone is
    still typing ("hood") is a prefix already.
    """
    singular = word[:-1] if word.endswith("s") and word[:-1] in _SPELLING_OF else word
    found = [word, *_SPELLING_OF.get(singular, ())]
    for ending, other in _ENDINGS:
        stem = word[: -len(ending)]
        if word.endswith(ending) and len(stem) >= 3 and stem[-1] not in _VOWELS:
            found.append(stem + other)
    out = []
    for spelt in dict.fromkeys(found):
        # A variant that another one begins already adds nothing to a prefix search.
        if not any(spelt != other and spelt.startswith(other) for other in found):
            out.append(spelt)
    return tuple(out)


def _split_marks(word: str) -> list[str]:
    if all(is_word_char(char) for char in word):
        return [word]
    return words_of(word)


def clean_text(text: str) -> str:
    """The query as it can be kept in the audit trail: no control characters, one line."""
    kept = (" " if unicodedata.category(char) in ("Cc", "Cs") else char for char in text)
    return " ".join("".join(kept).split())


@dataclass(frozen=True)
class SearchQuery:
    """A parsed search; `since` is inclusive and `until` exclusive, both UTC.

    Words are prefixes that must all appear (`hood` finds "hoodie"); each filter
    narrows further; several values of one filter are alternatives.
    """

    text: str
    words: tuple[str, ...] = ()
    categories: frozenset[Category] = field(default_factory=frozenset)
    statuses: frozenset[ReportStatus] = field(default_factory=frozenset)
    has_photo: bool = False
    since: datetime | None = None
    until: datetime | None = None
    shop: str | None = None
    police_reference: str | None = None

    @property
    def filtered(self) -> bool:
        return bool(
            self.categories
            or self.statuses
            or self.has_photo
            or self.since
            or self.until
            or self.shop
            or self.police_reference
        )


@dataclass
class _Parts:
    categories: set[Category] = field(default_factory=set)
    statuses: set[ReportStatus] = field(default_factory=set)
    has_photo: bool = False
    since: datetime | None = None
    start: datetime | None = None
    until: datetime | None = None
    shop: str | None = None
    police_reference: str | None = None
    seen: set[str] = field(default_factory=set)


def parse_query(text: str, *, now: datetime, timezone: str | ZoneInfo) -> SearchQuery:
    """Parse what a person typed; dates are days in the scheme's `timezone`.

    Raises `InvalidInputError` (and nothing else) for anything that cannot be searched.
    """
    if now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidInputError("too_long", str(MAX_QUERY_CHARS))
    cleaned = clean_text(text)
    zone = timezone if isinstance(timezone, ZoneInfo) else ZoneInfo(timezone)
    parts = _Parts()
    leftover: list[str] = []
    position = 0
    for match in _FILTER.finditer(cleaned):
        name = match["name"].lower()
        name = _ALIASES.get(name, name)
        if name not in FILTER_NAMES:
            continue
        leftover.append(cleaned[position : match.start()])
        position = match.end()
        value = next(
            (v for v in (match["straight"], match["curly"], match["bare"]) if v is not None), ""
        ).strip()
        if not value:
            raise InvalidInputError("missing_value", f"{name}:")
        _apply(parts, name, value, now, zone)
    leftover.append(cleaned[position:])
    words = _unique(words_of(" ".join(leftover)))
    if len(words) > MAX_WORDS:
        raise InvalidInputError("too_many_words", str(MAX_WORDS))
    for word in words:
        if len(word) > MAX_WORD_CHARS:
            raise InvalidInputError("word_too_long", word[:20])
    since = parts.since or parts.start
    _check_range(since, parts.until, now)
    query = SearchQuery(
        text=cleaned,
        words=tuple(words),
        categories=frozenset(parts.categories),
        statuses=frozenset(parts.statuses),
        has_photo=parts.has_photo,
        since=since.astimezone(UTC) if since else None,
        until=parts.until.astimezone(UTC) if parts.until else None,
        shop=parts.shop,
        police_reference=parts.police_reference,
    )
    if not query.words and not query.filtered:
        raise InvalidInputError("empty")
    return query


def _unique(words: list[str]) -> list[str]:
    return list(dict.fromkeys(words))


def _check_range(since: datetime | None, until: datetime | None, now: datetime) -> None:
    if since is not None and until is not None and until <= since:
        raise InvalidInputError("range_reversed")
    if since is not None and (until or max(now, since)) - since > MAX_RANGE:
        raise InvalidInputError("range_too_long", "2 years")


def _apply(parts: _Parts, name: str, value: str, now: datetime, zone: ZoneInfo) -> None:
    single = name in ("since", "from", "to", "shop", "ref")
    if single and name in parts.seen:
        raise InvalidInputError("repeated", f"{name}:")
    parts.seen.add(name)
    _HANDLERS[name](parts, value, now, zone)


def _choices(value: str, name: str, allowed: dict[str, str]) -> list[str]:
    chosen = []
    for item in value.lower().split(","):
        if not item:
            continue
        if item not in allowed:
            raise InvalidInputError(f"bad_{name}", item[:40])
        chosen.append(allowed[item])
    if not chosen:
        raise InvalidInputError("missing_value", f"{name}:")
    return chosen


_CATEGORY_WORDS = {c.value: c.value for c in Category} | {
    "shoplifting": Category.THEFT.value,
    "abuse": Category.VIOLENCE.value,
}
_STATUS_WORDS = {s.value: s.value for s in ReportStatus}


def _category(parts: _Parts, value: str, _now: datetime, _zone: ZoneInfo) -> None:
    parts.categories.update(Category(c) for c in _choices(value, "cat", _CATEGORY_WORDS))


def _status(parts: _Parts, value: str, _now: datetime, _zone: ZoneInfo) -> None:
    parts.statuses.update(ReportStatus(s) for s in _choices(value, "status", _STATUS_WORDS))


def _has(parts: _Parts, value: str, _now: datetime, _zone: ZoneInfo) -> None:
    _choices(value, "has", {"photo": "photo", "photos": "photo"})
    parts.has_photo = True


def _since(parts: _Parts, value: str, now: datetime, zone: ZoneInfo) -> None:
    if "from" in parts.seen and parts.start is not None:
        raise InvalidInputError("since_and_from")
    lowered = value.lower()
    today = now.astimezone(zone).date()
    if lowered == "today":
        parts.since = _midnight(today, zone)
    elif lowered == "yesterday":
        parts.since = _midnight(today - timedelta(days=1), zone)
    elif period := _PERIOD.fullmatch(lowered):
        amount = int(period["count"]) * _UNITS[period["unit"]]
        if amount > MAX_RANGE:
            raise InvalidInputError("range_too_long", "2 years")
        parts.since = now - amount
    else:
        parts.since = _midnight(_date(value, "since"), zone)


def _from(parts: _Parts, value: str, _now: datetime, zone: ZoneInfo) -> None:
    if parts.since is not None:
        raise InvalidInputError("since_and_from")
    parts.start = _midnight(_date(value, "from"), zone)


def _to(parts: _Parts, value: str, _now: datetime, zone: ZoneInfo) -> None:
    # A day named in `to:` is included whole.
    parts.until = _midnight(_date(value, "to") + timedelta(days=1), zone)


def _shop(parts: _Parts, value: str, _now: datetime, _zone: ZoneInfo) -> None:
    if len(value) > MAX_SHOP_CHARS:
        raise InvalidInputError("bad_shop", value[:20])
    parts.shop = value.casefold()


def _reference(parts: _Parts, value: str, _now: datetime, _zone: ZoneInfo) -> None:
    if not _REFERENCE.fullmatch(value):
        raise InvalidInputError("bad_ref", value[:40])
    parts.police_reference = value.upper()


_HANDLERS: dict[str, Callable[[_Parts, str, datetime, ZoneInfo], None]] = {
    "cat": _category,
    "status": _status,
    "has": _has,
    "since": _since,
    "from": _from,
    "to": _to,
    "shop": _shop,
    "ref": _reference,
}


def calendar_day(text: str) -> date:
    """A day written 2026-11-23 or 23/11/2026 (the day first, as in the UK), between
    2000 and 2100; `ValueError` for anything else. /search and /export read dates so."""
    match = _ISO_DATE.fullmatch(text.strip()) or _UK_DATE.fullmatch(text.strip())
    if match is None:
        raise ValueError(text)
    day = date(int(match["year"]), int(match["month"]), int(match["day"]))
    if not 2000 <= day.year <= 2100:
        raise ValueError(text)
    return day


def _date(value: str, name: str) -> date:
    try:
        return calendar_day(value)
    except ValueError:
        raise InvalidInputError("bad_date", f"{name}:{value[:40]}") from None


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone)
