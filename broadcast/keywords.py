"""A quick alert's category, guessed from its words, so the member has nothing to choose.

The guess only decides who hears the alert first (neighbours receive some
categories only); the member can correct it with one tap, and the coordinator
sees it in the log. The rules are data, checked in order: the first category
with a matching word wins, so the more serious or more specific categories come
first (a drunk who threatens staff is violence; a refund of stolen goods is
fraud). Each word matches at the start of a word: `shoplift` matches
"shoplifter".
"""

from __future__ import annotations

import re

from config.schemes import Category

DEFAULT_CATEGORY = Category.SUSPICIOUS
"""A live heads-up about a person with no telling words is, at least, suspicious."""

RULES: tuple[tuple[Category, tuple[str, ...]], ...] = (
    (
        Category.VIOLENCE,
        (
            "knife",
            "blade in",
            "weapon",
            "threaten",
            "assault",
            "punch",
            "pushed",
            "shoved",
            "spat",
            "spit",
            "attack",
            "abuse",
            "abusive to staff",
            "violent",
            "hit ",
            "headbutt",
            "fight",
        ),
    ),
    (
        Category.FRAUD,
        (
            "fraud",
            "counterfeit",
            "fake note",
            "forged",
            r"£\d+ note",
            "refund",
            "distraction",
            "asking for change",
            "change repeatedly",
            "confuse the cashier",
            "scam",
            "stolen card",
            "card declined",
        ),
    ),
    (
        Category.THEFT,
        (
            "took",
            "taken",
            "stole",
            "steal",
            "shoplift",
            "theft",
            "thief",
            "nicked",
            "pocketed",
            "pocketing",
            "conceal",
            "hiding",
            "hid ",
            "grabbed",
            "fill",
            "walked out without paying",
            "left without paying",
            "missing",
            "lifted",
        ),
    ),
    (
        Category.DAMAGE,
        ("damage", "smashed", "broke", "broken", "cracked", "kicked", "graffiti", "vandal"),
    ),
    (
        Category.ASB,
        (
            "drunk",
            "shouting",
            "swearing",
            "throwing",
            "begging",
            "beggar",
            "sleeping in",
            "blocking the entrance",
            "anti-social",
            "antisocial",
            "asb",
            "nuisance",
        ),
    ),
    (
        Category.SUSPICIOUS,
        (
            "suspicious",
            "hanging round",
            "hanging around",
            "loitering",
            "casing",
            "circling",
            "photographing",
            "balaclava",
            "watching the",
            "asking staff about",
            "alarm",
        ),
    ),
)


def _compile(words: tuple[str, ...]) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(?:" + "|".join(words) + ")", re.IGNORECASE)


_PATTERNS = tuple((category, _compile(words)) for category, words in RULES)


def guess_category(text: str) -> Category:
    """The first category whose words appear in `text`, else `DEFAULT_CATEGORY`."""
    for category, pattern in _PATTERNS:
        if pattern.search(text):
            return category
    return DEFAULT_CATEGORY
