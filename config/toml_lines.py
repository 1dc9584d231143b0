"""Map a validation error's location back to a line of the TOML file.

`tomllib` forgets positions, yet a person fixing a schemes file needs the line.
A light scan of table headers and keys is enough for the shapes the file uses.
"""

from __future__ import annotations

import re

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]\]?\s*(#.*)?$")
_KEY = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=")

Path = tuple[tuple[str, int | None], ...]


def _scan(text: str) -> tuple[dict[Path, int], dict[tuple[Path, str], int]]:
    tables: dict[Path, int] = {}
    keys: dict[tuple[Path, str], int] = {}
    counts: dict[Path, int] = {}
    current: Path = ()
    for number, line in enumerate(text.splitlines(), start=1):
        header = _HEADER.match(line)
        if header:
            names = header.group(2).split(".")
            parent: Path = ()
            for name in names[:-1]:
                match = [p for p in current[: len(parent) + 1] if p[0] == name]
                parent = (*parent, match[-1] if match else (name, None))
            if header.group(1) == "[[":
                slot: Path = (*parent, (names[-1], None))
                index = counts.get(slot, 0)
                counts[slot] = index + 1
                current = (*parent, (names[-1], index))
            else:
                current = (*parent, (names[-1], None))
            tables[current] = number
            continue
        key = _KEY.match(line)
        if key:
            keys.setdefault((current, key.group(1)), number)
    return tables, keys


def line_of(text: str, loc: tuple[str | int, ...]) -> int | None:
    """Best line for `loc` (e.g. ("scheme", 1, "timezone")): the key, else its table."""
    tables, keys = _scan(text)
    path: Path = ()
    index = 0
    key: str | None = None
    while index < len(loc):
        name = loc[index]
        if not isinstance(name, str):
            break
        following = loc[index + 1] if index + 1 < len(loc) else None
        if isinstance(following, int):
            candidate: Path = (*path, (name, following))
            step = 2
        else:
            candidate = (*path, (name, None))
            step = 1
        if candidate in tables:
            path = candidate
            index += step
            continue
        key = name
        break
    if key is not None and (path, key) in keys:
        return keys[(path, key)]
    return tables.get(path)
