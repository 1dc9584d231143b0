"""Text formatting as Telegram applies it: parse modes become plain text plus entities.

The sandbox stores what a phone would show: ``text`` is the plain text after parsing
``parse_mode`` (tags and markup characters removed, surrounding whitespace trimmed) and the
formatting lives in ``entities`` with UTF-16 offsets. The string the bot sent is kept as well.
Markup errors are answered like Telegram answers them ("can't parse entities: ..."), so a
MarkdownV2 text with an unescaped ``.`` fails here as it would live.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from html.parser import HTMLParser

from telegram import MessageEntity

from bot.sandbox.errors import ApiError

Entities = tuple[MessageEntity, ...]

_HTML_TAGS = {
    "b": MessageEntity.BOLD,
    "strong": MessageEntity.BOLD,
    "i": MessageEntity.ITALIC,
    "em": MessageEntity.ITALIC,
    "u": MessageEntity.UNDERLINE,
    "ins": MessageEntity.UNDERLINE,
    "s": MessageEntity.STRIKETHROUGH,
    "strike": MessageEntity.STRIKETHROUGH,
    "del": MessageEntity.STRIKETHROUGH,
    "tg-spoiler": MessageEntity.SPOILER,
    "code": MessageEntity.CODE,
    "pre": MessageEntity.PRE,
    "a": MessageEntity.TEXT_LINK,
    "blockquote": MessageEntity.BLOCKQUOTE,
    "span": MessageEntity.SPOILER,
    "tg-emoji": MessageEntity.CUSTOM_EMOJI,
}
_V2_RESERVED = frozenset("_*[]()~`>#+-=|{}.!")
_V2_MARKERS = {
    "*": (MessageEntity.BOLD, "Bold"),
    "_": (MessageEntity.ITALIC, "Italic"),
    "__": (MessageEntity.UNDERLINE, "Underline"),
    "~": (MessageEntity.STRIKETHROUGH, "Strikethrough"),
    "||": (MessageEntity.SPOILER, "Spoiler"),
}
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


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _cant_parse(detail: str) -> ApiError:
    return ApiError.bad_request(f"can't parse entities: {detail}")


@dataclass
class _Output:
    parts: list[str] = field(default_factory=list)
    length: int = 0
    entities: list[MessageEntity] = field(default_factory=list)

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.length += utf16_len(text)

    def entity(
        self, kind: str, start: int, *, url: str | None = None, language: str | None = None
    ) -> None:
        if self.length > start:
            self.entities.append(
                MessageEntity(kind, start, self.length - start, url=url, language=language)
            )

    def text(self) -> str:
        return "".join(self.parts)


def format_text(
    text: str, parse_mode: str | None, entities: Sequence[MessageEntity] = ()
) -> tuple[str, Entities]:
    """Parse ``text`` per ``parse_mode`` (or take explicit ``entities``) and trim it."""
    mode = (parse_mode or "").lower()
    if mode == "html":
        plain, found = _parse_html(text)
    elif mode == "markdownv2":
        plain, found = _parse_markdown_v2(text)
    elif mode == "markdown":
        plain, found = _parse_markdown(text)
    elif mode == "":
        plain, found = text, list(entities)
    else:
        raise ApiError.bad_request("unsupported parse_mode")
    return _trim(plain, found)


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


class _HtmlParser(HTMLParser):
    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self.source = source
        self.out = _Output()
        self.stack: list[tuple[str, int, dict[str, str | None]]] = []
        self._line_starts = [0] + [m.end() for m in re.finditer("\n", source)]

    def _offset(self) -> int:
        line, column = self.getpos()
        return _byte_offset(self.source, self._line_starts[line - 1] + column)

    def handle_data(self, data: str) -> None:
        self.out.add(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        supported = tag in _HTML_TAGS and not (
            tag == "span" and attributes.get("class") != "tg-spoiler"
        )
        if not supported:
            raise _cant_parse(f'Unsupported start tag "{tag}" at byte offset {self._offset()}')
        self.stack.append((tag, self.out.length, attributes))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise _cant_parse(f'Unsupported start tag "{tag}" at byte offset {self._offset()}')

    def handle_endtag(self, tag: str) -> None:
        if not self.stack:
            raise _cant_parse(f"Unexpected end tag at byte offset {self._offset()}")
        open_tag, start, attributes = self.stack.pop()
        if open_tag != tag:
            raise _cant_parse(
                f"Unmatched end tag at byte offset {self._offset()}, "
                f'expected "</{open_tag}>", found "</{tag}>"'
            )
        kind = _HTML_TAGS[tag]
        language: str | None = None
        if tag == "code" and self.stack and self.stack[-1][0] == "pre":
            css = attributes.get("class") or ""
            if css.startswith("language-"):
                outer_tag, outer_start, outer_attributes = self.stack[-1]
                self.stack[-1] = (outer_tag, outer_start, {**outer_attributes, "lang": css[9:]})
                return
        if tag == "pre":
            language = attributes.get("lang")
        if tag == "blockquote" and "expandable" in attributes:
            kind = MessageEntity.EXPANDABLE_BLOCKQUOTE
        url = attributes.get("href") if tag == "a" else None
        if tag == "a" and not url:
            return
        if tag == "tg-emoji":
            return
        self.out.entity(kind, start, url=url, language=language)


def _parse_html(source: str) -> tuple[str, list[MessageEntity]]:
    parser = _HtmlParser(source)
    parser.feed(source)
    parser.close()
    if parser.stack:
        tag = parser.stack[-1][0]
        raise _cant_parse(f'Can\'t find end tag corresponding to start tag "{tag}"')
    return parser.out.text(), parser.out.entities


def _find_closing(source: str, marker: str, start: int) -> int:
    """Index of the next unescaped ``marker`` at or after ``start``, or -1."""
    i = start
    while i < len(source):
        if source[i] == "\\":
            i += 2
            continue
        if source.startswith(marker, i):
            return i
        i += 1
    return -1


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text, flags=re.DOTALL)


def _parse_markdown_v2(source: str) -> tuple[str, list[MessageEntity]]:
    out = _Output()
    open_marks: list[tuple[str, int, int]] = []  # marker, output start, source index
    links: list[tuple[int, int]] = []
    quote_start: int | None = None
    i = 0
    n = len(source)
    while i < n:
        char = source[i]
        at_line_start = i == 0 or source[i - 1] == "\n"
        if at_line_start and char == ">":
            if quote_start is None:
                quote_start = out.length
            i += 1
            continue
        if char == "\n" and quote_start is not None and not source.startswith(">", i + 1):
            out.entity(MessageEntity.BLOCKQUOTE, quote_start)
            quote_start = None
        if char == "\\":
            if i + 1 < n:
                out.add(source[i + 1])
                i += 2
                continue
            raise _cant_parse(
                "Character '\\' is reserved and must be escaped with the preceding '\\'"
            )
        if char == "`":
            i = _v2_code(source, i, out)
            continue
        marker = (
            "__" if source.startswith("__", i) else "||" if source.startswith("||", i) else char
        )
        if marker in _V2_MARKERS:
            if open_marks and open_marks[-1][0] == marker:
                _, start, _ = open_marks.pop()
                out.entity(_V2_MARKERS[marker][0], start)
            else:
                open_marks.append((marker, out.length, i))
            i += len(marker)
            continue
        if char == "[":
            links.append((out.length, i))
            i += 1
            continue
        if char == "]" and links:
            start, _ = links.pop()
            if not source.startswith("(", i + 1):
                raise _cant_parse(
                    f"Can't find end of a URL at byte offset {_byte_offset(source, i + 1)}"
                )
            close = _find_closing(source, ")", i + 2)
            if close < 0:
                raise _cant_parse(
                    f"Can't find end of a URL at byte offset {_byte_offset(source, i + 1)}"
                )
            out.entity(MessageEntity.TEXT_LINK, start, url=_unescape(source[i + 2 : close]))
            i = close + 1
            continue
        if char in _V2_RESERVED:
            raise _cant_parse(
                f"Character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        out.add(char)
        i += 1
    if quote_start is not None:
        out.entity(MessageEntity.BLOCKQUOTE, quote_start)
    if open_marks:
        marker, _, index = open_marks[-1]
        name = _V2_MARKERS[marker][1]
        raise _cant_parse(
            f"Can't find end of {name} entity at byte offset {_byte_offset(source, index)}"
        )
    if links:
        raise _cant_parse(
            f"Can't find end of TextUrl entity at byte offset {_byte_offset(source, links[-1][1])}"
        )
    return out.text(), out.entities


def _v2_code(source: str, i: int, out: _Output) -> int:
    """Consume a code span or a pre block starting at ``i``; return the index after it."""
    if source.startswith("```", i):
        close = _find_closing(source, "```", i + 3)
        if close < 0:
            raise _cant_parse(
                f"Can't find end of Pre entity at byte offset {_byte_offset(source, i)}"
            )
        body = source[i + 3 : close]
        language: str | None = None
        first, newline, rest = body.partition("\n")
        if newline and first and re.fullmatch(r"[\w+#-]+", first):
            language, body = first, rest
        start = out.length
        out.add(_unescape(body))
        out.entity(MessageEntity.PRE, start, language=language)
        return close + 3
    close = _find_closing(source, "`", i + 1)
    if close < 0:
        raise _cant_parse(
            f"Can't find end of Code entity at byte offset {_byte_offset(source, i)}"
        )
    start = out.length
    out.add(_unescape(source[i + 1 : close]))
    out.entity(MessageEntity.CODE, start)
    return close + 1


def _parse_markdown(source: str) -> tuple[str, list[MessageEntity]]:
    """Legacy Markdown: no nesting, only ``*_`[`` are special."""
    out = _Output()
    simple = {"*": MessageEntity.BOLD, "_": MessageEntity.ITALIC}
    i = 0
    n = len(source)
    while i < n:
        char = source[i]
        if char == "\\" and i + 1 < n and source[i + 1] in "*_`[":
            out.add(source[i + 1])
            i += 2
            continue
        if char in simple or char in {"`", "["}:
            marker = "```" if source.startswith("```", i) else char
            closer = "]" if char == "[" else marker
            close = source.find(closer, i + len(marker))
            if close < 0:
                raise _cant_parse(
                    "Can't find end of the entity starting at byte offset "
                    f"{_byte_offset(source, i)}"
                )
            body = source[i + len(marker) : close]
            start = out.length
            out.add(body)
            if char == "[":
                url_end = source.find(")", close) if source.startswith("(", close + 1) else -1
                if url_end < 0:
                    out.parts[-1] = f"[{body}]"
                    out.length = start + utf16_len(out.parts[-1])
                    i = close + 1
                    continue
                out.entity(MessageEntity.TEXT_LINK, start, url=source[close + 2 : url_end])
                i = url_end + 1
                continue
            kind = simple.get(char) or (
                MessageEntity.PRE if marker == "```" else MessageEntity.CODE
            )
            out.entity(kind, start)
            i = close + len(marker)
            continue
        out.add(char)
        i += 1
    return out.text(), out.entities
