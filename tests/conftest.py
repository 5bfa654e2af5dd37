"""Shared fixtures: one real database server per session, a fresh database per test.

The server is the embedded ``nx-27017`` (started once, through the gateway's own
supervisor) unless ``GATEWAY_TEST_MONGODB_URI`` names a real MongoDB.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import socket
import sqlite3
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar
from pymongo import AsyncMongoClient

from gateway.app import create_app
from gateway.config import Settings
from gateway.db import Database
from gateway.embedded import EmbeddedServer
from gateway.models import Credentials, UserCreate
from gateway.services import Actor, Services

TEST_SECRET = "test-secret-" + "x" * 40
ADMIN_PASSWORD = "admin-password-1"
USER_PASSWORD = "user-password-1"
OPERATOR = Actor(id="tests", role="admin", email="", name="tests")
# The cheapest argon2id the library accepts: tests hash hundreds of passwords, and
# at production strength that was most of the suite's time. The production
# parameters have tests of their own (tests/test_config.py).
TEST_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 8, "argon2_parallelism": 1}


EXTERNAL_URI = os.environ.get("GATEWAY_TEST_MONGODB_URI")


@pytest.fixture(scope="session")
def embedded_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("embedded")


@pytest.fixture(scope="session")
def mongo_uri(embedded_dir: Path) -> Iterator[str]:
    if EXTERNAL_URI:
        yield EXTERNAL_URI
        return
    server = EmbeddedServer(embedded_dir)
    uri = server.start()
    yield uri
    server._terminate()  # the session's loop is gone by now: stop synchronously


@pytest.fixture
def stored_files(db: Database, embedded_dir: Path) -> Callable[[], Awaitable[tuple[int, int]]]:
    """Count GridFS file records and chunks, orphans included.

    The embedded server emulates GridFS and answers chunk queries only by
    ``files_id``, so there its SQLite tables are read directly.
    """

    async def count() -> tuple[int, int]:
        if EXTERNAL_URI:
            files = await db["fs.files"].count_documents({})
            return files, await db["fs.chunks"].count_documents({})
        with contextlib.closing(sqlite3.connect(embedded_dir / "mongo" / f"{db.name}.db")) as conn:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
            if "fs_files" not in tables:
                return 0, 0
            files = conn.execute("SELECT count(*) FROM fs_files").fetchone()[0]
            return files, conn.execute("SELECT count(*) FROM fs_chunks").fetchone()[0]

    return count


@pytest.fixture(scope="session")
async def mongo(mongo_uri: str) -> AsyncIterator[AsyncMongoClient[Any]]:
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongo_uri, tz_aware=True)
    yield client
    await client.close()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Redis (Debian's redis-server) for the shared rate-limit tests."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (make test installs it)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(tmp_path_factory.mktemp("redis"))],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            break
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("redis-server did not start")
        time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def settings(mongo_uri: str, tmp_path: Path) -> Settings:
    return Settings(
        env="development",
        mongodb_uri=mongo_uri,
        db_name=f"test_{uuid.uuid4().hex[:12]}",
        data_dir=str(tmp_path / "data"),
        jwt_secret=TEST_SECRET,
        max_upload_bytes=1024 * 1024,
        max_file_bytes=64 * 1024 * 1024,
        hash_concurrency=2,
        deleted_file_grace=0,  # a sweep purges a deleted file's bytes at once
        # No change streams unless a test asks (``live_settings``): their polls would
        # show in the tests that count database commands.
        live_data=False,
        **TEST_ARGON2,
    )


@pytest.fixture
async def db(mongo: AsyncMongoClient[Any], settings: Settings) -> AsyncIterator[Database]:
    yield mongo[settings.db_name]
    await mongo.drop_database(settings.db_name)


@pytest.fixture
def app(settings: Settings, mongo: AsyncMongoClient[Any], db: Database) -> Litestar:
    return create_app(settings, client=mongo)


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client on the app in this event loop (the database client is bound to it)."""
    transport = httpx.ASGITransport(app=app)
    async with (
        running(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as http,
    ):
        yield http


@contextlib.asynccontextmanager
async def listened_app(
    settings: Settings, mongo_uri: str, listener: Any
) -> AsyncIterator[tuple[Litestar, httpx.AsyncClient]]:
    """An app on a database client of its own whose commands ``listener`` (a PyMongo
    ``CommandListener``) sees, made in this event loop, and an HTTP client on it."""
    mongo: AsyncMongoClient[Any] = AsyncMongoClient(
        mongo_uri, tz_aware=True, event_listeners=[listener]
    )
    app = create_app(settings, client=mongo)
    transport = httpx.ASGITransport(app=app)
    try:
        async with (
            running(app),
            httpx.AsyncClient(transport=transport, base_url="http://t") as http,
        ):
            yield app, http
    finally:
        await mongo.close()


@contextlib.asynccontextmanager
async def running(app: Litestar) -> AsyncIterator[None]:
    """Run the app's lifespan in a task of its own.

    Its anyio cancel scope must be entered and left in one task, while a
    fixture's set-up and tear-down run in different ones.
    """
    started, stop = asyncio.Event(), asyncio.Event()

    async def hold() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(hold())
    waiter = asyncio.create_task(started.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        waiter.cancel()
        task.result()  # raise the start-up error
    try:
        yield
    finally:
        stop.set()
        await task


@pytest.fixture
def services(app: Litestar, client: httpx.AsyncClient) -> Services:
    """The running app's services (for arranging data; tests act through HTTP)."""
    found: Services = app.state.services
    return found


@pytest.fixture
def purged_files(
    services: Services, stored_files: Callable[[], Awaitable[tuple[int, int]]]
) -> Callable[[], Awaitable[tuple[int, int]]]:
    """``stored_files`` once a sweep has purged deleted files (their grace is 0 here)."""

    async def count() -> tuple[int, int]:
        await services.files.sweep()
        return await stored_files()

    return count


async def make_user(
    services: Services, *, name: str = "Test User", email: str | None = None,
    password: str = USER_PASSWORD, role: str = "user",
) -> dict[str, Any]:  # fmt: skip
    """Create a user through the service; returns its JSON form plus a bearer header."""
    email = email or f"{uuid.uuid4().hex[:10]}@example.com"
    data = msgspec.convert(
        {"name": name, "email": email, "password": password, "role": role}, UserCreate
    )
    user = await services.users.create(OPERATOR, data)
    login = await services.auth.login(
        msgspec.convert({"email": email, "password": password}, Credentials)
    )
    body = msgspec.to_builtins(user)
    body["headers"] = {"Authorization": f"Bearer {login.token}"}
    body["token"] = login.token
    return body


@pytest.fixture
async def admin(services: Services) -> dict[str, Any]:
    return await make_user(services, name="Admin", password=ADMIN_PASSWORD, role="admin")


@pytest.fixture
async def alice(services: Services) -> dict[str, Any]:
    return await make_user(services, name="Alice")


@pytest.fixture
async def bob(services: Services) -> dict[str, Any]:
    return await make_user(services, name="Bob")
