"""PCM arithmetic and the Ogg Opus files that recordings and voice notes are kept in.

Radio audio is short and mono, so plain numpy is enough: no resampling library,
and a crude low-pass by averaging before decimation is all speech recognition needs.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from broadcast.radio.channel import SAMPLE_RATE
from storage.files import private_dir, write_private

# Below this RMS (of 32768) a transmission is an open key with nobody talking.
SILENCE_RMS = 200.0


def _samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2")


def rms(pcm: bytes) -> float:
    samples = _samples(pcm).astype(np.float64)
    return float(np.sqrt(np.mean(samples**2))) if samples.size else 0.0


def is_silent(pcm: bytes, threshold: float = SILENCE_RMS) -> bool:
    """True when no 100 ms stretch rises above the threshold: an open key, not a call."""
    samples = _samples(pcm).astype(np.float64)
    window = SAMPLE_RATE // 10
    usable = samples.size - samples.size % window
    if usable == 0:
        return rms(pcm) < threshold
    blocks = samples[:usable].reshape(-1, window)
    return bool(np.sqrt(np.mean(blocks**2, axis=1)).max() < threshold)


def resample(pcm: bytes, source_rate: int, target_rate: int) -> bytes:
    """Change the sample rate of 16-bit mono PCM."""
    if source_rate == target_rate:
        return pcm
    samples = _samples(pcm).astype(np.float64)
    if source_rate % target_rate == 0:
        factor = source_rate // target_rate
        usable = samples.size - samples.size % factor
        out = samples[:usable].reshape(-1, factor).mean(axis=1)
    else:
        count = int(samples.size * target_rate / source_rate)
        positions = np.arange(count) * (source_rate / target_rate)
        out = np.interp(positions, np.arange(samples.size), samples)
    return bytes(np.clip(np.round(out), -32768, 32767).astype("<i2").tobytes())


def silence(seconds: float) -> bytes:
    return bytes(int(SAMPLE_RATE * seconds) * 2)


def write_ogg_opus(pcm: bytes, path: Path) -> None:
    """Keep a recording as Telegram keeps voice notes: Ogg Opus, 48 kHz mono."""

    private_dir(path.parent)
    write_private(path, ogg_opus_bytes(pcm))


def ogg_opus_bytes(pcm: bytes) -> bytes:
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, _samples(pcm), SAMPLE_RATE, format="OGG", subtype="OPUS")
    return buffer.getvalue()


def read_audio(data: bytes) -> bytes:
    """Any file libsndfile reads (a Telegram voice note is Ogg Opus) as 48 kHz mono PCM.

    Garbage raises `ValueError`, so a broken voice note is refused, not half-played.
    """
    import soundfile

    try:
        samples, rate = soundfile.read(io.BytesIO(data), dtype="int16", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
        raise ValueError(f"not an audio file we can read: {exc}") from None
    mono = samples.astype(np.int32).mean(axis=1).astype("<i2").tobytes()
    return resample(mono, int(rate), SAMPLE_RATE)
