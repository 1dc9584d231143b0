"""Turning a stream of 20 ms audio frames into whole transmissions, with bounds.

A Mumble talker's audio comes as small frames, each numbered in the talker's own
audio time (one sequence step per 10 ms of speech). A call ends where its talker
says it ends: the last frame carries Mumble's terminator flag, as Mumble's own
clients send it when the key is released and as this bridge sends it after each
script. A client that never marks its ends (a plain pymumble bot) still has its
calls told apart by its sequence: a silence of `gap` seconds in the talker's own
timeline starts a new call, and a call nobody has ended closes once its talker
has sent nothing for `idle` seconds. The grouping follows the audio, not the
clock of the machine hearing it, so a busy receiver or a sender that stalls a
moment never cuts one call in two.

A stuck key is cut at `max_seconds` (memory stays bounded: one minute is under
6 MB) and an open key with nobody talking is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from broadcast.radio.audio import is_silent
from broadcast.radio.channel import SAMPLE_RATE, SAMPLE_WIDTH, Transmission

SEQUENCE_SECONDS = 0.01
"""Mumble's sequence numbers count 10 ms steps of the talker's audio."""

IDLE_SECONDS = 5.0
"""How long a call nobody ended stays open: pymumble's own sender starts a new
sequence after 5 s of silence, so a talker quiet that long has finished."""

_STEP_BYTES = int(SAMPLE_RATE * SAMPLE_WIDTH * SEQUENCE_SECONDS)


@dataclass
class _Open:
    started_at: datetime
    last_at: datetime
    frames: list[bytes] = field(default_factory=list)
    size: int = 0
    next_sequence: int | None = None


class TransmissionAssembler:
    def __init__(
        self, *, max_seconds: float = 60.0, gap: float = 0.6, idle: float = IDLE_SECONDS
    ) -> None:
        self.max_bytes = int(max_seconds * SAMPLE_RATE * SAMPLE_WIDTH)
        self.gap_steps = round(gap / SEQUENCE_SECONDS)
        self.idle = timedelta(seconds=idle)
        self._open: dict[str, _Open] = {}

    def add(
        self,
        speaker: str,
        pcm: bytes,
        now: datetime | None = None,
        *,
        sequence: int | None = None,
        last: bool = False,
    ) -> list[Transmission]:
        """Take a frame (numbered `sequence` in the talker's audio time, `last` when it
        carries the terminator); returns the transmissions it completed."""
        now = now or datetime.now(UTC)
        done: list[Transmission] = []
        current = self._open.get(speaker)
        if current is not None and self._starts_anew(current, sequence):
            done += self._finish(speaker, cut=False)
            current = None
        if current is None and (pcm or not last):
            current = self._open[speaker] = _Open(started_at=now, last_at=now)
        if current is not None:
            current.frames.append(pcm)
            current.size += len(pcm)
            current.last_at = now
            if sequence is not None:
                current.next_sequence = sequence + max(1, len(pcm) // _STEP_BYTES)
            if current.size >= self.max_bytes:
                done += self._finish(speaker, cut=True)
            elif last:
                done += self._finish(speaker, cut=False)
        return done

    def _starts_anew(self, current: _Open, sequence: int | None) -> bool:
        """A frame from before the call's end (the talker's sequence began again) or after
        a silence of `gap` in the talker's own audio time opens a new call."""
        if sequence is None or current.next_sequence is None:
            return False
        return sequence < current.next_sequence or (
            sequence - current.next_sequence >= self.gap_steps
        )

    def flush(
        self, now: datetime | None = None, *, everything: bool = False
    ) -> list[Transmission]:
        """Calls whose talker has sent nothing for `idle` (or all of them, when stopping)."""
        now = now or datetime.now(UTC)
        done: list[Transmission] = []
        for speaker, current in list(self._open.items()):
            if everything or now - current.last_at >= self.idle:
                done += self._finish(speaker, cut=False)
        return done

    def _finish(self, speaker: str, *, cut: bool) -> list[Transmission]:
        current = self._open.pop(speaker)
        pcm = b"".join(current.frames)[: self.max_bytes]
        if is_silent(pcm):
            return []
        return [Transmission(speaker, pcm, current.started_at, current.last_at, cut=cut)]
