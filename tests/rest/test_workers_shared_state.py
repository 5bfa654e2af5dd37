"""What the workers of ``gateway serve --workers`` share: rate-limit counters in the
database, and metrics added up from their snapshots."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time

from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest

from gateway.ratelimit import DatabaseLimiter, Rule
from gateway.worker_metrics import WorkerTotals, write_snapshot


async def test_database_counters_count_every_concurrent_hit_once(db):
    rule = Rule("test", limit=100, window=60)
    first, second = DatabaseLimiter(db), DatabaseLimiter(db)  # two workers
    now = time.time()
    totals = await asyncio.gather(
        *(limiter.count(rule, "client", now) for limiter in [first, second] * 15)
    )
    assert sorted(totals) == list(range(1, 31))
    assert await first.count(rule, "other", now, points=5) == 5
    # The next window starts from nothing.
    assert await second.count(rule, "client", now + 60) == 1


async def test_database_counters_sweep_past_windows(db):
    limiter = DatabaseLimiter(db)
    rule = Rule("test", limit=100, window=1)
    now = time.time()
    await limiter.count(rule, "client", now)
    limiter._next_sweep = 0.0  # the minute between sweeps has passed
    await limiter.count(rule, "client", now + 5)
    assert await db["rate_limits"].count_documents({}) == 1


def test_worker_totals_sum_counters_and_label_gauges_by_live_process(tmp_path):
    registry = CollectorRegistry()
    requests = Counter("requests", "Requests", ["route"], registry=registry)
    memory = Gauge("memory", "Memory", registry=registry)
    requests.labels("/a").inc(3)
    memory.set(7)
    write_snapshot(registry, tmp_path)
    # A stopped worker's file: its counts stay in the totals, its gauges do not.
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    other = json.loads((next(tmp_path.glob("*.json"))).read_text())
    (tmp_path / f"{dead}.json").write_text(json.dumps(other))
    text = generate_latest(WorkerTotals(tmp_path)).decode()
    assert 'requests_total{route="/a"} 6.0' in text
    assert text.count("memory{") == 1
    assert "memory{pid=" in text
    # The answering worker's own numbers are written first, so they are current.
    requests.labels("/a").inc()
    text = generate_latest(WorkerTotals(tmp_path, registry)).decode()
    assert 'requests_total{route="/a"} 7.0' in text
