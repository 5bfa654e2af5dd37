"""A request's head (request line and headers) is bounded in size: an oversized one is
refused with 414 or 431 and the connection closed, however fast it is sent, so a
client cannot grow the server's memory with one endless URL or header.

Attacked over raw sockets against ``gateway serve`` (its HTTP protocol does this)."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from gateway.request_head import MAX_PIPELINED
from tests.live import Live, gateway_env, live_gateway

LIMIT = 16 * 1024  # GATEWAY_MAX_HEAD_BYTES for these tests


@pytest.fixture(scope="module")
def live(mongo_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data: Path = tmp_path_factory.mktemp("head")
    env = gateway_env(data, mongodb_uri=mongo_uri, live_data="false", max_head_bytes=str(LIMIT))
    with live_gateway(env) as served:
        yield served


def _flood(sock: socket.socket, start: bytes, filler: bytes, megabytes: int) -> int:
    """Send ``start`` then up to ``megabytes`` MiB of ``filler``; the MiB sent before the
    server closed the connection."""
    sock.sendall(start)
    chunk = filler * ((1 << 20) // len(filler))
    for sent in range(megabytes):
        try:
            sock.sendall(chunk)
        except OSError:
            return sent
    return megabytes


def _answer(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """The status, headers and body of the answer; the connection then closes."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except OSError:
        pass  # reset after the answer: the client was still sending
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return int(status_line.split(" ")[1]), {k.lower(): v for k, v in headers.items()}, body


def _rss_mib(live: Live) -> float:
    return psutil.Process(live.pid).memory_info().rss / 2**20


@pytest.mark.parametrize(
    ("start", "filler", "status", "message"),
    [
        (b"GET /api/hello?q=", b"a", 414, "URL"),
        (b"GET /api/hello HTTP/1.1\r\nHost: x\r\nX-Big: ", b"a", 431, "headers"),
        (b"GET /api/hello HTTP/1.1\r\nHost: x\r\n", b"X-A: 1\r\n", 431, "headers"),
    ],
    ids=["endless-url", "endless-header", "endless-headers"],
)
def test_an_endless_head_is_refused_and_grows_no_memory(live, start, filler, status, message):
    before = _rss_mib(live)
    with live.connect() as sock:
        started = time.monotonic()
        sent = _flood(sock, start, filler, 64)
        code, headers, body = _answer(sock)
        assert time.monotonic() - started < 8  # refused, not waited out by the head timeout
    assert sent < 64, "the server read 64 MiB of one request head"
    assert code == status
    assert message in json.loads(body)["error"]
    assert headers["connection"] == "close"
    assert headers["content-type"] == "application/json"
    assert _rss_mib(live) - before < 16
    assert httpx.get(f"{live.base_url}/api/hello").status_code == 200  # still serving


