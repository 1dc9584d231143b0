"""Files of the log are private: folders 0700, files 0600, whatever the process's umask.

The database file, the photo store, radio recordings and exports hold personal
data, so nothing the bot writes is readable by another user of the machine.
A folder that was already there is left as it was found: the bot tightens only
what it made (and, at start-up, what is inside its own data directory).
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path
from typing import BinaryIO

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path) -> Path:
    """Create `path` and any missing parents, each made 0700; existing folders keep their mode."""
    missing: list[Path] = []
    current = path
    while not current.exists():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=DIR_MODE)
        except FileExistsError:
            if not folder.is_dir():
                raise
            continue  # made by someone else meanwhile: theirs, not ours to change
        folder.chmod(DIR_MODE)  # mkdir's mode is filtered through the umask
    if not path.is_dir():
        raise NotADirectoryError(str(path))
    return path


def create_private(path: Path) -> BinaryIO:
    """A new file at `path`, mode 0600: never an existing file, never through a symlink."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, FILE_MODE)
    os.fchmod(fd, FILE_MODE)
    return os.fdopen(fd, "wb")


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all (a private partial file renamed into place)."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    with create_private(partial) as handle:
        handle.write(data)
    partial.replace(path)


def touch_private(path: Path) -> None:
    """Make sure `path` exists and is mode 0600 (an empty file is an empty SQLite database)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, FILE_MODE)
    except FileExistsError:
        tighten(path)
        return
    os.fchmod(fd, FILE_MODE)
    os.close(fd)


def tighten(path: Path) -> None:
    """Take group and other permissions off one file or folder of ours (symlinks left alone)."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.getuid():
        return
    if info.st_mode & 0o077:
        path.chmod(stat.S_IMODE(info.st_mode) & 0o700)


def tighten_tree(root: Path) -> None:
    """`tighten` `root` and everything under it: a log written before files were private."""
    if not root.is_dir():
        return
    tighten(root)
    for folder, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            tighten(Path(folder) / name)
