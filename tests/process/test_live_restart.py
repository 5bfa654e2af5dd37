"""Live data across a database restart: the feed resumes from its token and loses nothing."""

from __future__ import annotations

import asyncio

import msgspec
from pymongo import AsyncMongoClient

from gateway.change_feed import Change
from gateway.embedded import EmbeddedServer
from tests.conftest import OPERATOR
from tests.services.test_change_feed import (
    next_change,
    nothing_more,
    product_input,
    running_feed,
    until,
)


async def test_a_database_restart_loses_no_event(settings, tmp_path):
    server = EmbeddedServer(tmp_path / "db")
    uri = server.start()
    client: AsyncMongoClient = AsyncMongoClient(uri, tz_aware=True, timeoutMS=1000)
    try:
        own = msgspec.structs.replace(settings, mongodb_uri=uri)
        async with (
            running_feed(client[own.db_name], own) as services,
            services.feed.subscribe({"products"}) as sub,
        ):
            before = await services.products.create(OPERATOR, product_input("Before"))
            assert (await next_change(sub)).document_id == before.id
            server._terminate()
            await until(lambda: not services.feed.live)  # its polls fail: it retries
            await asyncio.to_thread(server._spawn)  # back on the same port and data
            # Written at once: before the feed has resumed (its backoff is under way).
            after = [
                await services.products.create(OPERATOR, product_input(f"After {i}"))
                for i in range(3)
            ]
            got: list[Change] = [await next_change(sub) for _ in after]
            assert [c.document_id for c in got] == [p.id for p in after]
            assert [c.document.name for c in got] == ["After 0", "After 1", "After 2"]
            await nothing_more(sub)  # and "Before" is not sent again
            assert services.feed.live
    finally:
        await client.close()
        server._terminate()
