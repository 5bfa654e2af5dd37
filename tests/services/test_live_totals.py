"""Products' totals kept between pages while the change feed hears every writer."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import msgspec
from pymongo import AsyncMongoClient

from gateway.documents.products import new_product
from gateway.pagination import PageParams
from gateway.services import Services
from tests.conftest import OPERATOR
from tests.services.test_change_feed import product_input, running_feed

FIRST = PageParams(1, 1)


async def _total(services: Services, category: str | None = None) -> int:
    return (await services.products.page(category, FIRST)).total


async def test_a_write_by_another_client_reaches_the_kept_total(db, settings, mongo_uri):
    # Kept for a minute: within the two seconds below only the feed can tell the cache.
    settings = msgspec.structs.replace(settings, totals_cache_seconds=60)
    async with running_feed(db, settings) as services:
        totals = services.products.totals
        assert totals.active  # the feed is live: totals are kept
        await services.products.create(OPERATOR, product_input(category="home"))
        assert await _total(services) == 1
        assert await _total(services, "home") == 1
        # Another client writes past this process: only the feed tells the cache.
        other: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri)
        try:
            doc = new_product(
                name="Far", category="home", price=3, description=None,
                created_at=datetime.now(UTC),
            )  # fmt: skip
            await other[db.name]["products"].insert_one(doc)
        finally:
            await other.close()
        async with asyncio.timeout(2):
            while await _total(services, "home") != 2:  # noqa: ASYNC110 - polls the page
                await asyncio.sleep(0.01)
        assert await _total(services) == 2


async def test_totals_are_not_kept_once_the_feed_stops(db, settings):
    async with running_feed(db, settings) as services:
        pass  # started, then stopped
    assert not services.products.totals.active
    await services.products.create(OPERATOR, product_input())
    assert await _total(services) == 1
