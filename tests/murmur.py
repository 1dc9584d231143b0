"""A real Mumble server for the radio tests: Debian's murmurd on 127.0.0.1, one per test.

Skips (with the reason, see `tests.radio_needs`) where murmurd is not installed;
`.ci/run` installs it and makes such a skip a failure, so on CI the radio tests run.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from tests.radio_needs import murmurd_binary

SERVER_USER = "mumble-server"
START_SECONDS = 30.0
PORT_TRIES = 5


def _unused_port() -> int:
    """A port free a moment ago. murmurd binds its own port (it takes no socket and does
    not say which port 0 gave it), so `Murmur.start` confirms from murmurd's own log that
    it is the one listening there, and takes another port if someone else got it first."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Murmur:
    """One server with its own ini and database; `stop()`/`start()` keep both."""

    def __init__(self) -> None:
        self.binary = murmurd_binary()
        # Not under pytest's tmp_path: as root, murmurd runs as its own user, which
        # cannot pass through pytest's private (0700) directories.
        directory = self.directory = Path(tempfile.mkdtemp(prefix="shopwatch-murmur-"))
        self.port = _unused_port()
        self.process: subprocess.Popen[bytes] | None = None
        self._settings = [
            f"database={directory / 'murmur.sqlite'}",
            "host=127.0.0.1",
            "logfile=",
            "welcometext=",
            "users=20",
            "bandwidth=72000",
            "certrequired=false",
            "bonjour=false",
        ]
        if os.geteuid() == 0:
            # murmurd drops root for this user, which must own its data directory.
            self._settings.append(f"uname={SERVER_USER}")
            entry = pwd.getpwnam(SERVER_USER)
            os.chown(directory, entry.pw_uid, entry.pw_gid)
        self.ini = directory / "murmur.ini"
        self.log = directory / "murmur.log"

    def start(self) -> None:
        """Start murmurd on `self.port`, or on a new port if that one was taken meanwhile
        (a restart keeps its port while it can)."""
        for _ in range(PORT_TRIES):
            if self._start_on_port():
                return
            self.port = _unused_port()
        raise RuntimeError(f"murmurd found no free port in {PORT_TRIES} tries")

    def _start_on_port(self) -> bool:
        self.ini.write_text("\n".join([*self._settings, f"port={self.port}"]) + "\n")
        seen = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "-ini", str(self.ini), "-fg"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        listening = f"Server listening on 127.0.0.1:{self.port}"
        taken = f"TCP Listen on 127.0.0.1:{self.port} failed"
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"murmurd exited: {self.log.read_text()[-2000:]}")
            said = self.log.read_bytes()[seen:].decode(errors="replace")
            if taken in said:
                self.stop()
                return False
            if listening in said:
                return True
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"murmurd did not listen within {START_SECONDS}s")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)
