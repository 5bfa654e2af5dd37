"""A write made through this process reaches live subscribers at once, without waiting
for the change feed's next poll (``gateway.local_writes``); other writers are heard at
the next poll."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import msgspec
import pytest
from pymongo import AsyncMongoClient, monitoring

from gateway.app import open_services
from gateway.change_feed import Change
from gateway.config import Settings
from gateway.local_writes import LocalWrites
from gateway.models import ProductCreate
from tests.conftest import OPERATOR

POLL = 5.0  # far longer than a nudged write may take to arrive


@pytest.fixture
def polling_settings(settings: Settings) -> Settings:
    return msgspec.structs.replace(settings, live_data=True, live_poll_interval=POLL)


async def _live(services) -> None:
    async with asyncio.timeout(10):
        while not services.feed.live:  # noqa: ASYNC110 - polls the feed's state
            await asyncio.sleep(0.01)


def _lamp() -> ProductCreate:
    return msgspec.convert({"name": "Lamp", "category": "home", "price": 5}, ProductCreate)


@pytest.mark.parametrize("driver", ["pymongo", "motor"])
async def test_this_process_writes_arrive_before_the_next_poll(polling_settings, mongo, driver):
    """Motor publishes the driver's events on its worker threads: the nudge crosses to
    the event loop."""
    driven = msgspec.structs.replace(polling_settings, mongo_driver=driver)
    try:
        async with open_services(driven) as services:
            await services.feed.start()
            try:
                await _live(services)
                await asyncio.sleep(0.2)  # the streams are now waiting out a 5 s poll
                async with services.feed.subscribe({"products"}) as sub:
                    for _ in range(3):
                        started = time.monotonic()
                        product = await services.products.create(OPERATOR, _lamp())
                        item = await sub.receive(POLL / 2)
                        assert isinstance(item, Change), "the write waited for the poll"
                        assert item.document_id == product.id
                        assert time.monotonic() - started < 1.0
            finally:
                await services.feed.stop()
    finally:
        await mongo.drop_database(polling_settings.db_name)


async def test_another_writer_is_heard_at_the_next_poll(polling_settings, mongo_uri, mongo):
    fast = msgspec.structs.replace(polling_settings, live_poll_interval=0.2)
    try:
        async with open_services(fast) as services:
            await services.feed.start()
            try:
                await _live(services)
                async with (
                    services.feed.subscribe({"products"}) as sub,
                    AsyncMongoClient(mongo_uri) as other,
                ):
                    written = await other[fast.db_name]["products"].insert_one({"name": "x"})
                    item = await sub.receive(5)
                    assert isinstance(item, Change)
                    assert item.document_id == str(written.inserted_id)
            finally:
                await services.feed.stop()
    finally:
        await mongo.drop_database(polling_settings.db_name)


def test_writes_whose_end_is_never_heard_are_not_kept_forever():
    """A write's end is not published when its task is cancelled mid-command."""
    writes = LocalWrites()
    heard: list[str] = []
    writes.notify(heard.append)
    address = ("localhost", 27017)
    for request_id in range(25_000):
        writes.started(
            monitoring.CommandStartedEvent(
                {"insert": "products", "documents": []}, "db", request_id, address, None
            )
        )
    assert len(writes._pending) <= 10_000
    last = monitoring.CommandSucceededEvent(
        timedelta(milliseconds=1), {"ok": 1}, "insert", 24_999, address, None, database_name="db"
    )
    writes.succeeded(last)
    assert heard == ["products"]
