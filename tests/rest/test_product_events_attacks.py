"""``GET /api/products/events`` attacked: hostile values, churn, a reader that never reads.

Served by uvicorn in this test's event loop (with the gateway's own HTTP protocol), so
that the feed's counts, the loop's tasks and the server's connections can be checked.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import gc
import logging
import os
import socket
import struct
import warnings
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import msgspec
import pytest
import uvicorn
from pymongo import AsyncMongoClient

from gateway.app import create_app
from gateway.change_feed import ChangeFeed
from gateway.config import Settings
from gateway.http_protocol import http_protocol
from tests.live import free_port
from tests.services.test_change_feed import until

URL = "/api/products/events"
WRITE_TIMEOUT = 1.0
WAIT = 15.0


@dataclass
class Server:
    port: int
    feed: ChangeFeed
    uvicorn: uvicorn.Server
    mongo: AsyncMongoClient[Any]
    db_name: str

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def settled(self) -> None:
        """Wait until no subscription and no connection is left (or fail)."""
        try:
            await until(
                lambda: not (self.feed.subscriber_count or self.uvicorn.server_state.connections)
            )
        except TimeoutError:
            left = self.feed.subscriber_count, len(self.uvicorn.server_state.connections)
            raise AssertionError(f"subscriptions and connections left: {left}") from None
        assert self.feed._per_client == {}
        assert all(not subs for subs in self.feed._subscribers.values())


@pytest.fixture
async def server(settings: Settings, mongo: AsyncMongoClient[Any]) -> AsyncIterator[Server]:
    live = msgspec.structs.replace(
        settings,
        live_data=True,
        live_poll_interval=0.01,
        live_heartbeat=0.2,
        live_max_per_client=1000,
        write_timeout=WRITE_TIMEOUT,
    )
    app = create_app(live, client=mongo)
    port = free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        log_config=None,
        http=http_protocol(live),
        timeout_graceful_shutdown=5,
    )
    served = uvicorn.Server(config)
    task = asyncio.create_task(served.serve())
    await until(lambda: served.started)
    try:
        yield Server(port, app.state.services.feed, served, mongo, live.db_name)
    finally:
        served.should_exit = True
        await task


async def raw_request(server: Server, request: bytes) -> socket.socket:
    """A raw connection, with a small receive buffer, that sent ``request`` (and reads
    nothing yet)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.setblocking(False)
    loop = asyncio.get_running_loop()
    await loop.sock_connect(sock, ("127.0.0.1", server.port))
    await loop.sock_sendall(sock, request)
    return sock


async def open_stream(server: Server, query: str = "") -> socket.socket:
    """A raw connection that asked for the event stream."""
    return await raw_request(server, f"GET {URL}{query} HTTP/1.1\r\nHost: t\r\n\r\n".encode())


async def read_until(sock: socket.socket, marker: bytes) -> bytes:
    loop = asyncio.get_running_loop()
    got = b""
    async with asyncio.timeout(WAIT):
        while marker not in got:
            chunk = await loop.sock_recv(sock, 65536)
            assert chunk, got
            got += chunk
    return got


async def insert_products(server: Server, count: int, description: str = "") -> None:
    now = datetime.now(UTC)
    docs = [
        {"name": f"P{i}", "category": "attack", "price": 1, "description": description or None,
         "createdAt": now, "updatedAt": now, "createdMs": 1, "version": 1}
        for i in range(count)
    ]  # fmt: skip
    await server.mongo[server.db_name].products.insert_many(docs)