def test_heads_within_the_limit_are_served(live):
    token = "x" * (LIMIT // 2)  # a long cookie or token still fits
    answer = httpx.get(f"{live.base_url}/api/hello", headers={"X-Long": token})
    assert answer.status_code == 200
    many = {f"X-H{i}": "1" for i in range(90)}
    assert httpx.get(f"{live.base_url}/api/hello", headers=many).status_code == 200
    url = f"{live.base_url}/api/hello?q={'a' * (LIMIT // 2)}"
    assert httpx.get(url).status_code in (200, 400)  # read, not refused for its size


def test_a_head_just_over_the_limit_is_refused(live):
    answer = httpx.get(f"{live.base_url}/api/hello", headers={"X-Long": "x" * (LIMIT + 1)})
    assert answer.status_code == 431
    answer = httpx.get(f"{live.base_url}/api/hello", headers={f"X-H{i}": "1" for i in range(101)})
    assert answer.status_code == 431
    url = f"{live.base_url}/api/hello?q={'a' * (LIMIT + 1)}"
    assert httpx.get(url).status_code == 414


def test_pipelined_requests_after_a_large_body_are_served(live):
    """The head count starts at each request's first byte: a large body sent in the same
    segments as the next request's head does not count against that head."""
    body = b'{"query": "{ hello }"}' + b" " * (LIMIT * 4)
    request = b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    request += b"Content-Length: %d\r\n\r\n%s" % (len(body), body)
    with live.connect() as sock:
        sock.sendall(request + b"GET /api/hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    statuses = [int(code) for code in re.findall(rb"HTTP/1\.1 (\d{3}) ", received)]
    assert statuses == [200, 200]


_CHUNKED = (
    b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)
_QUERY = b'{"query": "{ hello }"}'


def test_endless_trailers_after_a_chunked_body_are_refused(live):
    """Trailers are headers after the body: httptools gathers them the same way."""
    before = _rss_mib(live)
    with live.connect() as sock:
        started = time.monotonic()
        start = _CHUNKED + b"%x\r\n%s\r\n0\r\nX-Trailer: " % (len(_QUERY), _QUERY)
        sent = _flood(sock, start, b"a", 64)
        code, headers, body = _answer(sock)
        assert time.monotonic() - started < 8
    assert sent < 64, "the server read 64 MiB of trailers"
    assert code == 431
    assert "trailers" in json.loads(body)["error"]
    assert headers["connection"] == "close"
    assert _rss_mib(live) - before < 16


def test_a_body_in_many_small_chunks_is_served(live):
    """Chunk framing is allowed for: a body sent a byte a chunk is read whole."""
    chunks = b"".join(b"1\r\n%c\r\n" % byte for byte in _QUERY + b" " * (LIMIT * 2))
    with live.connect() as sock:
        sock.sendall(_CHUNKED.replace(b"Host: x", b"Host: x\r\nConnection: close"))
        sock.sendall(chunks + b"0\r\nX-Done: yes\r\n\r\n")
        code, _, body = _answer(sock)
    assert code == 200
    assert json.loads(body)["data"] == {"hello": "Hello from the gateway"}


_HELLO = b"GET /api/hello HTTP/1.1\r\nHost: x\r\n\r\n"


def test_a_flood_of_pipelined_requests_holds_no_memory(live):
    """uvicorn queued every pipelined request of each read, and read on after each answer
    while requests were still queued: clients that pipelined megabytes of tiny requests
    without reading the answers grew the process by about 200 MiB a second. Now a
    connection holds at most ``MAX_PIPELINED`` requests ahead of their answers; past
    that it is answered up to there, then closed."""
    before = _rss_mib(live)
    socks = []
    try:
        for _ in range(10):
            sock = live.connect()
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                sock.send(_HELLO * (4 * 1024 * 1024 // len(_HELLO)))
            socks.append(sock)
        time.sleep(3)
        assert _rss_mib(live) - before < 32
    finally:
        for sock in socks:
            sock.close()
    assert httpx.get(f"{live.base_url}/api/hello").status_code == 200


def test_pipelined_requests_are_answered_in_order_up_to_the_cap(live):
    with live.connect() as sock:
        sock.sendall(_HELLO * 8 + _HELLO.replace(b"\r\n\r\n", b"\r\nConnection: close\r\n\r\n"))
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", received) == [b"200"] * 9
    with live.connect() as sock:
        sock.sendall(_HELLO * (MAX_PIPELINED + 50))
        received = b""
        while chunk := sock.recv(65536):  # answered up to the cap, then closed
            received += chunk
    answered = len(re.findall(rb"HTTP/1\.1 200 ", received))
    assert MAX_PIPELINED <= answered < MAX_PIPELINED + 50
    assert received.rstrip().endswith(b"}")  # whole answers only


def test_an_oversized_head_after_a_pipelined_request_spoils_no_answer(live):
    """The answer under way is sent whole; the oversized request is refused after it
    (a 431 once it is done) or the connection closes with it."""
    oversized = b"GET /api/hello HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (LIMIT + 10) + b"\r\n\r\n"
    with live.connect() as sock:
        sock.sendall(_HELLO + oversized)
        received = b""
        with contextlib.suppress(OSError):
            while chunk := sock.recv(65536):
                received += chunk
    statuses = re.findall(rb"HTTP/1\.1 (\d{3}) ", received)
    assert statuses in ([b"200"], [b"200", b"431"])
    first, _, rest = received.partition(b"\r\n\r\n")
    length = int(re.search(rb"content-length: (\d+)", first).group(1))
    assert json.loads(rest[:length]) == {"message": "Hello from the gateway"}
