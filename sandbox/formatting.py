"""Text as Telegram shows it: plain text with its entities, surrounding whitespace trimmed.

The sandbox stores what a phone would show: ``text`` is the text the bot sent without its
surrounding whitespace, and explicit ``entities`` move with it (UTF-16 offsets, as
Telegram counts them). People's messages get the entities a Telegram app adds by itself
(commands, mentions, hashtags, links), which python-telegram-bot's command filters read.

No parse mode is implemented: ShopWatch sends plain text, so parsers for HTML and
MarkdownV2 would serve only their own tests. A bot that asks for one is answered 400,
naming it, so a change that starts formatting messages fails in the tests until the
sandbox learns that mode, rather than passing against a parser nobody checked.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from telegram import MessageEntity

from sandbox.errors import ApiError

Entities = tuple[MessageEntity, ...]

_AUTO_ENTITIES = (
    (
        MessageEntity.BOT_COMMAND,
        re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])"),
    ),
    (MessageEntity.MENTION, re.compile(r"(?<![\w@])@[A-Za-z][A-Za-z0-9_]{3,31}(?!\w)")),
    (MessageEntity.HASHTAG, re.compile(r"(?<![\w#])#\w*[^\W\d]\w*")),
    (MessageEntity.URL, re.compile(r"\bhttps?://[^\s<>\"]+[^\s<>\".,;:!?)]")),
)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def format_text(
    text: str, parse_mode: str | None, entities: Sequence[MessageEntity] = ()
) -> tuple[str, Entities]:
    """``text`` as shown, with explicit ``entities``; a parse mode is refused (see above)."""
    if parse_mode:
        raise ApiError.bad_request(
            f"the sandbox implements no parse_mode ({parse_mode!r} was asked for); "
            "send plain text, or teach sandbox/formatting.py that mode"
        )
    return _trim(text, entities)


def _trim(plain: str, entities: Sequence[MessageEntity]) -> tuple[str, Entities]:
    stripped = plain.lstrip()
    shift = utf16_len(plain[: len(plain) - len(stripped)])
    stripped = stripped.rstrip()
    total = utf16_len(stripped)
    kept: list[MessageEntity] = []
    for entity in entities:
        start = max(entity.offset - shift, 0)
        end = min(entity.offset + entity.length - shift, total)
        if end > start:
            kept.append(
                MessageEntity(
                    entity.type,
                    start,
                    end - start,
                    url=entity.url,
                    user=entity.user,
                    language=entity.language,
                    custom_emoji_id=entity.custom_emoji_id,
                )
            )
    kept.sort(key=lambda e: (e.offset, -e.length))
    return stripped, tuple(kept)


def detect_entities(text: str) -> Entities:
    """Entities a Telegram app adds by itself: commands, mentions, hashtags and links."""
    found: list[MessageEntity] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _AUTO_ENTITIES:
        for match in pattern.finditer(text):
            if any(match.start() < end and start < match.end() for start, end in taken):
                continue
            taken.append((match.start(), match.end()))
            offset = utf16_len(text[: match.start()])
            found.append(MessageEntity(kind, offset, utf16_len(match.group())))
    found.sort(key=lambda e: e.offset)
    return tuple(found)
