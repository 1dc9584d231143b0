"""A voice note to the bot, with the radio off: heard, offered as an alert, kept.

The radio bridge transcribes the voice notes it relays; with no radio link for
the scheme, a voice note in the private chat would otherwise go nowhere. It is
heard with the speech engine the installation has: the one the scheme's radio
settings name (`radio.stt`, Whisper with `radio.whisper_model`), even while the
radio is off, else pocketsphinx (the radio extra ships it with its English
model). The recording is kept in the scheme's recordings folder and named in the
report's timeline, so it is found with the report and follows the scheme's
retention period like every recording (`storage.retention`).
"""

from __future__ import annotations

import asyncio
import importlib.util
import logging
import uuid
from pathlib import Path

from broadcast.radio.speech import EngineMissingError, Transcriber, build_transcriber
from config.schemes import SchemeConfig
from storage.radio import RECORDINGS

logger = logging.getLogger(__name__)

MAX_VOICE_BYTES = 2_000_000
"""About four minutes of Telegram's Opus: longer is not an alert."""

_engines: dict[tuple[str, str | None], Transcriber | None] = {}


class NoEngineError(Exception):
    """No speech engine is installed (nor the audio libraries to read a voice note)."""


def recogniser(config: SchemeConfig) -> Transcriber | None:
    """The scheme's speech-to-text engine, built once; None when none is installed."""
    radio = config.radio
    wanted = [(radio.stt, radio.whisper_model)] if radio is not None else []
    wanted.append(("pocketsphinx", None))
    for name, model in wanted:
        key = (name, str(model) if model else None)
        if key not in _engines:
            try:
                _engines[key] = build_transcriber(name, model)
            except EngineMissingError as exc:
                logger.info("voice notes cannot use %s: %s", name, exc)
                _engines[key] = None
        engine = _engines[key]
        if engine is not None:
            return engine
    return None


def can_read_audio() -> bool:
    return all(importlib.util.find_spec(name) is not None for name in ("soundfile", "numpy"))


async def hear(config: SchemeConfig, data: bytes) -> tuple[str, bytes]:
    """The words in a voice note and its sound (48 kHz mono PCM).

    Raises `NoEngineError` without an engine, `ValueError` for a file that is not audio.
    """
    engine = recogniser(config) if can_read_audio() else None
    if engine is None:
        raise NoEngineError("no speech-to-text engine is installed")
    from broadcast.radio import audio

    pcm = await asyncio.to_thread(audio.read_audio, data)
    return (await engine.transcribe(pcm)).strip(), pcm


async def keep(data_dir: Path, slug: str, pcm: bytes) -> str:
    """The recording, stored as Telegram stores voice notes; its path under `data_dir`."""
    from broadcast.radio import audio

    relative = f"{RECORDINGS}/{slug}/voice-note-{uuid.uuid4().hex}.ogg"
    await asyncio.to_thread(audio.write_ogg_opus, pcm, data_dir / relative)
    return relative
