"""Event-loop lag: how late a timer of the serving loop fires.

Every request of a process shares its one event loop; a handler that blocks it
(a long computation, a synchronous call) delays all of them. The lag a sleep
wakes up with is that delay, as seen by any other request at that moment.
"""

from __future__ import annotations

import asyncio
import time

from prometheus_client import Histogram

__all__ = ["LAG_BUCKETS", "LAG_INTERVAL", "watch_loop_lag"]

LAG_INTERVAL = 0.5  # seconds between probes: two cheap wake-ups a second
LAG_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5)


async def watch_loop_lag(histogram: Histogram, interval: float = LAG_INTERVAL) -> None:
    """Observe, until cancelled, how late each ``interval``-second sleep wakes up."""
    while True:
        started = time.perf_counter()
        await asyncio.sleep(interval)
        histogram.observe(max(0.0, time.perf_counter() - started - interval))
