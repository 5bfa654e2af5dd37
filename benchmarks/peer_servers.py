"""Peers on the gateway's database, and the gateway with two workers: installed and started.

The peers (``benchmarks/peers/``) are Node.js programs: the legacy Next.js API
routes (``next build`` + ``next start``) and Apollo Server 5 standalone. Each
is installed from its lock file with ``npm ci`` (and built) when its stamp
does not match the lock file and sources, so a second ``make bench`` installs
nothing. A peer that cannot be installed is skipped with the reason, not
fatal: the gateway's own figures do not depend on it.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.servers import Server

__all__ = ["PEERS", "CommandServer", "PeerApp", "install", "peer_server", "workers_server"]

PEERS_DIR = Path(__file__).with_name("peers")
_STAMP = ".installed"  # holds the digest of what was installed and built
_SOURCES = ("package-lock.json", "*.js", "lib/*.js", "pages/**/*.js")


@dataclass(frozen=True)
class PeerApp:
    """A Node.js peer: its directory, its build step after ``npm ci``, its command line."""

    name: str
    directory: Path
    build: tuple[str, ...]
    start: tuple[str, ...]  # ``{port}`` stands for the port it listens on
    ready_path: str
    made: str  # a file the install and build leave: gone, they run again


# Run through node itself, not npx or npm: the measured process tree is the server's alone.
_NEXT = ("node", "node_modules/next/dist/bin/next")
PEERS = (
    PeerApp(
        "nextjs", PEERS_DIR / "nextjs", (*_NEXT, "build"),
        (*_NEXT, "start", "--hostname", "127.0.0.1", "--port", "{port}"), "/api/hello",
        ".next/BUILD_ID",
    ),
    PeerApp(
        "apollo", PEERS_DIR / "apollo", (), ("node", "server.js"), "/graphql",
        "node_modules/.package-lock.json",
    ),
)  # fmt: skip


def _digest(directory: Path) -> str:
    """A digest of the lock file and the sources: what an install and build depend on."""
    digest = hashlib.sha256()
    for pattern in _SOURCES:
        for path in sorted(directory.glob(pattern)):
            if "node_modules" not in path.parts:
                digest.update(path.relative_to(directory).as_posix().encode() + b"\0")
                digest.update(path.read_bytes())
    return digest.hexdigest()


def install(peer: PeerApp, env: Mapping[str, str], log: Path) -> str | None:
    """Install and build ``peer`` unless its stamp is current; why it cannot run, or None."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node and npm are not installed"
    stamp = peer.directory / _STAMP
    digest = _digest(peer.directory)
    made = (peer.directory / peer.made).is_file()
    if made and stamp.is_file() and stamp.read_text() == digest:
        return None
    print(f"installing the {peer.name} peer (npm ci from its lock file)", flush=True)
    stamp.unlink(missing_ok=True)
    steps = [("npm", "ci", "--no-audit", "--no-fund"), *([peer.build] if peer.build else [])]
    with log.open("ab") as sink:
        for step in steps:
            done = subprocess.run(  # noqa: S603 - fixed argv, no shell
                step, cwd=peer.directory, env=dict(env), stdout=sink, stderr=subprocess.STDOUT,
                check=False,
            )  # fmt: skip
            if done.returncode != 0:
                return f"`{' '.join(step)}` failed with {done.returncode}; see {log}"
    stamp.write_text(digest)
    return None


@dataclass
class CommandServer(Server):
    """A server started by a command line of its own rather than uvicorn's."""

    command: Sequence[str] = field(default_factory=tuple)

    def argv(self) -> list[str]:
        """The command, with ``{port}`` replaced by the server's port."""
        return [part.replace("{port}", str(self.port)) for part in self.command]

    def is_ready(self, status: int) -> bool:
        """Any answer but a server error: Apollo answers a bare GET with 400, not 200."""
        return status < 500


def peer_server(peer: PeerApp, env: Mapping[str, str], logs: Path) -> CommandServer:
    """``peer`` as a server; ``env`` holds its ``MONGODB_URI``."""
    peer_env = {**env, "NODE_ENV": "production", "NEXT_TELEMETRY_DISABLED": "1"}
    server = CommandServer(
        peer.name, peer.name, peer_env, logs / f"{peer.name}.log", peer.directory,
        command=peer.start,
    )  # fmt: skip
    server.env = {**peer_env, "PORT": str(server.port)}
    return server


def workers_server(
    gateway_env: Mapping[str, str], mongodb_uri: str, workers: int, logs: Path, cwd: Path
) -> CommandServer:
    """``gateway serve --workers N`` on the single gateway's database (``mongodb_uri``),
    without live data: each worker's change streams would poll the shared embedded
    database all run long, and it would never be idle between runs (``settle``)."""
    env = {**gateway_env, "GATEWAY_MONGODB_URI": mongodb_uri, "GATEWAY_LIVE_DATA": "false"}
    name = f"gateway-serve-{workers}"
    return CommandServer(
        name, f"gateway serve --workers {workers}", env, logs / f"{name}.log", cwd,
        command=(sys.executable, "-m", "gateway.cli", "serve", "--host", "127.0.0.1",
                 "--port", "{port}", "--workers", str(workers)),
    )  # fmt: skip
