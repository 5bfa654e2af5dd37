"""Live data after a stalled database: a stream that timed out resumes at once, not after
a backoff grown through the stall (each attempt already waited out the deadline)."""

from __future__ import annotations

import asyncio
import os
import signal
import time

import msgspec
import pytest

from gateway.db import build_client, close_client
from gateway.embedded import EmbeddedServer
from tests.conftest import OPERATOR
from tests.services.test_change_feed import next_change, product_input, running_feed, until

TIMEOUT_MS = 500
# Long enough for many timed-out attempts: doubling from 0.1 s, the backoff would be
# 3.2 s by then, and the stream would reopen seconds after the database came back.
STALL_S = 6.5
# From the database's return to the change's delivery: the write, at most one
# attempt under way (the deadline), the reopened stream's first poll.
WITHIN_S = 1.5


@pytest.fixture
def stoppable(tmp_path):
    server = EmbeddedServer(tmp_path / "db")
    uri = server.start()
    try:
        yield server, uri
    finally:
        assert server._process is not None
        os.kill(server._process.pid, signal.SIGCONT)
        server._terminate()


async def test_a_change_after_a_stall_arrives_at_once(settings, stoppable):
    server, uri = stoppable
    own = msgspec.structs.replace(settings, mongodb_uri=uri, mongo_timeout_ms=TIMEOUT_MS)
    client = build_client(uri, own)
    assert server._process is not None
    pid = server._process.pid
    try:
        async with (
            running_feed(client[own.db_name], own) as services,
            services.feed.subscribe({"products"}) as sub,
        ):
            before = await services.products.create(OPERATOR, product_input("Before"))
            assert (await next_change(sub)).document_id == before.id

            os.kill(pid, signal.SIGSTOP)
            try:
                await until(lambda: not services.feed.live)  # its getMore timed out
                await asyncio.sleep(STALL_S)
            finally:
                os.kill(pid, signal.SIGCONT)
            resumed = time.monotonic()
            after = await services.products.create(OPERATOR, product_input("After"))
            change = await next_change(sub)
            took = time.monotonic() - resumed
            assert change.document_id == after.id
            assert took < WITHIN_S, f"the change arrived {took:.2f} s after the database resumed"
            assert services.feed.live
    finally:
        await close_client(client)
