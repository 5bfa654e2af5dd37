"""A serving process holds at most ``GATEWAY_MAX_CONNECTIONS`` connections, and fewer
when its open-files limit is lower: past the cap a new connection is answered 503 at
once and closed, so a flood of idle connections can take neither the memory nor the
file descriptors that the held connections and the database need.

Attacked over raw sockets against ``gateway serve``."""

from __future__ import annotations

import contextlib
import json
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gateway.http_protocol import FILES_KEPT
from tests.live import Live, gateway_env, live_gateway

CAP = 40


@pytest.fixture(scope="module")
def live(mongo_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data: Path = tmp_path_factory.mktemp("cap")
    env = gateway_env(data, mongodb_uri=mongo_uri, live_data="false", max_connections=str(CAP))
    with live_gateway(env) as served:
        yield served


def _get(sock: socket.socket, path: str) -> tuple[int, dict[str, str], bytes]:
    """GET ``path`` on a kept-alive connection: the status, headers and body."""
    sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
    received = b""
    while b"\r\n\r\n" not in received:
        received += sock.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines)}
    while len(body) < int(headers["content-length"]):
        body += sock.recv(65536)
    return int(status_line.split(" ")[1]), headers, body


def _refusal(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """What the server said on a connection it closed without a request."""
    received = b""
    with contextlib.suppress(OSError):
        while chunk := sock.recv(65536):
            received += chunk
    assert received, "the connection was held, not refused"
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v for k, v in (line.split(": ", 1) for line in lines)}
    return int(status_line.split(" ")[1]), headers, body


def _held(sockets: list[socket.socket], expected: int) -> list[socket.socket]:
    """Those of ``sockets`` the server keeps (open, nothing received), once no more than
    ``expected`` are (it accepts a flood in a moment, but a busy machine may take longer)."""
    deadline = time.monotonic() + 10
    while True:
        time.sleep(0.3)
        kept = []
        for sock in sockets:
            sock.setblocking(False)
            try:
                sock.recv(1, socket.MSG_PEEK)  # an answer, or the end: refused
            except BlockingIOError:
                kept.append(sock)
            finally:
                sock.setblocking(True)
        if len(kept) <= expected or time.monotonic() > deadline:
            return kept


def test_connections_past_the_cap_are_refused_at_once(live: Live) -> None:
    sockets = [live.connect() for _ in range(3 * CAP)]
    try:
        held = _held(sockets, CAP)
        assert len(held) == CAP
        for sock in sockets:
            if sock in held:
                continue
            status, headers, body = _refusal(sock)
            assert status == 503
            assert headers["connection"] == "close"
            assert headers["retry-after"] == "1"
            assert json.loads(body) == {"error": "The server holds too many connections"}
        # The connections held are served, the database read included.
        assert _get(held[0], "/api/products?limit=1")[0] == 200
        assert _get(held[-1], "/api/hello")[0] == 200
    finally:
        for sock in sockets:
            sock.close()
    # Room again once they are gone.
    deadline = time.monotonic() + 10
    while True:
        with live.connect() as sock:
            try:
                assert _get(sock, "/api/hello")[0] == 200
                break
            except (OSError, IndexError):
                if time.monotonic() > deadline:
                    raise
        time.sleep(0.1)


def test_the_cap_fits_the_open_files_limit(mongo_uri: str, tmp_path: Path) -> None:
    """With an open-files limit of 256 the default cap is lowered to half of it, so that a
    flood of 400 connections leaves files for the database and the rest: the excess is
    refused at once (not left waiting for files to accept it with)."""
    env = gateway_env(tmp_path, mongodb_uri=mongo_uri, live_data="false")
    with live_gateway(env, open_files=256) as live:
        first = live.connect()
        flood = [live.connect() for _ in range(400)]
        try:
            held = _held(flood, 128 - 1)
            assert len(held) == 128 - 1  # the first is held too
            for sock in flood:
                if sock not in held:
                    assert _refusal(sock)[0] == 503
            for _ in range(3):
                assert _get(first, "/api/products?limit=2")[0] == 200
        finally:
            for sock in flood:
                sock.close()
            first.close()


def test_the_open_files_limit_is_raised_for_the_cap_where_the_hard_limit_allows() -> None:
    """A soft limit of 256 under a hard one of 2,000: a cap of 1,000 raises it to 1,256 and
    stays; a cap of 5,000 raises it to the hard limit, and is lowered to fit it."""
    script = (
        "import resource\n"
        "from gateway.http_protocol import connection_cap\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (256, 2000))\n"
        "print(connection_cap(1000), resource.getrlimit(resource.RLIMIT_NOFILE)[0])\n"
        "print(connection_cap(5000), resource.getrlimit(resource.RLIMIT_NOFILE)[0])\n"
    )
    if resource.getrlimit(resource.RLIMIT_NOFILE)[1] < 2000:
        pytest.skip("this machine's hard open-files limit is below 2,000")
    out = subprocess.run(
        [sys.executable, "-c", script],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout.split()
    assert out == ["1000", "1256", str(2000 - FILES_KEPT), "2000"]
