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
from tests.town import free_port

SERVER_USER = "mumble-server"
START_SECONDS = 30.0


class Murmur:
    """One server with its own ini and database; `stop()`/`start()` keep both."""

    def __init__(self) -> None:
        self.binary = murmurd_binary()
        # Not under pytest's tmp_path: as root, murmurd runs as its own user, which
        # cannot pass through pytest's private (0700) directories.
        directory = self.directory = Path(tempfile.mkdtemp(prefix="shopwatch-murmur-"))
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        lines = [
            f"database={directory / 'murmur.sqlite'}",
            "host=127.0.0.1",
            f"port={self.port}",
            "logfile=",
            "welcometext=",
            "users=20",
            "bandwidth=72000",
            "certrequired=false",
            "bonjour=false",
        ]
        if os.geteuid() == 0:
            # murmurd drops root for this user, which must own its data directory.
            lines.append(f"uname={SERVER_USER}")
            entry = pwd.getpwnam(SERVER_USER)
            os.chown(directory, entry.pw_uid, entry.pw_gid)
        self.ini = directory / "murmur.ini"
        self.ini.write_text("\n".join(lines) + "\n")
        self.log = directory / "murmur.log"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [self.binary, "-ini", str(self.ini), "-fg"],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"murmurd exited: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
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
