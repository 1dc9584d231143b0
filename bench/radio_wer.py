"""Which speech engines the radio should use: word error rate of the round trip, measured.

Each live sighting in the shared data is spoken by a text-to-speech engine, sent
through Opus at 48 kHz as Mumble carries it (encode and decode as Ogg Opus), and
recognised by pocketsphinx. `python -m bench.radio_wer` prints the rate per engine.
"""

from __future__ import annotations

import asyncio
import csv
import re
import time
from pathlib import Path

from bench.machine import describe
from broadcast.radio import audio
from broadcast.radio.speech import EngineMissingError, PocketsphinxTranscriber, build_synthesizer

SIGHTINGS = Path(__file__).resolve().parent.parent.parent / "shared" / "data" / "sightings.tsv"


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


async def measure(engine_name: str, texts: list[str]) -> str:
    try:
        engine = build_synthesizer(engine_name)
    except EngineMissingError as exc:
        return f"{engine_name}: not installed ({exc})"
    recogniser = PocketsphinxTranscriber()
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
        f"{engine_name} -> Opus -> pocketsphinx: WER {wrong / total:.0%} over {total} words "
        f"({len(texts)} sightings, {seconds:.1f} s)"
    )


async def main() -> None:
    texts = sentences()
    print(describe())
    for engine in ("piper", "espeak"):
        print(await measure(engine, texts))


if __name__ == "__main__":
    asyncio.run(main())
