"""Faults against a real gateway process: stalled and vanishing clients, shutdown,
and the database stopping under traffic."""

from __future__ import annotations

import asyncio
import concurrent.futures
import signal
import socket
import time
from urllib.parse import urlsplit

import httpx
import msgspec

from gateway.app import create_app
from gateway.embedded import EmbeddedServer
from tests.conftest import running
from tests.live import gateway_env, live_gateway


def _address(base_url: str) -> tuple[str, int]:
    parts = urlsplit(base_url)
    return parts.hostname or "127.0.0.1", parts.port or 80


def _raw_request(base_url: str, head: str, body: bytes) -> socket.socket:
    sock = socket.create_connection(_address(base_url), timeout=30)
    sock.sendall(head.encode() + b"\r\n" + body)
    return sock


def _read_status(sock: socket.socket) -> int:
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1])


async def test_stalled_body_is_408(settings, tmp_path, alice):
    env = gateway_env(
        tmp_path / "d", mongodb_uri=settings.mongodb_uri, db_name=settings.db_name, body_timeout="1"
    )

    def run() -> None:
        with live_gateway(env) as live:
            head = (
                "POST /api/hello HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                "Content-Length: 100\r\n"
            )
            started = time.monotonic()
            with _raw_request(live.base_url, head, b'{"a": ') as sock:
                assert _read_status(sock) == 408
            assert time.monotonic() - started < 10
            # The server is fine afterwards.
            assert httpx.get(f"{live.base_url}/api/hello").status_code == 200

    await asyncio.to_thread(run)


async def test_client_vanishing_mid_upload_leaves_nothing(settings, tmp_path, alice, stored_files):
    env = gateway_env(tmp_path / "d", mongodb_uri=settings.mongodb_uri, db_name=settings.db_name)

    def run() -> None:
        with live_gateway(env) as live:
            head = (
                "POST /api/files/partial/big.bin HTTP/1.1\r\nHost: t\r\n"
                f"Authorization: {alice['headers']['Authorization']}\r\n"
                "Content-Type: application/octet-stream\r\nContent-Length: 10000000\r\n"
            )
            sock = _raw_request(live.base_url, head, b"x" * 3_000_000)
            time.sleep(1.0)  # let a few chunks reach the database
            sock.close()
            time.sleep(1.5)
            response = httpx.get(f"{live.base_url}/api/files/partial/big.bin")
            assert response.status_code == 404

    await asyncio.to_thread(run)
    assert await stored_files() == (0, 0)


async def test_shutdown_lets_in_flight_requests_finish(settings, tmp_path, alice):
    env = gateway_env(tmp_path / "d", mongodb_uri=settings.mongodb_uri, db_name=settings.db_name)
    size = 20_000_000

    def slow_body():
        for _ in range(size // 1_000_000):
            time.sleep(0.1)
            yield b"y" * 1_000_000

    def run() -> None:
        with live_gateway(env) as live:
            headers = {**alice["headers"], "Content-Type": "application/octet-stream"}
            with concurrent.futures.ThreadPoolExecutor(1) as pool:
                upload = pool.submit(
                    httpx.post, f"{live.base_url}/api/files/inflight.bin",
                    content=slow_body(), headers=headers, timeout=60,
                )  # fmt: skip
                time.sleep(0.5)
                live.process.send_signal(signal.SIGTERM)
                response = upload.result()
            assert response.status_code == 201
            assert response.json()["size"] == size
            live.process.wait(timeout=30)

    await asyncio.to_thread(run)


async def test_database_stopping_under_traffic(settings, tmp_path):
    server = EmbeddedServer(tmp_path / "db")
    uri = server.start()
    app = create_app(msgspec.structs.replace(settings, mongodb_uri=uri, mongo_timeout_ms=500))
    transport = httpx.ASGITransport(app=app)
    statuses: list[int] = []
    stop = asyncio.Event()

    async def traffic(http: httpx.AsyncClient) -> None:
        while not stop.is_set():
            started = time.monotonic()
            response = await http.get("/api/products")
            assert time.monotonic() - started < 5, "no request hangs"
            statuses.append(response.status_code)
            if response.status_code == 503:
                assert response.headers["retry-after"].isdigit()
            await asyncio.sleep(0.01)

    try:
        async with (
            running(app),
            httpx.AsyncClient(transport=transport, base_url="http://t") as http,
        ):
            workers = [asyncio.create_task(traffic(http)) for _ in range(4)]
            await asyncio.sleep(0.5)
            server._terminate()
            await asyncio.sleep(2)
            await asyncio.to_thread(server._spawn)
            back = time.monotonic()
            while time.monotonic() - back < 15:
                if (await http.get("/readyz")).status_code == 200:
                    break
                await asyncio.sleep(0.2)
            recovered_after = time.monotonic() - back
            await asyncio.sleep(0.5)
            stop.set()
            await asyncio.gather(*workers)
        assert recovered_after < 10
        assert set(statuses) <= {200, 503}
        assert 503 in statuses
        assert statuses[-1] == 200
    finally:
        server._terminate()
