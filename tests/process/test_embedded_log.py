"""The embedded database's log: warnings and errors once each, nothing per request, bounded."""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path

import psutil
from pymongo import AsyncMongoClient

from gateway.embedded import EmbeddedServer
from gateway.nx_27017_runner import LOG_BACKUPS, MAX_LOG_BYTES, OnceFilter, configure


async def test_connections_and_commands_leave_no_trace(tmp_path):
    server = EmbeddedServer(tmp_path / "db")
    uri = server.start()
    try:
        for _ in range(20):  # as many /readyz probes, each on a new connection
            async with AsyncMongoClient(uri, serverSelectionTimeoutMS=5000) as client:
                await client.admin.command("ping")
        await _connections_closed(tmp_path / "db")
    finally:
        await server.stop()
    # It used to note each connection and command, every line twice.
    assert (tmp_path / "db" / "mongo.log").read_text() == ""


async def _connections_closed(data: Path) -> None:
    """Wait until the server serving ``data`` has closed every client connection.

    A stop that lands while it still closes one makes it log the interruption (seen
    on a loaded machine): a race of the stop, not a trace of the connections.
    """
    [server] = [
        p for p in psutil.Process().children(recursive=True) if str(data) in " ".join(p.cmdline())
    ]
    deadline = time.monotonic() + 10
    while any(c.status != psutil.CONN_LISTEN for c in server.net_connections("tcp")):
        assert time.monotonic() < deadline, "the server kept a closed client's connection"
        await asyncio.sleep(0.02)


def _record(message: str, level: int) -> logging.LogRecord:
    return logging.LogRecord("neosqlite", level, __file__, 1, message, None, None)


def test_a_repeated_warning_is_written_once_and_errors_always():
    once = OnceFilter()
    fallback = "SQL tier 2 aggregation fallback: $unionWith"
    assert [once.filter(_record(fallback, logging.WARNING)) for _ in range(3)] == [
        True,
        False,
        False,
    ]
    assert all(once.filter(_record("disk I/O error", logging.ERROR)) for _ in range(2))


def test_the_log_rotates_within_its_bound(tmp_path):
    log_file = tmp_path / "mongo.log"
    root = logging.getLogger()
    kept = root.handlers[:], root.level
    try:
        configure(str(log_file))
        logger = logging.getLogger("nx_27017.test")
        for n in range(40_000):  # about 4 MiB of distinct warnings
            logger.warning("distinct warning %06d %s", n, "x" * 60)
        for handler in root.handlers:
            handler.close()
    finally:
        root.handlers[:], level = kept
        root.setLevel(level)
    files = sorted(tmp_path.glob("mongo.log*"))
    assert len(files) == 1 + LOG_BACKUPS
    assert all(path.stat().st_size <= MAX_LOG_BYTES for path in files)
