"""Fan-out: many subscribers of one gateway process receive one change.

``SUBSCRIBERS`` clients each hold ``GET /api/products/events?id=<product>`` open
(Server-Sent Events, one TCP connection each, from this process). Once every one
has its answer's headers, the product is changed directly in the database by
another client, as any writer would, and each subscriber notes when its
``updated`` event arrives. Reported: how many received it, the time from the
write to the first, the median and the last delivery, and the gateway's memory
per subscriber (its RSS with every subscriber connected, less before, divided by
their number).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlsplit

from bson import ObjectId
from pymongo import MongoClient

from benchmarks.procstat import rss_mib
from benchmarks.report import Target, unmeasured

__all__ = ["SUBSCRIBERS", "FanOut", "fanout_lines", "fanout_targets", "measure_fanout"]

SUBSCRIBERS = 1_000
# Goals: every subscriber receives the change; the last one within a second of the
# write (the feed's polling included); a subscriber costs the gateway under 100 KiB.
LAST_DELIVERY_GOAL_MS = 1_000.0
KIB_PER_SUBSCRIBER_GOAL = 100.0
_CONNECT_BATCH = 100  # connections opened at once, under the listen backlog
_SETTLE_S = 1.0  # after the last subscriber connected, before memory is read
_DELIVERY_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class FanOut:
    """What one fan-out run measured (latencies in ms from the write's acknowledgement)."""

    subscribers: int
    connected: int
    received: int
    first_ms: float | None
    median_ms: float | None
    last_ms: float | None
    rss_before_mib: float
    rss_subscribed_mib: float

    @property
    def kib_per_subscriber(self) -> float | None:
        """The gateway's resident memory per connected subscriber."""
        if not self.connected:
            return None
        return (self.rss_subscribed_mib - self.rss_before_mib) * 1024 / self.connected


class _Subscriber:
    """One SSE connection; ``received_at`` is set when the awaited event arrives."""

    def __init__(self) -> None:
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None
        self.received_at: float | None = None

    async def connect(self, host: str, port: int, path: str) -> bool:
        """Open the stream; True when the answer is a 200 event stream."""
        try:
            self.reader, self.writer = await asyncio.open_connection(host, port)
            request = (
                f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\n\r\n"
            )
            self.writer.write(request.encode())
            head = await asyncio.wait_for(self.reader.readuntil(b"\r\n\r\n"), 30)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, asyncio.LimitOverrunError):
            return False
        status = head.split(b"\r\n", 1)[0]
        return b" 200 " in status and b"text/event-stream" in head.lower()

    async def await_event(self, kind: bytes) -> None:
        """Read events until one of ``kind`` arrives, then note the time."""
        assert self.reader is not None
        try:
            while True:
                line = await self.reader.readline()
                if not line:
                    return
                if line.rstrip(b"\r\n") == b"event: " + kind:
                    self.received_at = time.perf_counter()
                    return
        except (OSError, ValueError):
            return

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def _change(database_uri: str, db_name: str, product_id: str) -> None:
    """Change the product's price in the database directly, as another writer would."""
    client: MongoClient[dict[str, object]]
    with MongoClient(database_uri) as client:
        result = client[db_name]["products"].update_one(
            {"_id": ObjectId(product_id)},
            {
                "$inc": {"price": 1, "version": 1},
                "$set": {"updatedAt": datetime.now(UTC)},
            },
        )
    if result.matched_count != 1:
        raise SystemExit(f"fan-out: product {product_id} not found in the database")


