"""The limiter itself: windows, retry-after, and the same counts in memory and in Redis."""

from __future__ import annotations

import uuid

import pytest

from gateway.errors import RateLimited
from gateway.ratelimit import MemoryLimiter, RedisLimiter, Rule, hit


@pytest.fixture(params=["memory", "redis"])
async def limiter(request, redis_url):
    made = MemoryLimiter() if request.param == "memory" else RedisLimiter(redis_url)
    yield made
    await made.close()


async def test_counts_per_key_and_window(limiter):
    rule = Rule(f"r-{uuid.uuid4().hex}", 3, 60)
    assert [await limiter.count(rule, "a", 120.0) for _ in range(4)] == [1, 2, 3, 4]
    assert await limiter.count(rule, "b", 120.0) == 1
    assert await limiter.count(rule, "a", 180.0) == 1  # the next window


async def test_hit_raises_past_the_limit_with_retry_after(limiter):
    rule = Rule(f"r-{uuid.uuid4().hex}", 2, 3600)
    await hit(limiter, rule, "k")
    await hit(limiter, rule, "k")
    with pytest.raises(RateLimited) as caught:
        await hit(limiter, rule, "k")
    assert 1 <= caught.value.retry_after <= 3600
    await hit(limiter, rule, None)  # no key: not limited
    await hit(limiter, None, "k")  # no rule: not limited


def test_rule_parsing():
    assert Rule.parse("x", "10/60") == Rule("x", 10, 60)
    assert Rule.parse("x", "off") is None


async def test_redis_outage_fails_open(caplog):
    limiter = RedisLimiter("redis://127.0.0.1:1/0")  # nothing listens there
    await hit(limiter, Rule("r", 1, 60), "k")
    await hit(limiter, Rule("r", 1, 60), "k")
    assert "not limiting" in caplog.text
    await limiter.close()
