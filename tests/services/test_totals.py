"""Totals kept between requests (gateway/totals.py): exact after every acknowledged write."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys

import pytest

from gateway.db import utcnow
from gateway.documents.products import new_product
from gateway.models import ProductCreate, ProductUpdate
from gateway.pagination import CursorArgs, PageParams
from gateway.services import Services
from gateway.shared_generation import SharedGeneration
from gateway.totals import TotalsCache
from tests.conftest import OPERATOR


class Counts:
    """A count to keep: how often it ran; held at ``gate`` when one is set."""

    def __init__(self, value: int = 7) -> None:
        self.value = value
        self.calls = 0
        self.gate: asyncio.Event | None = None
        self.started = asyncio.Event()

    async def __call__(self) -> int:
        self.calls += 1
        value = self.value
        self.started.set()
        if self.gate is not None:
            await self.gate.wait()
        return value


def trusted() -> bool:
    return True


async def test_a_total_is_kept_until_a_write():
    cache, counts = TotalsCache(60, trusted), Counts()
    assert [await cache.total("k", counts) for _ in range(3)] == [7, 7, 7]
    assert counts.calls == 1
    counts.value = 8
    with cache.writing():
        pass
    assert await cache.total("k", counts) == 8
    assert await cache.total("other", counts) == 8
    assert counts.calls == 3


async def test_a_failed_write_forgets_the_totals_too():
    """A write that fails on the way back (a timeout, say) may have been made."""
    cache, counts = TotalsCache(60, trusted), Counts()
    await cache.total("k", counts)
    with pytest.raises(TimeoutError), cache.writing():
        raise TimeoutError
    counts.value = 8
    assert await cache.total("k", counts) == 8


@pytest.mark.parametrize(("ttl", "source"), [(60, lambda: False), (0, trusted)])
async def test_off_when_untrusted_or_without_ttl(ttl, source):
    cache, counts = TotalsCache(ttl, source), Counts()
    for _ in range(3):
        await cache.total("k", counts)
    assert counts.calls == 3
    assert not cache.active


async def test_off_by_default_and_on_once_trusted():
    cache, counts = TotalsCache(60), Counts()
    await cache.total("k", counts)
    await cache.total("k", counts)
    assert counts.calls == 2
    cache.trust(trusted)
    await cache.total("k", counts)
    await cache.total("k", counts)
    assert counts.calls == 3


async def test_a_lapse_of_trust_forgets_what_was_kept():
    """Changes made while the source was down went unheard."""
    live = [True]
    cache, counts = TotalsCache(60, lambda: live[0]), Counts()
    await cache.total("k", counts)
    live[0] = False
    counts.value = 9
    assert await cache.total("k", counts) == 9
    live[0] = True
    assert await cache.total("k", counts) == 9
    assert counts.calls == 3


async def test_kept_totals_expire():
    now = [100.0]
    cache, counts = TotalsCache(5, trusted, clock=lambda: now[0]), Counts()
    await cache.total("k", counts)
    now[0] += 4.9
    await cache.total("k", counts)
    assert counts.calls == 1
    now[0] += 0.2
    counts.value = 8
    assert await cache.total("k", counts) == 8
    assert counts.calls == 2


async def test_a_count_racing_a_write_is_used_but_not_kept():
    cache, counts = TotalsCache(60, trusted), Counts()
    counts.gate = asyncio.Event()
    racing = asyncio.create_task(cache.total("k", counts))
    await counts.started.wait()
    cache.invalidate()  # a write finished while the count ran
    counts.value = 8
    # A request after the write does not wait for the count that began before it.
    later = asyncio.create_task(cache.total("k", counts))
    await asyncio.sleep(0)
    counts.gate.set()
    assert (await racing, await later) == (7, 8)
    assert counts.calls == 2
    counts.gate = None
    assert await cache.total("k", counts) == 8
    assert counts.calls == 2  # the later count was kept


async def test_requests_missing_at_once_share_one_count():
    cache, counts = TotalsCache(60, trusted), Counts()
    counts.gate = asyncio.Event()
    waiting = [asyncio.create_task(cache.total("k", counts)) for _ in range(20)]
    await counts.started.wait()
    waiting[0].cancel()  # a client that goes away cancels nothing for the others
    counts.gate.set()
    assert await asyncio.gather(*waiting[1:]) == [7] * 19
    assert counts.calls == 1


async def test_a_failed_count_is_not_kept():
    cache = TotalsCache(60, trusted)

    async def broken() -> int:
        raise ConnectionError("database away")

    with pytest.raises(ConnectionError):
        await cache.total("k", broken)
    counts = Counts()
    assert await cache.total("k", counts) == 7


# --- through the product service, over the real database ---


@pytest.fixture
def products(core: Services) -> Services:
    core.products.totals.trust(trusted)
    return core


async def _total(core: Services, category: str | None = None) -> int:
    page = await core.products.page(category, PageParams(1, 1))
    connection = await core.products.connection(CursorArgs(first=1), category=category)
    assert connection.total_count == page.total
    return page.total


async def test_totals_follow_every_product_write(products: Services):
    made = [
        await products.products.create(OPERATOR, ProductCreate(name=f"p{i}", category=c, price=1))
        for i, c in enumerate("aab")
    ]
    assert (await _total(products), await _total(products, "a"), await _total(products, "b")) == (
        3,
        2,
        1,
    )
    await products.products.update(OPERATOR, made[0].id, ProductUpdate(category="b"))
    assert (await _total(products, "a"), await _total(products, "b")) == (1, 2)
    await products.products.update(OPERATOR, made[1].id, ProductUpdate(price=2))
    assert await _total(products, "a") == 1
    await products.products.delete(OPERATOR, made[2].id)
    assert (await _total(products), await _total(products, "b")) == (2, 1)
    await products.seed.seed(users=0, posts_per_user=0, products=4, categories=1, progress=_quiet)
    assert await _total(products) == 6


def _quiet(_what: str, _done: int, _total: int) -> None:
    return None


async def test_racing_writes_and_reads_end_exact(core: Services, driver_db):
    """Creates and deletes from several clients while others read pages: every read
    counts each write acknowledged before it began, and the total at the end is exact.

    The embedded server answers one command at a time, so there a count never
    overlaps a write on the server; a real MongoDB (GATEWAY_TEST_MONGODB_URI)
    overlaps them, and the unit tests above hold a count open across a write.
    """
    base, writers, rounds = 500, 4, 12
    await driver_db["products"].insert_many(
        [new_product(name=f"old{i}", category="c", price=1, description=None, created_at=utcnow())
         for i in range(base)]
    )  # fmt: skip
    pool = [str(doc["_id"]) for doc in await driver_db["products"].find({}, {"_id": 1}).to_list()]
    service = core.products
    service.totals.trust(trusted)  # after the direct inserts: writes of this process only
    acked = {"create": 0, "delete": 0}
    begun = dict(acked)
    reads = 0

    async def write(n: int) -> None:
        for i in range(rounds):
            action = "create" if i % 2 == 0 else "delete"
            begun[action] += 1
            if action == "create":
                await service.create(
                    OPERATOR, ProductCreate(name=f"{n}/{i}", category="c", price=1)
                )
            else:
                await service.delete(OPERATOR, pool.pop())
            acked[action] += 1

    async def read() -> None:
        nonlocal reads
        while acked["create"] + acked["delete"] < writers * rounds:
            created, deleted = acked["create"], acked["delete"]
            total = (await service.page("c", PageParams(1, 1))).total
            # What was acknowledged before the read began is counted; what began after, not.
            assert base + created - begun["delete"] <= total <= base + begun["create"] - deleted
            reads += 1
            await asyncio.sleep(random.random() / 500)

    await asyncio.gather(*[write(n) for n in range(writers)], *[read() for _ in range(4)])
    assert reads >= writers  # the reads ran among the writes
    assert (await service.page("c", PageParams(1, 1))).total == base
    assert await driver_db["products"].count_documents({"category": "c"}) == base


def _workers(tmp_path, n: int = 2) -> list[TotalsCache]:
    """``n`` caches sharing one write counter, as the workers of one ``serve`` do."""
    caches = []
    for _ in range(n):
        cache = TotalsCache(60, trusted)
        cache.share(SharedGeneration(tmp_path / "totals.generation"))
        caches.append(cache)
    return caches


async def test_a_write_through_one_worker_is_counted_by_the_others(tmp_path):
    first, second = _workers(tmp_path)
    counts = Counts()
    assert await second.total("k", counts) == 7
    assert await second.total("k", counts) == 7
    assert counts.calls == 1
    for value in (8, 9):
        counts.value = value
        with first.writing():
            pass
        assert await second.total("k", counts) == value  # not the kept one
    assert counts.calls == 3
    assert await second.total("k", counts) == 9
    assert counts.calls == 3  # kept again until the next write


async def test_a_count_that_raced_another_workers_write_is_not_kept(tmp_path):
    first, second = _workers(tmp_path)
    counts = Counts()
    counts.gate = asyncio.Event()
    racing = asyncio.create_task(second.total("k", counts))
    await counts.started.wait()
    with first.writing():  # acknowledged while the other worker counts
        pass
    counts.gate.set()
    assert await racing == 7  # began before the write: may answer without it
    counts.gate = None
    counts.value = 8
    assert await second.total("k", counts) == 8


def test_the_shared_counter_loses_no_increment_across_processes(tmp_path):
    path = tmp_path / "g"
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from gateway.shared_generation import SharedGeneration\n"
        "g = SharedGeneration(Path(sys.argv[1]))\n"
        "for _ in range(2000): g.bump()\n"
    )
    procs = [subprocess.Popen([sys.executable, "-c", script, str(path)]) for _ in range(4)]
    assert [proc.wait(timeout=60) for proc in procs] == [0, 0, 0, 0]
    shared = SharedGeneration(path)
    try:
        assert shared.value() == 8000
    finally:
        shared.close()
