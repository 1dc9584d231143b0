"""Inline keyboards from buttons as the domain gives them (label, callback data)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup


def keyboard(buttons: Iterable[Sequence[Sequence[str]]] | None) -> InlineKeyboardMarkup | None:
    """Rows of `(label, data)` pairs as an inline keyboard; no buttons, no keyboard."""
    rows = [list(row) for row in buttons or ()]
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )
