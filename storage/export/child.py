"""An export read and written by a process of its own, so the bot's event loop never waits.

Reading a busy week from the log and rendering its PDF, spreadsheet and JSON is
seconds of Python. In a thread of the bot's process it holds the interpreter's
lock between the event loop's turns, and a member's alert arriving meanwhile
waited for it (2,000 reports and four large pictures in hand: an alert's last copy
at p99 1.4 s against 53 ms idle). A child process has an interpreter of its own,
reads the log through a connection of its own, and runs at a lower priority
(`CHILD_NICENESS`), so the machine's cores go to the alerts first and to the export
when they are free.

The request goes to the child on its standard input, never its command line: the
database's address may carry a password, and a command line is visible to every
user of the machine. The child answers with one JSON object on its standard output.
It is started with `python -m`, so it imports its modules itself, while the bot goes
on; only a database in memory (which no other process can open) is exported in a
thread instead.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys

from pydantic import ValidationError

from config.errors import ExportFailedError
from storage.child_process import child_environment
from storage.export.render import RENDERED, REQUEST, ExportRequest, Rendered, read_and_write
from storage.models import Scheme
from storage.photos import PhotoStore
from storage.store import Store

logger = logging.getLogger(__name__)

# Below the bot (0) on the same cores: its alerts first, the export in what is left.
CHILD_NICENESS = 10
# Enough of a failed child's own words for the log, not a whole traceback of data.
STDERR_KEPT = 4000


async def render_in_child(request: ExportRequest) -> Rendered:
    """Run the export in a child process and wait for it without holding the event loop.

    If the caller is cancelled (the bot stopping), the child is killed: an export
    half written is never queued, and the coordinator asks again.
    """
    # Started in the bot's own folder: a relative data folder or SQLite file is the same one.
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        __name__,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=child_environment(),
    )
    try:
        out, err = await process.communicate(REQUEST.dump_json(request))
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    if process.returncode != 0:
        said = err.decode(errors="replace")[-STDERR_KEPT:]
        logger.error("the export's process ended with %s: %s", process.returncode, said)
        raise ExportFailedError(f"the export's process ended with {process.returncode}")
    try:
        return RENDERED.validate_json(out)
    except ValidationError as exc:
        raise ExportFailedError(f"the export's process answered {out[:200]!r}") from exc


async def _export(request: ExportRequest) -> Rendered:
    store = await Store.open(request.database_url, migrate=False)
    try:
        async with store.long_reads() as session:
            scheme = await session.get(Scheme, request.scheme_id)
        if scheme is None:
            raise ExportFailedError(f"scheme {request.scheme_id} is not in the log")
        return await read_and_write(store, PhotoStore(request.photos_root), scheme, request)
    finally:
        await store.close()


def main() -> None:
    if hasattr(os, "nice"):
        os.nice(CHILD_NICENESS)
    request = REQUEST.validate_json(sys.stdin.buffer.read())
    rendered = asyncio.run(_export(request))
    sys.stdout.buffer.write(RENDERED.dump_json(rendered))


if __name__ == "__main__":
    main()
