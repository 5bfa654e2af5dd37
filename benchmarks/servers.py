"""The servers under test: uvicorn processes, all started with the same settings."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from benchmarks.client import call

__all__ = ["UVICORN_OPTIONS", "Server", "check_uvicorn_extras", "free_port"]

UVICORN_OPTIONS = (
    "--loop", "uvloop",
    "--http", "httptools",
    "--workers", "1",
    "--no-access-log",
    "--log-level", "warning",
)  # fmt: skip
_START_TIMEOUT = 60.0
_STOP_TIMEOUT = 15.0


def check_uvicorn_extras() -> None:
    """Refuse to run without uvloop and httptools: the figures would not be the production ones."""
    missing = [name for name in ("uvloop", "httptools") if importlib.util.find_spec(name) is None]
    if missing:
        raise SystemExit(
            f"missing {', '.join(missing)}: run `make bench` (installs uvicorn[standard])"
        )


def free_port() -> int:
    """A loopback port nobody listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """One ``uvicorn <target>`` process on a port of its own, its output in ``log``."""

    name: str
    target: str
    env: Mapping[str, str]
    log: Path
    cwd: Path
    port: int = field(default_factory=free_port)
    _process: subprocess.Popen[bytes] | None = None
    _sink: IO[bytes] | None = None

    @property
    def url(self) -> str:
        """Where the server listens."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        """The server's process id."""
        if self._process is None:
            raise RuntimeError(f"{self.name} is not running")
        return self._process.pid

    def argv(self) -> list[str]:
        """The server's command line."""
        return [
            sys.executable, "-m", "uvicorn", self.target,
            "--host", "127.0.0.1", "--port", str(self.port), *UVICORN_OPTIONS,
        ]  # fmt: skip

    def start(self, ready_path: str) -> None:
        """Start the server, in a process group of its own, and wait until ``GET ready_path``
        answers 200."""
        self._sink = self.log.open("ab")
        self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
            self.argv(), cwd=self.cwd, env=dict(self.env), stdout=self._sink,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        self._wait_ready(ready_path)

    def is_ready(self, status: int) -> bool:
        """Whether an answer of ``status`` to the readiness request means the server is up."""
        return status == 200

    def _wait_ready(self, path: str) -> None:
        """Poll ``path`` until the answer says ready; stop on exit or after the start timeout."""
        assert self._process is not None
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise SystemExit(f"{self.name} exited at start-up; see {self.log}")
            try:
                if self.is_ready(call(self.url, "GET", path).status):
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{self.name} did not answer GET {path} in {_START_TIMEOUT:.0f}s")

    def stop(self) -> None:
        """Stop the server's process group (SIGTERM, then SIGKILL if it lingers)."""
        if self._process is not None and self._process.poll() is None:
            os.killpg(self._process.pid, signal.SIGTERM)
            try:
                self._process.wait(_STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(self._process.pid, signal.SIGKILL)
                self._process.wait()
        if self._sink is not None:
            self._sink.close()