async def test_a_reader_that_never_reads_is_dropped_and_disconnected(server):
    sock = await open_stream(server)
    try:
        await read_until(sock, b"retry: 3000")
        assert server.feed.subscriber_count == 1
        before = _rss()
        # ~10 MB of events: far more than the socket buffers and the queue hold.
        await insert_products(server, 2000, "x" * 5000)
        await server.settled()  # dropped from the feed, and the connection cut
        # Not buffered for the reader: the history (1,000 changes, ~5 MB) is most of it.
        assert _rss() - before < 30 << 20
        assert len(server.uvicorn.server_state.connections) == 0
        loop = asyncio.get_running_loop()
        with contextlib.suppress(ConnectionResetError):
            async with asyncio.timeout(WAIT):
                while await loop.sock_recv(sock, 1 << 20):
                    pass  # what the kernel kept, then the end
    finally:
        sock.close()


async def test_streams_dropped_mid_stream_leave_nothing(server, caplog):
    before = set(asyncio.all_tasks())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for round in range(10):
            socks = [await open_stream(server) for _ in range(50)]
            for sock in socks:
                await read_until(sock, b"retry: 3000")
            assert server.feed.subscriber_count == 50
            await insert_products(server, 1)
            for index, sock in enumerate(socks):  # closed without reading the change
                if index % 2:  # killed: a reset, not a FIN
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                sock.close()
            await server.settled()
            if round == 0:
                first = _rss()
        gc.collect()
        assert _rss() - first < 20 << 20
    assert _request_tasks(set(asyncio.all_tasks()) - before) == []
    assert not caught
    assert "destroyed" not in caplog.text
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


def _request_tasks(tasks: set[asyncio.Task[Any]]) -> list[asyncio.Task[Any]]:
    """The tasks among ``tasks`` that serve a request (the change streams' come and go)."""
    serving = ("uvicorn", "litestar", "/rest/", "/resolvers/", "change_feed.py")
    return [
        task
        for task in tasks
        if any(part in frame.f_code.co_filename for frame in task.get_stack() for part in serving)
    ]


def _rss() -> int:
    """This process's resident memory, in bytes."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


GARBAGE_ID = base64.b64encode(b"\xff\x00" * 64).decode()


@pytest.mark.parametrize(
    "last_event_id",
    ["x" * 100_000, GARBAGE_ID, "!!!", "%00", "A" * 7, ""],
    ids=["100KB", "base64", "punctuation", "percent", "short", "empty"],
)
async def test_a_hostile_last_event_id_gets_a_reset_or_a_4xx(server, last_event_id):
    async with (
        httpx.AsyncClient(base_url=server.base_url, timeout=WAIT) as http,
        http.stream("GET", URL, headers={"Last-Event-ID": last_event_id}) as answer,
    ):
        if answer.status_code != 200:
            assert 400 <= answer.status_code < 500
            assert (await answer.aread()).startswith(b"{")  # a message, not a crash
        elif last_event_id:
            body = b""
            async for chunk in answer.aiter_bytes():
                body += chunk
                if b"event: reset" in body:
                    break
            assert b"event: reset" in body
    await server.settled()


@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("?category=" + "c" * 101, "category: must be at most 100 characters"),
        ("?id=" + "z" * 24, "id: must be a product id"),
        ("?id=" + "a" * 5000, "id: must be a product id"),
        ("?id=aaaaaaaaaaaaaaaaaaaaaaaa&id=bbbbbbbbbbbbbbbbbbbbbbbb", "id: given more than once"),
        ("?category=a&category=b", "category: given more than once"),
        ("?category=%00", "category: must not contain control characters"),
    ],
)
async def test_hostile_filters_are_400(server, query, detail):
    async with (
        httpx.AsyncClient(base_url=server.base_url, timeout=WAIT) as http,
        http.stream("GET", URL + query) as answer,
    ):
        assert answer.status_code == 400  # not a stream
        assert detail in msgspec.json.decode(await answer.aread())["details"]
    await server.settled()


async def test_a_huge_category_is_refused_not_held(server):
    async with (
        httpx.AsyncClient(base_url=server.base_url, timeout=WAIT) as http,
        http.stream("GET", URL, params={"category": "c" * 60_000}) as answer,
    ):
        assert answer.status_code == 400
    await server.settled()
