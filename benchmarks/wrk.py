"""wrk: installed when missing, run at the fixed settings, its Lua report parsed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CONNECTIONS",
    "LUA_DIR",
    "THREADS",
    "TIMEOUT",
    "WrkError",
    "WrkResult",
    "ensure_wrk",
    "run_wrk",
    "wrk_version",
]

THREADS = 1
CONNECTIONS = 32
TIMEOUT = "10s"  # argon2-bound logins and 1 MiB uploads queue well past wrk's default 2 s
LUA_DIR = Path(__file__).with_name("lua")
_MARKER = "BENCH_RESULT "


class WrkError(RuntimeError):
    """wrk failed or printed no report."""


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run measured (from ``lua/report.lua``)."""

    requests: int
    duration_s: float
    socket_errors: int
    status_errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        """Completed requests per second."""
        return self.requests / self.duration_s

    @property
    def errors(self) -> int:
        """Socket errors, timeouts and answers with a status of 400 or more."""
        return self.socket_errors + self.status_errors


def ensure_wrk() -> str:
    """The path of wrk, installing Debian's package first when missing and running as root."""
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() != 0:
        raise SystemExit(
            "wrk is not installed and this is not root: run `sudo apt-get install -y wrk`, "
            "then `make bench` again"
        )
    print("wrk is missing: installing it with apt-get", flush=True)
    subprocess.run(["apt-get", "update", "-qq"], check=True)  # noqa: S607 - the system's apt
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True)  # noqa: S607
    found = shutil.which("wrk")
    if not found:
        raise SystemExit("apt-get installed wrk but it is not on PATH")
    return found


def wrk_version(binary: str) -> str:
    """wrk's version line, e.g. ``wrk debian/4.1.0-3+b2 [epoll]``."""
    run = subprocess.run([binary, "-v"], capture_output=True, text=True, check=False)  # noqa: S603
    line = (run.stdout or run.stderr).splitlines()[0]
    return line.split(" Copyright")[0].strip()


def run_wrk(binary: str, url: str, script: str, args: Sequence[str], duration_s: int) -> WrkResult:
    """Drive ``url`` for ``duration_s`` with ``lua/<script>`` and its ``args``."""
    command = [
        binary,
        f"--threads={THREADS}",
        f"--connections={CONNECTIONS}",
        f"--duration={duration_s}s",
        f"--timeout={TIMEOUT}",
        f"--script={LUA_DIR / script}",
        url,
        "--",
        *args,
    ]
    run = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if run.returncode != 0:
        raise WrkError(f"wrk exited with {run.returncode}: {run.stderr or run.stdout}")
    return _parse(run.stdout)


def _parse(output: str) -> WrkResult:
    """Read the JSON line ``lua/report.lua`` prints."""
    line = next((line for line in output.splitlines() if line.startswith(_MARKER)), None)
    if line is None:
        raise WrkError(f"wrk printed no report:\n{output}")
    data = json.loads(line[len(_MARKER) :])
    return WrkResult(
        requests=int(data["requests"]),
        duration_s=data["duration_us"] / 1e6,
        socket_errors=int(data["connect"] + data["read"] + data["write"] + data["timeout"]),
        status_errors=int(data["status"]),
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
    )
