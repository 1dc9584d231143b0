"""Export files are private: a fresh folder 0700, new files 0600, written in place and hashed.

Each export is written into a folder made for it, and each file is created new
(`O_EXCL | O_NOFOLLOW`), so a name planted beforehand, a symlink to somewhere
else, is refused rather than followed. A folder that was there already is never
given another mode.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import BinaryIO

from storage.files import DIR_MODE, FILE_MODE, create_private, private_dir

__all__ = ["DIR_MODE", "FILE_MODE", "fresh_dir", "open_private", "private_dir", "sha256_file"]


def fresh_dir(path: Path) -> Path:
    """Make `path`, which must not exist yet, mode 0700 (missing parents 0700 too)."""
    private_dir(path.parent)
    path.mkdir(mode=DIR_MODE)
    path.chmod(DIR_MODE)
    return path


def open_private(path: Path) -> BinaryIO:
    """A new file at `path`, mode 0600; an existing file or a symlink there is an error."""
    return create_private(path)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
