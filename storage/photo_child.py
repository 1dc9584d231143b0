"""A photo store's child process: photos in on its standard input, clean JPEGs out.

Started by `storage.photo_workers`, which says why photos are decoded in a child; this
is the child's side of the exchange, and all of its imports: Pillow and imagehash are
loaded before it says it is ready.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from typing import BinaryIO

from config.errors import InvalidPhotoError
from storage.photo_limits import PhotoLimits
from storage.photo_workers import READY, Answer, Request
from storage.photos import made_clean


def serve(limits: PhotoLimits, stdin: BinaryIO, stdout: BinaryIO) -> None:
    """Answer photos one by one until the input ends."""
    while header := stdin.readline():
        request = Request.model_validate_json(header)
        data = stdin.read(request.size)
        if len(data) != request.size:
            return
        try:
            cleaned = made_clean(data, limits)
        except InvalidPhotoError as refused:
            stdout.write(Answer(refused=str(refused)[:200]).model_dump_json().encode() + b"\n")
        else:
            answer = Answer(
                phash=cleaned.phash,
                width=cleaned.width,
                height=cleaned.height,
                size=len(cleaned.jpeg),
            )
            stdout.write(answer.model_dump_json().encode() + b"\n")
            stdout.write(cleaned.jpeg)
        stdout.flush()


def main() -> None:
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    limits = PhotoLimits(**json.loads(stdin.readline()))
    if limits.niceness and hasattr(os, "nice"):
        os.nice(limits.niceness)
    stdout.write(READY)  # Pillow and imagehash imported, with `PhotoLimits`
    stdout.flush()
    with contextlib.suppress(BrokenPipeError, KeyboardInterrupt):
        serve(limits, stdin, stdout)


if __name__ == "__main__":
    main()
