"""`shopwatch doctor`'s look at each scheme's radio: engines installed, server answering.

Run before the bot starts, so a scheme finds out its radio would stay off (an
engine missing) or silent (the server unreachable) before the first alert does.
"""

from __future__ import annotations

import asyncio
import importlib.util

from broadcast.radio.speech import (
    EngineMissingError,
    ModelMissingError,
    build_synthesizer,
    build_transcriber,
)
from config.schemes import SchemesFile

CONNECT_SECONDS = 5.0
INSTALL = "pip install 'shopwatch[radio]'; apt-get install libopus0 espeak-ng"
MODEL_FIX = "point radio.whisper_model at a faster-whisper model directory"


async def radio_checks(schemes: SchemesFile | None) -> list[tuple[str, str, str]]:
    """(status, detail, fix) per scheme with its radio on; one SKIP when none has."""
    configured = [s for s in schemes.schemes if s.radio_on] if schemes is not None else []
    if not configured:
        return [("SKIP", "no scheme has its radio on", "")]
    found: list[tuple[str, str, str]] = []
    for scheme in configured:
        radio = scheme.radio
        assert radio is not None
        where = f"{scheme.slug}: {radio.server}:{radio.port}"
        try:
            if importlib.util.find_spec("pymumble_py3") is None:
                raise EngineMissingError("Mumble client", "pymumble")
            build_synthesizer(radio.tts, radio.voice)
            build_transcriber(radio.stt, radio.whisper_model)
        except ModelMissingError as exc:
            found.append(("FAIL", f"{where}: {exc}", MODEL_FIX))
            continue
        except EngineMissingError as exc:
            found.append(("FAIL", f"{where}: {exc}", INSTALL))
            continue
        try:
            async with asyncio.timeout(CONNECT_SECONDS):
                _, writer = await asyncio.open_connection(radio.server, radio.port)
            writer.close()
            await writer.wait_closed()
        except (OSError, TimeoutError) as exc:
            found.append(
                (
                    "FAIL",
                    f"{where}: not answering ({exc or 'timed out'})",
                    "start the Mumble server",
                )
            )
            continue
        found.append(("OK", f"{where} answering; speech {radio.tts}, transcripts {radio.stt}", ""))
    return found
