"""The change feed: one stream per collection, fan-out, history, caps, slow consumers."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from bson import ObjectId
from pymongo import AsyncMongoClient, monitoring

from gateway.change_feed import (
    Change,
    ChangeFeed,
    Gap,
    ProductFilter,
    SlowConsumer,
    Subscription,
)
from gateway.config import Settings
from gateway.credentials import Passwords
from gateway.db import Database, build_client, close_client
from gateway.errors import NotFound, RateLimited
from gateway.models import Product, ProductCreate, ProductUpdate
from gateway.observability import DatabaseCommandCounter, Metrics
from gateway.ratelimit import MemoryLimiter
from gateway.services import Services
from tests.conftest import OPERATOR

WAIT = 10.0


def product_input(name: str = "Lamp", category: str = "home", price: float = 5) -> ProductCreate:
    return msgspec.convert({"name": name, "category": category, "price": price}, ProductCreate)


@contextlib.asynccontextmanager
async def running_feed(
    db: Database, settings: Settings, metrics: Metrics | None = None
) -> AsyncIterator[Services]:
    """Services over ``db`` with live data on, their feed started and following."""
    live = msgspec.structs.replace(settings, live_data=True, live_poll_interval=0.01)
    passwords = Passwords(live)
    services = Services.build(db, live, passwords, MemoryLimiter(), metrics)
    await services.feed.start()
    try:
        await until(lambda: services.feed.live)
        yield services
    finally:
        await services.feed.stop()
        passwords.close()


async def until(condition: Any) -> None:
    async with asyncio.timeout(WAIT):
        while not condition():  # noqa: ASYNC110 - polls the feed's state
            await asyncio.sleep(0.01)


async def next_item(sub: Subscription) -> Change | Gap:
    item = await sub.receive(WAIT)
    assert item is not None, "no item in time"
    return item


async def next_change(sub: Subscription) -> Change:
    item = await next_item(sub)
    assert isinstance(item, Change), item
    return item


async def nothing_more(sub: Subscription) -> None:
    """Nothing else arrives (the feed polls every 10 ms: a quarter second is plenty)."""
    assert await sub.receive(0.25) is None


async def test_created_updated_deleted_carry_the_product_as_it_is_now(driver_db, settings):
    async with (
        running_feed(driver_db, settings) as services,
        services.feed.subscribe({"products"}) as sub,
    ):
        product = await services.products.create(OPERATOR, product_input())
        created = await next_change(sub)
        assert (created.collection, created.kind, created.document_id) == (
            "products",
            "created",
            product.id,
        )
        assert isinstance(created.document, Product)
        assert created.document == product
        changed = msgspec.convert({"price": 7.5}, ProductUpdate)
        updated = await services.products.update(OPERATOR, product.id, changed)
        change = await next_change(sub)
        assert (change.kind, change.document) == ("updated", updated)
        await services.products.delete(OPERATOR, product.id)
        deleted = await next_change(sub)
        assert (deleted.kind, deleted.document_id, deleted.document) == (
            "deleted",
            product.id,
            None,
        )
        assert len({created.event_id, change.event_id, deleted.event_id}) == 3
        await nothing_more(sub)


async def test_a_write_by_another_process_is_seen(db, settings):
    async with (
        running_feed(db, settings) as services,
        services.feed.subscribe({"products"}) as sub,
    ):
        script = (
            "import sys, datetime, pymongo\n"
            "now = datetime.datetime.now(datetime.timezone.utc)\n"
            "c = pymongo.MongoClient(sys.argv[1])\n"
            "r = c[sys.argv[2]].products.insert_one({'name': 'Far', 'category': 'away',"
            " 'price': 3, 'createdAt': now, 'updatedAt': now, 'createdMs': 1})\n"
            "print(r.inserted_id)\n"
        )
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-c", script, settings.mongodb_uri, db.name],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
        change = await next_change(sub)
        assert change.document_id == done.stdout.strip()
        assert change.kind == "created"
        assert (change.document.name, change.document.category) == ("Far", "away")


async def test_only_the_subscribed_collections_arrive(db, settings):
    async with (
        running_feed(db, settings) as services,
        services.feed.subscribe({"users"}) as users,
        services.feed.subscribe({"products", "users"}) as both,
    ):
        await services.products.create(OPERATOR, product_input())
        assert (await next_change(both)).collection == "products"
        await db["users"].update_one({"_id": ObjectId()}, {"$set": {"x": 1}})  # no match
        await nothing_more(users)


async def test_one_stream_per_collection_however_many_subscribers(db, settings):
    class ChangeStreamOpenings(monitoring.CommandListener):
        def __init__(self) -> None:
            self.opened: list[str] = []

        def started(self, event: monitoring.CommandStartedEvent) -> None:
            pipeline = event.command.get("pipeline") or []
            if event.command_name == "aggregate" and any("$changeStream" in s for s in pipeline):
                self.opened.append(event.command["aggregate"])

        def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
            pass

        def failed(self, event: monitoring.CommandFailedEvent) -> None:
            pass

    openings = ChangeStreamOpenings()
    assert settings.mongodb_uri is not None
    client = build_client(settings.mongodb_uri, settings, [openings])
    try:
        async with running_feed(client[db.name], settings) as services:
            async with contextlib.AsyncExitStack() as stack:
                subs = [
                    await stack.enter_async_context(services.feed.subscribe({"products"}))
                    for _ in range(200)
                ]
                await services.products.create(OPERATOR, product_input())
                ids = {(await next_change(sub)).event_id for sub in subs}
                assert len(ids) == 1
            assert sorted(openings.opened) == ["posts", "products", "users"]
    finally:
        await close_client(client)


def commands(metrics: Metrics, source: str) -> dict[str, float]:
    """``gateway_db_commands`` of ``source``, keyed ``collection.command``."""
    [family] = [m for m in metrics.registry.collect() if m.name == "gateway_db_commands"]
    return {
        f"{s.labels['collection']}.{s.labels['command']}": s.value
        for s in family.samples
        if s.name.endswith("_total") and s.labels["source"] == source
    }


async def test_the_feeds_commands_are_counted_apart_from_the_apps(db, settings):
    metrics = Metrics()
    assert settings.mongodb_uri is not None
    client = build_client(settings.mongodb_uri, settings, [DatabaseCommandCounter(metrics)])
    try:
        async with (
            running_feed(client[db.name], settings, metrics) as services,
            contextlib.AsyncExitStack() as stack,
        ):
            subs = [
                await stack.enter_async_context(services.feed.subscribe({"products"}))
                for _ in range(50)
            ]
            product = await services.products.create(OPERATOR, product_input())
            for sub in subs:
                assert (await next_change(sub)).document_id == product.id
            live = commands(metrics, "live")
            # Its streams, their polls, and the changed document read once (not per subscriber).
            assert {"products.aggregate", "posts.aggregate", "users.aggregate"} <= set(live)
            assert live["products.getMore"] >= 1
            assert live["products.find"] == 1
            app = commands(metrics, "app")
            assert app.get("products.insert") == 1
            assert not {key for key in app if key.endswith((".getMore", ".aggregate"))}

            # Idle, the feed polls (every 10 ms here): the app's counts stand still.
            polls = live["products.getMore"]
            await asyncio.sleep(0.3)
            assert commands(metrics, "live")["products.getMore"] > polls
            assert commands(metrics, "app") == app
    finally:
        await close_client(client)


async def test_changes_nobody_follows_cost_no_reads_and_are_read_when_replayed(db, settings):
    """With no subscriber (only listeners), a change's document is not read; a client
    replaying it later with Last-Event-ID gets it read then, its filter applied after."""
    metrics = Metrics()
    assert settings.mongodb_uri is not None
    client = build_client(settings.mongodb_uri, settings, [DatabaseCommandCounter(metrics)])
    heard: list[Change | Gap] = []
    try:
        async with running_feed(client[db.name], settings, metrics) as services:
            feed = services.feed
            feed.listen("products", heard.append)
            async with feed.subscribe({"products"}) as sub:
                mark = await services.products.create(OPERATOR, product_input("Mark"))
                first = await next_change(sub)
            reads = commands(metrics, "live").get("products.find", 0)
            made = [
                await services.products.create(OPERATOR, product_input(f"P{i}", category=c))
                for i, c in enumerate(["home", "garden", "home", "garden", "home"])
            ]
            await until(lambda: len(heard) == 1 + len(made))  # the feed heard them all
            assert commands(metrics, "live").get("products.find", 0) == reads  # none read
            wanted = ProductFilter(category="garden")
            async with feed.subscribe(
                {"products"}, last_event_id=first.event_id, accept=wanted.matches
            ) as again:
                replayed = [await next_change(again) for _ in range(2)]
                assert [c.document for c in replayed] == [made[1], made[3]]
                await nothing_more(again)
            assert mark.id == first.document_id
    finally:
        await close_client(client)


async def test_event_ids_are_the_same_in_every_process(db, settings, mongo_uri):
    other: AsyncMongoClient[Any] = AsyncMongoClient(mongo_uri, tz_aware=True)
    try:
        async with (
            running_feed(db, settings) as first,
            running_feed(other[db.name], settings) as second,
            first.feed.subscribe({"products"}) as one,
            second.feed.subscribe({"products"}) as two,
        ):
            await first.products.create(OPERATOR, product_input())
            a, b = await next_change(one), await next_change(two)
            assert a.event_id == b.event_id
            assert a.event_id.replace("-", "").replace("_", "").isalnum()
    finally:
        await other.close()


async def test_last_event_id_replays_what_followed_then_live_ones_once(db, settings):
    async with running_feed(db, settings) as services:
        feed = services.feed
        async with feed.subscribe({"products"}) as first:
            made = [
                await services.products.create(OPERATOR, product_input(f"P{i}")) for i in range(4)
            ]
            seen = [await next_change(first) for _ in made]
            assert [c.document_id for c in seen] == [p.id for p in made]
            # A client that had the second event comes back: the third and fourth, then live.
            async with feed.subscribe({"products"}, last_event_id=seen[1].event_id) as again:
                later = await services.products.create(OPERATOR, product_input("P4"))
                got = [await next_change(again) for _ in range(3)]
                assert [c.document_id for c in got] == [made[2].id, made[3].id, later.id]
                await nothing_more(again)
            # The newest event: only live ones follow.
            async with feed.subscribe({"products"}, last_event_id=got[-1].event_id) as newest:
                await nothing_more(newest)


async def test_unknown_or_forgotten_last_event_id_gets_a_gap_first(db, settings):
    small = msgspec.structs.replace(settings, live_history=2)
    async with running_feed(db, small) as services:
        feed = services.feed
        async with feed.subscribe({"products"}) as sub:
            for i in range(3):
                await services.products.create(OPERATOR, product_input(f"P{i}"))
            oldest = (await next_change(sub)).event_id
            await next_change(sub)
            await next_change(sub)
        for last in ("not-an-id", oldest):  # oldest: no longer in a history of 2
            async with feed.subscribe({"products"}, last_event_id=last) as sub:
                assert isinstance(await next_item(sub), Gap)
                product = await services.products.create(OPERATOR, product_input())
                assert (await next_change(sub)).document_id == product.id


async def test_a_slow_consumer_is_dropped_while_others_keep_receiving(db, settings):
    metrics = Metrics()
    small = msgspec.structs.replace(settings, live_queue_size=3)
    async with running_feed(db, small, metrics) as services:
        async with (
            services.feed.subscribe({"products"}) as slow,
            services.feed.subscribe({"products"}) as quick,
        ):
            for i in range(5):
                await services.products.create(OPERATOR, product_input(f"P{i}"))
                await next_change(quick)
            with pytest.raises(SlowConsumer):
                await slow.receive(WAIT)
            with pytest.raises(SlowConsumer):  # for good
                await slow.receive(WAIT)
            assert metrics.live_dropped._value.get() == 1
            assert metrics.live_subscribers._value.get() == 2  # until they leave
            await services.products.create(OPERATOR, product_input())
            await next_change(quick)
        assert metrics.live_subscribers._value.get() == 0
        assert metrics.live_events.labels("products", "created")._value.get() == 6


async def test_a_filtered_subscriber_queues_only_what_it_wants(db, settings):
    """Changes a subscriber's filter refuses are never queued: they do not wake it, do not
    fill its queue (it is not dropped as slow for others' changes) and are not replayed."""
    small = msgspec.structs.replace(settings, live_queue_size=3)
    async with running_feed(db, small) as services:
        feed = services.feed
        async with feed.subscribe({"products"}) as everything:
            watched = await services.products.create(OPERATOR, product_input("Watched"))
            first = await next_change(everything)  # the feed has seen the watched one
        wanted = ProductFilter(product_id=watched.id)
        async with feed.subscribe({"products"}, accept=wanted.matches) as one:
            for i in range(6):  # twice the queue's size, none of them the watched product
                await services.products.create(OPERATOR, product_input(f"Other {i}"))
            await services.products.update(
                OPERATOR, watched.id, msgspec.convert({"price": 9}, ProductUpdate)
            )
            change = await next_change(one)
            assert (change.kind, change.document_id) == ("updated", watched.id)
            await nothing_more(one)
            async with feed.subscribe(
                {"products"}, last_event_id=first.event_id, accept=wanted.matches
            ) as again:
                replayed = await next_change(again)
                assert replayed.event_id == change.event_id
                await nothing_more(again)


async def test_subscriptions_per_client_are_capped(db, settings):
    capped = msgspec.structs.replace(settings, live_max_per_client=2)
    async with running_feed(db, capped) as services:
        feed = services.feed
        async with feed.subscribe({"products"}, client="10.0.0.1"):
            async with feed.subscribe({"posts"}, client="10.0.0.1"):
                with pytest.raises(RateLimited) as refused:
                    feed.subscribe({"products"}, client="10.0.0.1")
                assert refused.value.retry_after > 0
                async with feed.subscribe({"products"}, client="10.0.0.2"):
                    pass
                # Checked again on entering: two handed out, one entered in between.
                pending = feed.subscribe({"products"}, client="10.0.0.3")
                async with (
                    feed.subscribe({"products"}, client="10.0.0.3"),
                    feed.subscribe({"products"}, client="10.0.0.3"),
                ):
                    with pytest.raises(RateLimited):
                        await pending.__aenter__()
            async with feed.subscribe({"products"}, client="10.0.0.1"):
                assert feed.subscriber_count == 2


async def test_listeners_hear_each_change_once_and_their_errors_are_contained(db, settings):
    heard: list[Change] = []

    def broken(change: Change) -> None:
        raise RuntimeError("listener bug")

    async with running_feed(db, settings) as services:
        services.feed.listen("products", broken)
        services.feed.listen("products", heard.append)
        async with services.feed.subscribe({"products"}) as sub:
            product = await services.products.create(OPERATOR, product_input())
            change = await next_change(sub)
        assert heard == [change]
        assert change.document_id == product.id


async def test_stopping_the_feed_ends_every_subscription(db, settings):
    async with (
        running_feed(db, settings) as services,
        services.feed.subscribe({"products"}) as sub,
    ):
        await services.feed.stop()
        assert not services.feed.live
        with pytest.raises(StopAsyncIteration):
            await sub.receive(WAIT)


async def test_turned_off_no_stream_and_no_subscription(db, settings):
    assert not settings.live_data
    passwords = Passwords(settings)
    try:
        feed: ChangeFeed = Services.build(db, settings, passwords, MemoryLimiter()).feed
        await feed.start()
        assert not feed.live
        with pytest.raises(NotFound):
            feed.subscribe({"products"})
    finally:
        passwords.close()
