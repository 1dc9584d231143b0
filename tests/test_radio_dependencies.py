"""The radio's Mumble client reads what the server sends with a current protobuf, and a
server that sends what it should not costs the bot a reconnect and nothing else.

Whatever a Mumble server sends is input to the bot's process: the client parses it with
the protobuf the rest of the process has (5 or newer, its default upb backend), never an
old release or its pure-Python implementation forced on the whole process.
"""

from __future__ import annotations

import asyncio
import datetime
import json
import os
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from broadcast.radio.channel import TextArrival
from tests.murmur import Murmur
from tests.radio_needs import need_mumble_client

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def murmur() -> Iterator[Murmur]:
    need_mumble_client()
    server = Murmur()
    server.start()
    try:
        yield server
    finally:
        server.close()


async def _on_the_radio(port: int) -> dict[str, object]:
    """The bot's Mumble client as the bridge builds it, hearing a desk set on a real server;
    then what protobuf the process parsed the server's messages with."""
    from google.protobuf import __version__ as protobuf_version
    from google.protobuf.internal import api_implementation

    from broadcast.radio.codec import mumble_client

    mumble = mumble_client()
    bot = mumble.MumbleChannel("127.0.0.1", port, "ShopWatch")
    desk = mumble.MumbleChannel("127.0.0.1", port, "ControlRoom")
    await bot.start()
    await desk.start()
    try:
        async with asyncio.timeout(30):
            await bot.wait_connected()
            await desk.wait_connected()
            await desk.send_text("radio check")
            heard = await anext(aiter(bot.arrivals()))
    finally:
        await desk.stop()
        await bot.stop()
    assert isinstance(heard, TextArrival)
    return {
        "heard": heard.text,
        "protobuf": protobuf_version,
        "backend": api_implementation.Type(),
        "forced": os.environ.get("PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION"),
        "old_client": sorted(name for name in sys.modules if name.startswith("pymumble")),
    }


def report(port: int) -> None:
    """Run in a fresh interpreter by the test below: prints `_on_the_radio` as JSON."""
    print(json.dumps(asyncio.run(_on_the_radio(port))))


def test_the_bot_reads_the_radio_server_with_a_current_protobuf(murmur: Murmur) -> None:
    # A process of its own, started as a deployment starts one: nothing in its
    # environment chooses protobuf's implementation, and nothing else has imported one.
    environment = {
        key: value
        for key, value in os.environ.items()
        if key != "PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION"
    }
    environment["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from tests.test_radio_dependencies import report; report({murmur.port})",
        ],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["heard"] == "radio check"
    assert int(str(seen["protobuf"]).split(".")[0]) >= 5, seen
    assert seen["backend"] == "upb", seen
    assert seen["forced"] is None, seen
    assert seen["old_client"] == [], seen


# --- a server that sends what it should not ------------------------------------------


def _certificate(directory: Path) -> ssl.SSLContext:
    """A self-signed certificate, as most Mumble servers present."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "radio.example")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "server.pem", directory / "server.key"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert_file, key_file)
    return context


REFUSAL = b"Rejected\n\nShopWatch: re-verify now at https://t.me/" + b"x" * 60
# Each is what the server answers the bot's login with: the message's type, then its bytes.
HOSTILE = {
    # A header announcing a gigabyte: read it and the bot holds a gigabyte.
    "huge": (9, b"", 1 << 30),
    # A UserState of 100,000 nested groups: the recursion old protobuf's Python parser
    # has no limit for (the advisories against it).
    "nested": (9, b"\xa3\x06" * 100_000, None),
    # A refusal that writes lines of its own into the coordinators' chat.
    "reject": (4, b"\x12" + bytes([len(REFUSAL)]) + REFUSAL, None),
}


@asynccontextmanager
async def hostile_server(
    directory: Path, answer: tuple[int, bytes, int | None]
) -> AsyncIterator[tuple[int, list[int]]]:
    """A TLS server on loopback that answers every login with `answer`; yields its port
    and a list that grows by one for each connection the bot makes."""
    from broadcast.radio.mumble_protocol import HEADER

    kind, payload, announced = answer
    connections: list[int] = []

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(len(connections))
        try:
            await reader.read(64)  # the bot's Version and Authenticate
            writer.write(HEADER.pack(kind, announced or len(payload)) + payload)
            await writer.drain()
            await reader.read(64)  # until the bot hangs up
        except (ConnectionError, ssl.SSLError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0, ssl=_certificate(directory))
    try:
        yield server.sockets[0].getsockname()[1], connections
    finally:
        server.close()
        await server.wait_closed()


@pytest.mark.parametrize("attack", sorted(HOSTILE))
async def test_a_radio_server_sending_what_it_should_not_costs_a_reconnect(
    tmp_path: Path, attack: str
) -> None:
    need_mumble_client()
    from broadcast.radio.codec import mumble_client

    mumble = mumble_client()
    told: list[tuple[bool, str]] = []
    again = asyncio.Event()

    def noted(up: bool, reason: str) -> None:
        told.append((up, reason))
        again.set()

    async with hostile_server(tmp_path, HOSTILE[attack]) as (port, connections):
        channel = mumble.MumbleChannel(
            "127.0.0.1", port, "ShopWatch", retry_first=0.05, retry_max=0.1, on_link=noted
        )
        await channel.start()
        try:
            async with asyncio.timeout(30):
                while len(connections) < 2 or len(told) < 2:  # refused, and tried again
                    again.clear()
                    await again.wait()
        finally:
            await channel.stop()
    assert not channel.connected
    assert all(not up for up, _ in told), told
    reason = told[0][1]
    assert "\n" not in reason, reason
    assert len(reason) <= 200, reason
    if attack == "huge":
        assert reason == f"the server sent a message of {1 << 30} bytes"
    elif attack == "nested":
        assert reason == "a message from the server did not parse"
    else:
        assert reason.startswith("refused by the server: Rejected ShopWatch: re-verify now at")
        assert "t.me" not in reason, reason