async def _run(
    url: str, gateway_pid: int, database_uri: str, db_name: str, product_id: str, count: int
) -> FanOut:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = f"/api/products/events?id={product_id}"
    rss_before = rss_mib(gateway_pid)
    subscribers = [_Subscriber() for _ in range(count)]
    connected: list[_Subscriber] = []
    try:
        for start in range(0, count, _CONNECT_BATCH):
            batch = subscribers[start : start + _CONNECT_BATCH]
            results = await asyncio.gather(*(s.connect(host, port, path) for s in batch))
            connected += [s for s, ok in zip(batch, results, strict=True) if ok]
        await asyncio.sleep(_SETTLE_S)
        rss_subscribed = rss_mib(gateway_pid)
        waits = [asyncio.create_task(s.await_event(b"updated")) for s in connected]
        await asyncio.to_thread(_change, database_uri, db_name, product_id)
        written = time.perf_counter()
        await asyncio.wait(waits, timeout=_DELIVERY_TIMEOUT_S)
        for task in waits:
            task.cancel()
    finally:
        for subscriber in subscribers:
            subscriber.close()
    delays = sorted(
        (s.received_at - written) * 1000 for s in connected if s.received_at is not None
    )
    return FanOut(
        subscribers=count,
        connected=len(connected),
        received=len(delays),
        first_ms=max(delays[0], 0.0) if delays else None,
        median_ms=max(statistics.median(delays), 0.0) if delays else None,
        last_ms=max(delays[-1], 0.0) if delays else None,
        rss_before_mib=rss_before,
        rss_subscribed_mib=rss_subscribed,
    )


def measure_fanout(
    url: str,
    gateway_pid: int,
    database_uri: str,
    db_name: str,
    product_id: str,
    count: int = SUBSCRIBERS,
) -> FanOut:
    """``count`` subscribers of ``product_id`` on the gateway at ``url`` receive one change."""
    return asyncio.run(_run(url, gateway_pid, database_uri, db_name, product_id, count))


def fanout_lines(fanout: FanOut | None, reason: str | None) -> Sequence[str]:
    """The fan-out section of ``results.md``."""
    if fanout is None:
        return [f"Not measured: {reason}."]

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:,.1f}"

    per = fanout.kib_per_subscriber
    return [
        f"{fanout.subscribers:,} clients each hold `GET /api/products/events?id=<product>` open "
        "on the one gateway process; the product is then changed directly in the database "
        "by another client. Times run from that write's acknowledgement.",
        "",
        "| subscribers | connected | received | first ms | median ms | last ms "
        "| gateway RSS before / subscribed MiB | KiB per subscriber |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {fanout.subscribers:,} | {fanout.connected:,} | {fanout.received:,} "
        f"| {ms(fanout.first_ms)} | {ms(fanout.median_ms)} | {ms(fanout.last_ms)} "
        f"| {fanout.rss_before_mib:.0f} / {fanout.rss_subscribed_mib:.0f} "
        f"| {'-' if per is None else f'{per:.1f}'} |",
    ]


def fanout_targets(fanout: FanOut | None) -> list[Target]:
    """The fan-out's targets: delivery to all, the last delivery's delay, memory."""
    names = (
        f"{SUBSCRIBERS:,} SSE subscribers of one process receive one change",
        "Fan-out: write to the last delivery",
        "Fan-out: gateway memory per subscriber",
    )
    goals = (
        "all receive it",
        f"<= {LAST_DELIVERY_GOAL_MS:,.0f} ms",
        f"<= {KIB_PER_SUBSCRIBER_GOAL:.0f} KiB",
    )
    if fanout is None:
        return [unmeasured(name, goal) for name, goal in zip(names, goals, strict=True)]
    per = fanout.kib_per_subscriber
    return [
        Target(
            names[0], goals[0], f"{fanout.received:,} of {fanout.subscribers:,}",
            fanout.received == fanout.subscribers,
        ),
        Target(
            names[1], goals[1],
            "-" if fanout.last_ms is None else f"{fanout.last_ms:,.1f} ms",
            fanout.last_ms is not None and fanout.last_ms <= LAST_DELIVERY_GOAL_MS,
        ),
        Target(
            names[2], goals[2], "-" if per is None else f"{per:.1f} KiB",
            per is not None and per <= KIB_PER_SUBSCRIBER_GOAL,
        ),
    ]  # fmt: skip
