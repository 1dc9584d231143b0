"""A quick alert's category, guessed from its words, so the member has nothing to choose.

The guess decides who hears the alert first (neighbours receive some categories
only); the member can correct it with one tap, and the coordinator sees it in the
log. The rules are data: each cue is a pattern for one category with a weight, a
strong cue (an act: "nicked", "punched", "counterfeit") outweighing a weak one (a
hint: "legged it", "kids"). The category with the most weight wins.

Some words mean different things by whom they are aimed at, and those are rules of
their own: shouting, spitting or being "mouthy" at staff is violence or abuse to
staff, the same at passers-by is anti-social behaviour; a kick at a colleague is
violence, a kick at the door is damage. A cue right after "not" or "nothing"
("not taken anything yet") counts for nothing.

When the words point two ways equally, or nowhere, the guess says it is unsure:
the confirmation says so, and the alert is routed as the more serious of the
categories in the running, so a neighbour who wants that category is not missed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from config.vocabulary import Category

DEFAULT_CATEGORY = Category.SUSPICIOUS
"""A live heads-up about a person with no telling words is, at least, suspicious."""

SERIOUSNESS: tuple[Category, ...] = (
    Category.VIOLENCE,
    Category.THEFT,
    Category.FRAUD,
    Category.DAMAGE,
    Category.ASB,
    Category.SUSPICIOUS,
    Category.OTHER,
)
"""Most serious first: an unsure guess is routed as the first of its candidates here."""

STRONG = 3
WEAK = 1

_STAFF = (
    r"(?:staff|cashier|colleague|guard|security|manager|employee|assistant|shopkeeper"
    r"|pharmacist|bouncer|door ?staff|security \w+|\w+ on the till)"
)
_PERSON = (
    rf"(?:me|you|him|her|them|us|(?:(?:my|our|the|a|his|her) )?{_STAFF}"
    r"|(?:my|your|his|her) (?:face|head))"
)
_GARMENT = (
    r"(?:jumper|coat|jacket|trousers|joggers|top|hoodie|sleeve|bra|pants|waistband|pocket"
    r"|bag|handbag|rucksack|pram|pushchair|buggy)"
)
_ITEM_COUNT = r"(?:\d+|a|an|two|three|four|five|six|some|armfuls|handfuls?|a load|loads)"

_HOSTILE = re.compile(
    r"(?<!\w)(?:aggressi|abus|spit|spat|swear|shout|scream|yell|kick(?:ed|ing|s)? off|mouthy"
    r"|intimidat|threat|rude|lairy|gobby|barg)",
    re.IGNORECASE,
)
_AT_STAFF = re.compile(rf"(?<!\w){_STAFF}(?!\w)|(?<!\w)(?:at|to|with) (?:me|us)(?!\w)", re.I)

RULES: tuple[tuple[Category, int, tuple[str, ...]], ...] = (
    # --- violence or abuse to staff -------------------------------------------------------
    (
        Category.VIOLENCE,
        STRONG + 1,
        (
            r"knife",
            r"knives",
            r"(?<!razor )blades?\b",
            r"weapon",
            r"machete",
            r"screwdriver",
        ),
    ),
    (
        Category.VIOLENCE,
        STRONG + 1,
        (
            r"hammer",
            r"needle",
            r"syringe",
            r"crowbar",
            r"baseball bat",
            r"\bgun\b",
        ),
    ),
    (
        Category.VIOLENCE,
        STRONG,
        (
            r"threat",
            r"assault",
            r"attack",
            r"headbutt",
            r"stab",
            r"punch",
            r"slap",
            r"bottled",
        ),
    ),
    (
        Category.VIOLENCE,
        STRONG,
        (
            r"pushed",
            r"shoved",
            r"swung (?:for|at)",
            r"lashed out",
            r"squar\w* up",
            r"fight",
        ),
    ),
    (
        Category.VIOLENCE,
        STRONG,
        (
            r"violen",
            r"in (?:my|his|her|their|\w+'s) face",
            r"got physical",
        ),
    ),
    (
        Category.VIOLENCE,
        STRONG,
        (
            r"(?:hit|kick\w*|grab\w*|push\w*|shove\w*|barg\w*|spat|spit\w*"
            r"|thr[eo]w\w* (?:\w+ )?\w+|went|go(?:ne|es)?|came|lunged"
            r"|knock\w*|smash|batter|deck|glass)"
            rf" (?:at |for |into )?{_PERSON}\b",
        ),
    ),
    (
        Category.VIOLENCE,
        STRONG,
        (
            r"(?:he|she|they)(?:'ll|'d| will| would| was going to)"
            r" (?:get|be waiting|wait|come back for|smash|stab|kill|batter|do|sort|have)",
        ),
    ),
    # --- fraud, distraction, counterfeit --------------------------------------------------
    (
        Category.FRAUD,
        STRONG + 1,
        (
            r"fraud",
            r"counterfeit",
            r"forged",
            r"scam",
            r"cloned",
            r"stolen (?:bank )?card",
        ),
    ),
    (
        Category.FRAUD,
        STRONG + 1,
        (r"(?:fake|dud|dodgy|funny) (?:£?\d+|note|tenner|fiver|twenty|fifty)",),
    ),
    (
        Category.FRAUD,
        STRONG + 1,
        (
            r"distract",
            r"kept (?:\w+ )+talking",
            r"while (?:the other|his mate|her mate)",
        ),
    ),
    (
        Category.FRAUD,
        STRONG + 1,
        (
            r"someone else's (?:card|details)",
            r"bogus",
            r"pretending to be",
        ),
    ),
    (
        Category.FRAUD,
        STRONG + 1,
        (
            r"claiming to be",
            r"impersonat",
            r"fake \w+",
            r"fake$",
        ),
    ),
    (
        Category.FRAUD,
        STRONG + 1,
        (
            r"refund",
            r"receipt",
            r"(?:cards? \w* ?)?declined",
            r"£\d+ note",
            r"notes? that",
        ),
    ),
    (
        Category.FRAUD,
        STRONG,
        (
            r"asking for change",
            r"change for a",
            r"break a note",
            r"quick change",
            r"switched it",
        ),
    ),
    (
        Category.FRAUD,
        STRONG,
        (
            r"price (?:label|ticket|tag)",
            r"swapped the (?:label|ticket|price)",
        ),
    ),
    (
        Category.FRAUD,
        STRONG,
        (
            r"(?:bank )?transfer",
            r"voucher",
            r"gift card",
            r"exchange",
            r"watermark",
            r"never bought",
            r"(?:felt|feels?) wrong",
        ),
    ),
    (
        Category.FRAUD,
        STRONG,
        (r"(?:return|bring|brought)\w* (?:back )?(?:\w+ ){0,2}(?:items|stuff|goods)",),
    ),
    (
        Category.FRAUD,
        WEAK,
        (
            r"contactless",
            r"cards?\b",
            r"paid with",
        ),
    ),
    # --- theft ----------------------------------------------------------------------------
    (
        Category.THEFT,
        STRONG,
        (
            r"nick",
            r"lifted",
            r"lifting",
            r"stole",
            r"steal",
            r"shop ?lifting",
            r"theft",
            r"pickpocket",
        ),
    ),
    (
        Category.THEFT,
        STRONG,
        (
            r"pocket(?:ed|ing)",
            r"pinch",
            r"swipe",
            r"dipp",
            r"conceal",
            r"robb",
            r"snatch",
            r"pilfer",
        ),
    ),
    (
        Category.THEFT,
        STRONG,
        (
            r"stuff\w* ",
            r"hid ",
            r"hiding",
            r"walked out",
            r"(?:left|off|went|gone) without pay",
        ),
    ),
    (
        Category.THEFT,
        STRONG,
        (
            r"without paying",
            r"no payment",
            r"(?:didn't|not) scan",
            r"helped (?:him|her)self",
        ),
    ),
    (
        Category.THEFT,
        STRONG,
        (
            r"(?:ran|run|walk\w*|made|legg\w* it|off|gone|went|done a \w+)"
            r" (?:off |out |away )?with",
        ),
    ),
    (
        Category.THEFT,
        STRONG,
        (
            r"had (?:it|\w+(?: \w+){0,4}) away",
            r"off (?:he|she|they) went",
        ),
    ),
    (
        Category.THEFT,
        STRONG,
        (rf"(?:up|down|in|into|under) (?:his|her|their|the|a) (?:own )?{_GARMENT}",),
    ),
    (
        Category.THEFT,
        STRONG,
        (
            r"(?:fill\w*|emptied|emptying|clear\w*) (?:a |the |his |her |their )?"
            r"(?:whole )?(?:\w+ )?"
            rf"(?:shelf|shelves|{_GARMENT}|basket|trolley)",
        ),
    ),
    (
        Category.THEFT,
        STRONG,
        (
            r"(?:tags?|security tags?) (?:off|found|removed|cut)",
            r"through the (?:alarms?|gates)",
        ),
    ),
    (
        Category.THEFT,
        STRONG,
        (
            r"(?:took|taking|taken|grabbed|bagged up)"
            r"\b(?! (?:a |some )?(?:photo|picture|pic|look|note))",
        ),
    ),
    (
        Category.THEFT,
        STRONG,
        (
            r"missing",
            r"\w+ gone(?=\s*(?:[,.;!]|$))",
            r"cleared out",
        ),
    ),
    (
        Category.THEFT,
        WEAK,
        (
            r"shoplifter",
            r"thief",
            r"legged it",
            r"done a (?:runner|legger)",
            r"ran off",
            r"out the door",
        ),
    ),
    (Category.THEFT, WEAK, (rf"{_ITEM_COUNT} (?:bottles?|packs?|boxes?|crates?) of",)),
    # --- damage ---------------------------------------------------------------------------
    (
        Category.DAMAGE,
        STRONG,
        (
            r"damag",
            r"smash",
            r"broke",
            r"broken",
            r"crack",
            r"graffiti",
            r"vandal",
            r"spray ?paint",
        ),
    ),
    (
        Category.DAMAGE,
        STRONG,
        (
            r"tagged (?:the|our|my)",
            r"keyed",
            r"scratched",
            r"snapped",
            r"wrecked",
            r"slashed",
            r"(?:super ?)?glued",
        ),
    ),
    (
        Category.DAMAGE,
        STRONG,
        (
            r"dented",
            r"jimmy",
            r"force\w* (?:it|the \w+) open",
            r"set fire",
            r"arson",
            r"paint (?:all )?over",
        ),
    ),
    (
        Category.DAMAGE,
        STRONG,
        (r"(?:threw|throw\w*) (?:a |the )?(?:brick|stone|rock) (?:through|at) the",),
    ),
    (
        Category.DAMAGE,
        STRONG,
        (
            r"(?:pulled|ripped|torn|tore) (?:\w+ ){0,3}(?:off|down)",
            r"stamped on",
            r"spray",
            r"etch",
        ),
    ),
    (
        Category.DAMAGE,
        STRONG,
        (
            r"kick\w* (?:the |a |our |my )?"
            r"(?:door|window|glass|shutter|panel|sign|display|stand|bin)",
            r"tyres",
        ),
    ),
    # --- anti-social behaviour ------------------------------------------------------------
    (
        Category.ASB,
        STRONG,
        (
            r"drunk",
            r"intoxicated",
            r"off (?:his|her|their) face",
            r"spice",
            r"weed",
            r"drugs",
        ),
    ),
    (
        Category.ASB,
        STRONG,
        (
            r"beggar",
            r"begging",
            r"asking (?:every|people|customers)\w* for money",
        ),
    ),
    (
        Category.ASB,
        STRONG,
        (
            r"sleeping (?:in|on|rough)",
            r"asleep",
            r"rough sleep",
            r"urinat",
            r"weeing",
            r"peeing",
        ),
    ),
    (
        Category.ASB,
        STRONG,
        (
            r"firework",
            r"running riot",
            r"messing about",
            r"mucking about",
            r"nuisance",
            r"rowdy",
        ),
    ),
    (
        Category.ASB,
        STRONG,
        (
            r"wheelies",
            r"riding (?:through|in|round)",
            r"blasting",
            r"banging on",
            r"fire alarm",
        ),
    ),
    (
        Category.ASB,
        STRONG,
        (
            r"anti-?social",
            r"\basb\b",
            r"street drink",
            r"blocking",
            r"scaring",
            r"giving \w+ grief",
        ),
    ),
    (Category.ASB, STRONG, (r"(?:at|on|to) (?:customers|passers|people|shoppers|pigeons)",)),
    (
        Category.ASB,
        STRONG,
        (
            r"on the roof",
            r"climbing",
            r"throwing (?!\w+ at (?:staff|me))",
        ),
    ),
    (
        Category.ASB,
        WEAK,
        (
            r"youths",
            r"teens",
            r"teenagers",
            r"kids",
            r"lads",
            r"group of",
            r"arguing",
            r"loud",
        ),
    ),
    # --- suspicious -----------------------------------------------------------------------
    (
        Category.SUSPICIOUS,
        STRONG,
        (
            r"suspicious",
            r"shifty",
            r"lurking",
            r"loiter",
            r"hovering",
            r"lingering",
            r"casing",
        ),
    ),
    (
        Category.SUSPICIOUS,
        STRONG,
        (
            r"hanging (?:round|around|about)",
            r"circling",
            r"photograph",
            r"watching",
        ),
    ),
    (
        Category.SUSPICIOUS,
        STRONG,
        (
            r"(?:taking|took) (?:photos|pictures|pics)",
            r"peering",
            r"balaclava",
        ),
    ),
    (
        Category.SUSPICIOUS,
        STRONG,
        (
            r"asking (?:staff )?(?:about|what time|where)",
            r"questions about",
        ),
    ),
    (
        Category.SUSPICIOUS,
        STRONG,
        (
            r"trying (?:the )?(?:\w+ )?(?:door|handle|car doors)",
            r"no plates",
        ),
    ),
    (
        Category.SUSPICIOUS,
        STRONG,
        (
            r"empty (?:bag|holdall|pushchair|pram)",
            r"foil",
            r"engine running",
        ),
    ),
    (
        Category.SUSPICIOUS,
        STRONG,
        (
            r"known (?:shoplifter|thief|offender|male|female)",
            r"banned",
        ),
    ),
    (
        Category.SUSPICIOUS,
        STRONG,
        (
            r"in and (?:straight )?(?:back )?out",
            r"following (?:the )?staff",
        ),
    ),
    (
        Category.SUSPICIOUS,
        WEAK,
        (
            r"dodgy",
            r"mask",
            r"hood up",
            r"keeps?",
            r"wandering",
            r"alarm",
        ),
    ),
    # --- other: not a crime, but the scheme should know -----------------------------------
    (
        Category.OTHER,
        STRONG + 1,
        (r"lost (?:child|kid|boy|girl|little|dog|cat|\w+ ?(?:boy|girl))",),
    ),
    (
        Category.OTHER,
        STRONG + 1,
        (
            r"(?:seems|looks|is) (?:\w+ )?(?:confused|lost)",
            r"power cut",
        ),
    ),
    (
        Category.OTHER,
        STRONG + 1,
        (
            r"found (?:a |an |some )?(?:\w+ )?(?:wallet|purse|phone|bag|keys|card)",
            r"separated from",
        ),
    ),
    (
        Category.OTHER,
        STRONG + 1,
        (
            r"road (?:closed|shut)",
            r"collapsed",
            r"ambulance",
            r"fire engine",
            r"no owner",
            r"burst",
        ),
    ),
)

_NEGATED = re.compile(r"(?:\bnot|\bnever|\bnothing|\bno|n't) (?:\w+ )?$", re.IGNORECASE)


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(?:" + pattern + ")", re.IGNORECASE)


_CUES = tuple((category, weight, _compile("|".join(words))) for category, weight, words in RULES)


@dataclass(frozen=True)
class Guess:
    """What the words say: the category to route as, and whether the words were clear."""

    category: Category
    unsure: bool
    candidates: tuple[Category, ...]
    """The categories with the top weight, most serious first (empty if no cue at all)."""


def scores(text: str) -> dict[Category, int]:
    """Each category's weight in `text`: the cues found, less any right after a negation."""
    text = " ".join(text.replace("’", "'").split())
    found: dict[Category, int] = {}
    for category, weight, pattern in _CUES:
        for match in pattern.finditer(text):
            if not _NEGATED.search(text[: match.start()]):
                found[category] = found.get(category, 0) + weight
                break
    hostile = [m for m in _HOSTILE.finditer(text) if not _NEGATED.search(text[: m.start()])]
    if hostile:
        if _AT_STAFF.search(text):
            found[Category.VIOLENCE] = found.get(Category.VIOLENCE, 0) + STRONG + 1
        else:
            found[Category.ASB] = found.get(Category.ASB, 0) + WEAK
    return found


def guess(text: str) -> Guess:
    """The category with the most weight; on a tie, the most serious, marked unsure."""
    found = scores(text)
    if not found:
        return Guess(DEFAULT_CATEGORY, unsure=True, candidates=())
    top = max(found.values())
    candidates = tuple(c for c in SERIOUSNESS if found.get(c) == top)
    return Guess(candidates[0], unsure=len(candidates) > 1, candidates=candidates)


def guess_category(text: str) -> Category:
    """The category a quick alert is routed as (see `guess`)."""
    return guess(text).category
