"""Turning a stream of 20 ms audio frames into whole transmissions, with bounds.

Mumble sends a talker's audio as small frames and has no "released the key"
message we can rely on, so a transmission ends when its talker has been quiet
for `gap` seconds. A stuck key is cut at `max_seconds` (memory stays bounded: one
minute is under 6 MB) and an open key with nobody talking is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from broadcast.radio.audio import is_silent
from broadcast.radio.channel import SAMPLE_RATE, SAMPLE_WIDTH, Transmission


@dataclass
class _Open:
    started_at: datetime
    last_at: datetime
    frames: list[bytes] = field(default_factory=list)
    size: int = 0


class TransmissionAssembler:
    def __init__(self, *, max_seconds: float = 60.0, gap: float = 0.6) -> None:
        self.max_bytes = int(max_seconds * SAMPLE_RATE * SAMPLE_WIDTH)
        self.gap = timedelta(seconds=gap)
        self._open: dict[str, _Open] = {}

    def add(self, speaker: str, pcm: bytes, now: datetime | None = None) -> list[Transmission]:
        """Take a frame; returns a transmission when this frame took it past the limit."""
        now = now or datetime.now(UTC)
        current = self._open.get(speaker)
        if current is None:
            current = self._open[speaker] = _Open(started_at=now, last_at=now)
        current.frames.append(pcm)
        current.size += len(pcm)
        current.last_at = now
        if current.size < self.max_bytes:
            return []
        del self._open[speaker]
        return self._finish(speaker, current, cut=True)

    def flush(
        self, now: datetime | None = None, *, everything: bool = False
    ) -> list[Transmission]:
        """Transmissions whose talker has gone quiet (or all of them, when stopping)."""
        now = now or datetime.now(UTC)
        done: list[Transmission] = []
        for speaker, current in list(self._open.items()):
            if everything or now - current.last_at >= self.gap:
                del self._open[speaker]
                done += self._finish(speaker, current, cut=False)
        return done

    def _finish(self, speaker: str, current: _Open, *, cut: bool) -> list[Transmission]:
        pcm = b"".join(current.frames)[: self.max_bytes]
        if is_silent(pcm):
            return []
        return [Transmission(speaker, pcm, current.started_at, current.last_at, cut=cut)]
