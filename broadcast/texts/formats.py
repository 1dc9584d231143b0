"""Money and moments as every text writes them: one way each."""

from __future__ import annotations


def money(pence: int) -> str:
    pounds, rest = divmod(pence, 100)
    return f"£{pounds:,}" if rest == 0 else f"£{pounds:,}.{rest:02d}"
