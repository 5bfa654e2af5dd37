"""Real gateway processes for the tests that need one (memory, signals, the CLI)."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.conftest import TEST_ARGON2, TEST_SECRET


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gateway_env(data_dir: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GATEWAY_")}
    env.update(
        {
            "GATEWAY_DATA_DIR": str(data_dir),
            "GATEWAY_JWT_SECRET": TEST_SECRET,
            "GATEWAY_LOG_LEVEL": "WARNING",
            **{f"GATEWAY_{k.upper()}": str(v) for k, v in TEST_ARGON2.items()},
            **{f"GATEWAY_{k.upper()}": v for k, v in settings.items()},
        }
    )
    return env


def run_cli(
    args: list[str], env: Mapping[str, str], timeout: float = 60, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args],
        env=dict(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class Live:
    process: subprocess.Popen[bytes]
    base_url: str

    @property
    def pid(self) -> int:
        return self.process.pid

    def connect(self) -> socket.socket:
        """A raw TCP connection to it (plain HTTP), to attack it with bytes."""
        host, port = self.base_url.removeprefix("http://").split(":")
        return socket.create_connection((host, int(port)), timeout=10)


@contextlib.contextmanager
def live_gateway(
    env: Mapping[str, str],
    cwd: Path | None = None,
    *,
    args: Sequence[str] = (),
    tls_cert: Path | None = None,
    open_files: int | None = None,
) -> Iterator[Live]:
    """Start ``gateway serve`` (with ``args``) on a free port and stop it (SIGTERM) afterwards.

    ``tls_cert``: it serves HTTPS with that (self-signed) certificate, trusted to check it.
    ``open_files``: its open-files limit (soft and hard), lower than this process's.
    """
    port = free_port()

    def limit_open_files() -> None:  # in the child, before it runs the gateway
        if open_files is not None:
            resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

    process = subprocess.Popen(
        [sys.executable, "-m", "gateway.cli", "serve", "--port", str(port), *args],
        env=dict(env),
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=limit_open_files if open_files is not None else None,
    )
    scheme = "http" if tls_cert is None else "https"
    live = Live(process, f"{scheme}://127.0.0.1:{port}")
    verify: bool | ssl.SSLContext = (
        True if tls_cert is None else ssl.create_default_context(cafile=tls_cert)
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gateway exited: {process.stderr.read().decode()}")  # type: ignore[union-attr]
            with contextlib.suppress(httpx.HTTPError):
                health = httpx.get(f"{live.base_url}/healthz", timeout=1, verify=verify)
                if health.status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("gateway did not start")
            time.sleep(0.1)
        yield live
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stderr is not None:
            process.stderr.close()
