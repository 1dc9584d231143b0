"""What a person types about a subject, made safe to store and to show again."""

from __future__ import annotations

import unicodedata


def clean_text(text: str, limit: int) -> str:
    """Printable text on one line, whitespace folded, at most `limit` characters.

    Control and format characters (a right-to-left override, a zero-width joiner)
    are dropped: a name or a description must read the same to everyone.
    """
    kept = "".join(
        " " if ch.isspace() else ch
        for ch in text
        if ch.isspace() or unicodedata.category(ch)[0] != "C"
    )
    return " ".join(kept.split())[:limit].strip()
