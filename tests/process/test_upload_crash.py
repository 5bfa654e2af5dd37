"""Uploads cut short by a gateway killed mid-upload or by the database going away:
nothing of the file is ever visible, and the sweep removes what they left (claim,
chunks, placeholder file record) without touching finished files."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
from pymongo import AsyncMongoClient, MongoClient

from gateway.app import create_app
from gateway.documents.file_paths import COLLECTION as CLAIMS
from gateway.embedded import EmbeddedServer
from gateway.services import Services
from tests.conftest import make_user, running
from tests.live import gateway_env, live_gateway

PIECE = 1024 * 1024
SIZE = 60 * PIECE  # tens of MB, sent slowly enough that the kill lands mid-upload


def _slow_body():
    for i in range(SIZE // PIECE):
        time.sleep(0.1)
        yield bytes([i % 256]) * PIECE


async def test_a_gateway_killed_mid_upload_leaves_nothing_after_a_sweep(
    services, db, settings, tmp_path, alice, stored_files
):
    env = gateway_env(
        tmp_path / "d",
        mongodb_uri=settings.mongodb_uri,
        db_name=settings.db_name,
        max_file_bytes=str(SIZE),
    )
    headers = {**alice["headers"], "Content-Type": "application/octet-stream"}

    def crash() -> None:
        with (
            MongoClient(settings.mongodb_uri) as mongo,
            live_gateway(env) as live,
            concurrent.futures.ThreadPoolExecutor(1) as pool,
        ):
            assert (
                httpx.post(f"{live.base_url}/api/files/kept.txt", content=b"k", headers=headers)
            ).status_code == 201
            upload = pool.submit(
                httpx.post, f"{live.base_url}/api/files/crash/big.bin",
                content=_slow_body(), headers=headers, timeout=60,
            )  # fmt: skip
            claims = mongo[settings.db_name][CLAIMS]
            deadline = time.monotonic() + 20
            while True:  # wait until several chunks are in the database
                claim = claims.find_one({"_id": "crash/big.bin"})
                chunks = claim and mongo[settings.db_name]["fs.chunks"].find(
                    {"files_id": claim["fileId"]}
                ).to_list(None)
                if chunks and len(chunks) >= 8:
                    break
                assert time.monotonic() < deadline, "the upload did not start"
                time.sleep(0.1)
            assert claim["state"] == "uploading"
            assert httpx.get(f"{live.base_url}/api/files/crash/big.bin").status_code == 404
            live.process.kill()  # SIGKILL: no cleanup runs
            live.process.wait(timeout=10)
            with contextlib.suppress(httpx.HTTPError):  # the connection was cut
                assert upload.result().status_code != 201

    await asyncio.to_thread(crash)
    _, chunks = await stored_files()
    assert chunks >= 8 + 1  # the killed upload's chunks are still there, and kept.txt's

    def restart() -> None:
        with live_gateway(env) as live, httpx.Client(base_url=live.base_url) as http:
            # Never visible, and the path stays held until the sweep.
            assert http.get("/api/files/crash/big.bin").status_code == 404
            assert (
                http.post("/api/files/crash/big.bin", content=b"x", headers=headers).status_code
                == 409
            )

    await asyncio.to_thread(restart)
    # The sweeper every gateway runs, with a short limit: the dead upload's claim has
    # not been refreshed since the kill.
    await asyncio.sleep(0.5)
    assert await services.files.sweep(older_than_s=0.5) == 1
    assert await stored_files() == (1, 1)  # kept.txt alone
    assert [claim["_id"] for claim in await db[CLAIMS].find().to_list(None)] == ["kept.txt"]

    def reuse() -> None:
        with live_gateway(env) as live, httpx.Client(base_url=live.base_url) as http:
            response = http.post("/api/files/crash/big.bin", content=b"again", headers=headers)
            assert response.status_code == 201
            assert http.get("/api/files/crash/big.bin").content == b"again"
            assert http.get("/api/files/kept.txt").content == b"k"

    await asyncio.to_thread(reuse)


async def test_an_upload_cut_by_a_database_outage_is_never_visible_and_swept(settings, tmp_path):
    server = EmbeddedServer(tmp_path / "db")
    uri = server.start()
    app = create_app(msgspec.structs.replace(settings, mongodb_uri=uri, mongo_timeout_ms=500))
    mongo: AsyncMongoClient[Any] = AsyncMongoClient(uri, serverSelectionTimeoutMS=5000)
    db = mongo[settings.db_name]

    async def slow_body() -> AsyncIterator[bytes]:
        for _ in range(SIZE // PIECE):
            await asyncio.sleep(0.05)
            yield b"o" * PIECE

    try:
        async with (
            running(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
        ):
            services: Services = app.state.services
            user = await make_user(services)
            headers = {**user["headers"], "Content-Type": "application/octet-stream"}
            upload = asyncio.create_task(
                http.post("/api/files/outage.bin", content=slow_body(), headers=headers)
            )
            deadline = time.monotonic() + 20
            while True:  # until a few chunks are stored
                claim = await db[CLAIMS].find_one({"_id": "outage.bin"})
                chunks = claim and await db["fs.chunks"].find(
                    {"files_id": claim["fileId"]}
                ).to_list(None)
                if chunks and len(chunks) >= 4:
                    break
                assert time.monotonic() < deadline, "the upload did not start"
                await asyncio.sleep(0.05)
            server._terminate()
            response = await upload
            assert response.status_code == 503
            await asyncio.to_thread(server._spawn)
            deadline = time.monotonic() + 15
            while (await http.get("/readyz")).status_code != 200:
                assert time.monotonic() < deadline
                await asyncio.sleep(0.2)
            assert (await http.get("/api/files/outage.bin")).status_code == 404
            await asyncio.sleep(0.5)
            assert await services.files.sweep(older_than_s=0.5) == 1
            assert await db[CLAIMS].count_documents({}) == 0
            assert await db["fs.files"].find_one({"_id": claim["fileId"]}) is None
            assert await db["fs.chunks"].find({"files_id": claim["fileId"]}).to_list(None) == []
            again = await http.post("/api/files/outage.bin", content=b"ok", headers=headers)
            assert again.status_code == 201
    finally:
        await mongo.close()
        server._terminate()
