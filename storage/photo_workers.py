"""Photos made clean in child processes, so decoding never holds up the bot's event loop.

A decode in one of the bot's own threads frees the interpreter's lock inside Pillow's
C loops only; between them, and in the hashes, the thread takes it back. The event
loop gives the lock up on every socket wait and every SQLite statement (aiosqlite
runs each in a thread of its own), and each time a decoding thread holds it, the loop
waits up to the interpreter's switch interval (5 ms) to have it again: four
50-megapixel pictures in hand made another member's text alert 2.6 to 3.2 times slower
at p99 than idle, and the threads' lower priority made it worse, not better (a thread
that holds the lock and waits for a core holds up the loop longer). A child has an
interpreter, and a lock, of its own: the same benchmark measured 1.3 to 1.5 times idle
(docs/benchmarks.md).

A child is also a wall around the decoders, which read what strangers send. One that
crashes, or runs past `PhotoLimits.decode_seconds`, takes its child with it, never the
bot: that photo is refused and the next photo gets a new child. What a child answers
is read as data, a JSON header and the JPEG's bytes, never unpickled; the evidence
hash is the parent's own, of the bytes it keeps.

At most `PhotoLimits.workers` children, started when a photo first needs one (a bot
that is sent no photo starts none), each working on one photo at a time, below the
bot's priority (`PhotoLimits.niceness`). A child ends when its standard input closes:
when the bot closes the store, or when the bot dies, so none is left behind.

A child is `python -m storage.photo_child`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import sys
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from config.errors import InvalidPhotoError
from storage.child_process import child_environment
from storage.photo_limits import NOT_A_PHOTO, PhotoLimits

logger = logging.getLogger(__name__)

_HEADER_LIMIT = 64 * 1024
_ENDING_SECONDS = 5.0
READY = b"ready\n"


class Request(BaseModel):
    """What comes before a photo's bytes on a child's standard input."""

    model_config = ConfigDict(frozen=True)
    size: int = Field(ge=0)


class Answer(BaseModel):
    """What comes before the clean JPEG's bytes on its standard output (none if refused)."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    refused: str | None = Field(default=None, max_length=200)
    phash: str = Field(default="", pattern=r"^[0-9a-f]{0,16}$")
    width: int = Field(default=0, ge=0)
    height: int = Field(default=0, ge=0)
    size: int = Field(default=0, ge=0)


@dataclass(frozen=True, slots=True)
class Cleaned:
    """A photo as a child made it clean: the store adds its hash and keeps it."""

    jpeg: bytes = field(repr=False)
    phash: str
    width: int
    height: int


class _Child:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @property
    def alive(self) -> bool:
        return self.process.returncode is None

    async def clean(self, data: bytes, max_bytes: int) -> Cleaned:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None
        assert stdout is not None
        stdin.write(Request(size=len(data)).model_dump_json().encode() + b"\n")
        stdin.write(data)
        await stdin.drain()
        answer = Answer.model_validate_json(await stdout.readline())
        if answer.refused is not None:
            raise InvalidPhotoError(answer.refused)
        if answer.size > max_bytes or not answer.phash:
            raise ValueError(f"a child answered {answer!r}")
        jpeg = await stdout.readexactly(answer.size)
        return Cleaned(jpeg, answer.phash, answer.width, answer.height)

    async def end(self) -> None:
        """Its input closed, it ends; one that does not is killed."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            await asyncio.wait_for(self.process.wait(), _ENDING_SECONDS)
        except TimeoutError:
            self.kill()
            await self.process.wait()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()


class PhotoWorkers:
    """The store's children: `clean` hands one photo to an idle one, waiting for one if
    all `limits.workers` are busy."""

    def __init__(self, limits: PhotoLimits) -> None:
        self.limits = limits
        self._idle: list[_Child] = []
        self._busy: set[_Child] = set()
        self._slots: asyncio.Semaphore | None = None
        self._reaping: set[asyncio.Task[None]] = set()

    @property
    def pids(self) -> tuple[int, ...]:
        """The children running now, idle or busy."""
        return tuple(c.process.pid for c in (*self._idle, *self._busy) if c.alive)

    @property
    def busy(self) -> int:
        """How many photos are in children's hands."""
        return len(self._busy)

    async def clean(self, data: bytes) -> Cleaned:
        if self._slots is None:
            self._slots = asyncio.Semaphore(max(1, self.limits.workers))
        async with self._slots:
            child = await self._take()
            self._busy.add(child)
            try:
                cleaned = await asyncio.wait_for(
                    child.clean(data, self.limits.max_bytes), self.limits.decode_seconds
                )
            except InvalidPhotoError:
                self._busy.discard(child)
                self._idle.append(child)
                raise
            except TimeoutError:
                self._lose(child, "ran past its time")
                raise InvalidPhotoError(NOT_A_PHOTO) from None
            except (OSError, EOFError, ValueError, ValidationError) as exc:
                self._lose(child, repr(exc))
                raise InvalidPhotoError(NOT_A_PHOTO) from None
            except BaseException:
                self._lose(child, "was stopped in the middle of a photo")
                raise
            self._busy.discard(child)
            self._idle.append(child)
            return cleaned

    async def close(self) -> None:
        """End every child; one still busy is killed (the bot is stopping)."""
        idle, self._idle = self._idle, []
        for child in self._busy:
            child.kill()
        await asyncio.gather(*(child.end() for child in idle))
        await asyncio.gather(*(child.process.wait() for child in self._busy), *self._reaping)

    async def _take(self) -> _Child:
        while self._idle:
            child = self._idle.pop()
            if child.alive:
                return child
            await child.end()
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "storage.photo_child",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            env=child_environment(),
            limit=_HEADER_LIMIT,
        )
        child = _Child(process)
        assert process.stdin is not None
        assert process.stdout is not None
        process.stdin.write(_limits_json(self.limits) + b"\n")
        # Its imports done before its first photo's clock starts (`decode_seconds`).
        try:
            started = await process.stdout.readline() == READY
        except BaseException:
            child.kill()
            await child.end()
            raise
        if not started:
            await child.end()
            raise ChildProcessError("a photo's child process did not start")
        return child

    def _lose(self, child: _Child, why: str) -> None:
        """A child whose state is not known any more: killed, and a new one next time."""
        self._busy.discard(child)
        child.kill()
        logger.warning("a photo's child process %s: it is replaced", why)
        # Reaped in the background: the answer to the member does not wait for it.
        reaping = asyncio.get_running_loop().create_task(child.end())
        self._reaping.add(reaping)
        reaping.add_done_callback(self._reaping.discard)


def _limits_json(limits: PhotoLimits) -> bytes:
    return json.dumps(dataclasses.asdict(limits)).encode()
