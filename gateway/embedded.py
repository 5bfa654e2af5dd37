"""The embedded database: ``nx-27017`` (MongoDB wire protocol over SQLite) as a child process.

Used when ``GATEWAY_MONGODB_URI`` is not set. The server listens on a free
loopback port; its address is recorded in ``<data dir>/embedded.json`` so that
the CLI (and other gateways on the same data directory) talk to the very
server a running gateway serves instead of opening the SQLite files twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import fcntl
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

__all__ = ["EmbeddedServer", "EmbeddedStartError"]

log = logging.getLogger("gateway.embedded")

_PR_SET_PDEATHSIG = 1
_START_TIMEOUT = 20.0


class EmbeddedStartError(RuntimeError):
    """The embedded server did not come up."""


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    # The kernel sends SIGTERM to the server when the gateway dies, even by
    # SIGKILL, so no orphan outlives it.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    os.setpgid(0, 0)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _answers(port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


class EmbeddedServer:
    """Attach to the data directory's running server, or start and supervise one."""

    def __init__(self, data_dir: Path) -> None:
        self._dir = data_dir
        self._record = data_dir / "embedded.json"
        self._process: subprocess.Popen[bytes] | None = None
        self._port: int | None = None
        self._watchdog: asyncio.Task[None] | None = None

    @property
    def uri(self) -> str:
        if self._port is None:
            raise RuntimeError("embedded server not started")
        return f"mongodb://127.0.0.1:{self._port}/?directConnection=true"

    def start(self) -> str:
        """Return the URI of the data directory's server, starting one if none answers."""
        self._dir.mkdir(parents=True, exist_ok=True)
        with _locked(self._dir / "embedded.lock"):
            port = self._recorded_port()
            if port is not None and _answers(port):
                self._port = port
                log.info("using the embedded database already serving %s", self._dir)
                return self.uri
            self._port = _free_port()
            self._spawn()
            self._record.write_text(json.dumps({"port": self._port, "pid": os.getpid()}))
        return self.uri

    def _recorded_port(self) -> int | None:
        try:
            return int(json.loads(self._record.read_text())["port"])
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def _spawn(self) -> None:
        self._launch()
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._ready(deadline):
            time.sleep(0.05)

    async def _spawn_async(self) -> None:
        self._launch()
        deadline = time.monotonic() + _START_TIMEOUT
        while not self._ready(deadline, probe_timeout=0.05):  # noqa: ASYNC110 - polls a process
            await asyncio.sleep(0.05)

    def _launch(self) -> None:
        # Called on the thread that lives as long as the gateway (the event loop's):
        # the kernel's parent-death signal fires when the forking *thread* ends.
        assert self._port is not None
        store = self._dir / "mongo"
        store.mkdir(exist_ok=True)
        log_file = self._dir / "mongo.log"
        command = [
            sys.executable, "-m", "gateway.nx_27017_runner", str(log_file),
            "--data-dir", str(store),
            "--host", "127.0.0.1",
            "--port", str(self._port),
            "--pid-file", str(self._dir / "mongo.pid"),
        ]  # fmt: skip
        # What the server prints outside its log (a crash's traceback) is kept beside it.
        with (self._dir / "mongo.stderr").open("ab") as sink:
            self._process = subprocess.Popen(  # noqa: S603 - fixed argv, no shell
                command,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,
                close_fds=True,
            )

    def _ready(self, deadline: float, probe_timeout: float = 0.2) -> bool:
        """Whether the launched server answers; raises if it died or is too slow."""
        assert self._process is not None
        assert self._port is not None
        if _answers(self._port, timeout=probe_timeout):
            log.info("embedded database on 127.0.0.1:%s (data in %s)", self._port, self._dir)
            return True
        if self._process.poll() is not None:
            raise EmbeddedStartError(
                f"nx-27017 exited with {self._process.returncode}; "
                f"see {self._dir / 'mongo.log'} and {self._dir / 'mongo.stderr'}"
            )
        if time.monotonic() > deadline:
            self._terminate()
            raise EmbeddedStartError(f"nx-27017 did not answer in {_START_TIMEOUT:.0f}s")
        return False

    def supervise(self, interval: float = 1.0) -> None:
        """Restart the server (same port) whenever it dies; needs a running event loop."""
        self._watchdog = asyncio.get_running_loop().create_task(self._watch(interval))

    async def _watch(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            if self._process is not None and self._process.poll() is not None:
                log.warning("embedded database exited (%s); restarting", self._process.returncode)
                try:
                    await self._spawn_async()
                except EmbeddedStartError:
                    log.exception("embedded database restart failed; retrying")
            elif self._process is None and self._port is not None and not _answers(self._port):
                # The server we borrowed is gone with its owner: take over.
                log.warning("the shared embedded database went away; starting our own")
                with contextlib.suppress(EmbeddedStartError):
                    self._take_over()

    def _take_over(self) -> None:
        # Blocks the loop briefly; only ever runs while the database is down anyway.
        with _locked(self._dir / "embedded.lock"):
            if self._port is not None and _answers(self._port):
                return
            self._spawn()
            self._record.write_text(json.dumps({"port": self._port, "pid": os.getpid()}))

    async def stop(self) -> None:
        """Stop supervising and, if this process owns the server, stop it."""
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
            self._watchdog = None
        if self._process is not None:
            await asyncio.to_thread(self._terminate)
            with contextlib.suppress(OSError):
                if self._recorded_port() == self._port:
                    self._record.unlink()
            self._process = None

    def _terminate(self) -> None:
        if self._process is None or self._process.poll() is not None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
