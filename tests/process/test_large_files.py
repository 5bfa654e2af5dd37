"""A 50 MB file through a real gateway process (whole, and its last MiB by range),
with its memory watched."""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import psutil

from tests.live import gateway_env, live_gateway

SIZE = 50 * 1024 * 1024
PIECE = 1024 * 1024
GROWTH_LIMIT = 20 * 1024 * 1024


def _body():
    for i in range(SIZE // PIECE):
        yield bytes([i % 256]) * PIECE


class PeakRss:
    """Samples a process's resident memory in the background and keeps the peak."""

    def __init__(self, pid: int) -> None:
        self._process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._process.memory_info().rss)
            time.sleep(0.02)

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def test_50mb_up_and_down_in_bounded_memory(services, settings, tmp_path, alice):
    env = gateway_env(
        tmp_path / "data",
        mongodb_uri=settings.mongodb_uri,
        db_name=settings.db_name,
        max_file_bytes=str(SIZE),
    )
    await asyncio.to_thread(_transfer, env, alice["headers"])


def _transfer(env, auth) -> None:
    with live_gateway(env) as live, httpx.Client(base_url=live.base_url, timeout=120) as http:
        headers = {**auth, "Content-Type": "application/octet-stream"}
        # Warm up: imports, pools and buffers that any first request allocates.
        assert (
            http.post("/api/files/warm.bin", content=b"w" * PIECE * 2, headers=headers).status_code
            == 201
        )
        assert len(http.get("/api/files/warm.bin").content) == PIECE * 2
        baseline = psutil.Process(live.pid).memory_info().rss
        with PeakRss(live.pid) as rss:
            response = http.post("/api/files/big/file.bin", content=_body(), headers=headers)
            assert response.status_code == 201, response.text
            assert response.json()["size"] == SIZE
            received = 0
            with http.stream("GET", "/api/files/big/file.bin") as download:
                assert download.headers["content-length"] == str(SIZE)
                for i, piece in enumerate(download.iter_bytes(PIECE)):
                    assert piece == bytes([i % 256]) * len(piece)
                    received += len(piece)
            tail = http.get("/api/files/big/file.bin", headers={"Range": f"bytes=-{PIECE}"})
            assert tail.status_code == 206
            assert tail.headers["content-range"] == f"bytes {SIZE - PIECE}-{SIZE - 1}/{SIZE}"
            assert tail.content == bytes([(SIZE // PIECE - 1) % 256]) * PIECE
        assert received == SIZE
        assert rss.peak - baseline < GROWTH_LIMIT, f"grew {(rss.peak - baseline) / 2**20:.1f} MiB"
