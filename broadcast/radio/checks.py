"""`shopwatch doctor`'s look at each scheme's radio: engines installed, server answering.

Run before the bot starts, so a scheme finds out its radio would stay off (a codec
or engine missing) or silent (the server unreachable) before the first alert does.
Each part is really loaded as the bridge loads it (libopus with the Mumble client,
the speech engines with their models), not only looked for, and every problem is
its own finding, so one run shows everything to fix.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from broadcast.radio.codec import mumble_client
from broadcast.radio.speech import (
    WHISPER_MODEL_FIX,
    EngineMissingError,
    build_synthesizer,
    build_transcriber,
)
from config.schemes import RadioConfig, SchemesFile

CONNECT_SECONDS = 5.0
MODEL_FIX = WHISPER_MODEL_FIX
SERVER_FIX = "start the Mumble server (Debian's mumble-server), or fix radio.server and port"


def _parts(radio: RadioConfig, opus_library: str | None) -> list[Callable[[], object]]:
    return [
        lambda: mumble_client(opus_library),
        lambda: build_synthesizer(radio.tts, radio.voice),
        lambda: build_transcriber(radio.stt, radio.whisper_model),
    ]


async def radio_checks(
    schemes: SchemesFile | None, opus_library: str | None = None
) -> list[tuple[str, str, str]]:
    """(status, detail, fix) per problem of each scheme with its radio on, or its one OK.

    One SKIP when no scheme has its radio on.
    """
    configured = [s for s in schemes.schemes if s.radio_on] if schemes is not None else []
    if not configured:
        return [("SKIP", "no scheme has its radio on", "")]
    found: list[tuple[str, str, str]] = []
    for scheme in configured:
        radio = scheme.radio
        assert radio is not None
        where = f"{scheme.slug}: {radio.server}:{radio.port}"
        problems: list[tuple[str, str, str]] = []
        for load in _parts(radio, opus_library):
            try:
                load()
            except EngineMissingError as exc:
                problems.append(("FAIL", f"{where}: {exc}", exc.fix))
        try:
            async with asyncio.timeout(CONNECT_SECONDS):
                _, writer = await asyncio.open_connection(radio.server, radio.port)
            writer.close()
            await writer.wait_closed()
        except (OSError, TimeoutError) as exc:
            problems.append(("FAIL", f"{where}: not answering ({exc or 'timed out'})", SERVER_FIX))
        found.extend(
            problems
            or [("OK", f"{where} answering; speech {radio.tts}, transcripts {radio.stt}", "")]
        )
    return found
