"""What the bridge needs of a radio channel, whatever carries it (Mumble today).

Audio is 16-bit signed little-endian PCM, mono, 48 kHz: Mumble's own format, so
the adapter never converts on the hot path; engines convert at their edges.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

SAMPLE_RATE = 48_000
SAMPLE_WIDTH = 2


class RadioUnavailableError(Exception):
    """The channel is not connected now; the caller queues and tries again later."""


@dataclass(frozen=True, slots=True)
class TextArrival:
    """A text message typed into the channel by someone on it."""

    speaker: str
    text: str
    at: datetime


@dataclass(frozen=True, slots=True)
class Transmission:
    """One spoken call: who keyed up, what they said, and when.

    `cut` says the call went on past the bridge's limit and this is only its start.
    """

    speaker: str
    pcm: bytes
    started_at: datetime
    ended_at: datetime
    cut: bool = False

    @property
    def seconds(self) -> float:
        return len(self.pcm) / (SAMPLE_RATE * SAMPLE_WIDTH)


Arrival = TextArrival | Transmission


class RadioChannel(Protocol):
    """A scheme's radio channel as the bridge sees it."""

    @property
    def connected(self) -> bool: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def send_text(self, text: str) -> None:
        """Post text in the channel; `RadioUnavailableError` when not connected."""

    async def send_speech(self, pcm: bytes) -> None:
        """Queue audio to be transmitted; returns before it has finished playing."""

    def arrivals(self) -> AsyncIterator[Arrival]:
        """What others say in the channel, until the channel is stopped."""
        ...
