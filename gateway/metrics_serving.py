"""The metrics' running parts, for the app's lifespan: the event-loop lag probe, the
worker's snapshots (``--workers``), and ``/metrics`` on a port of its own
(``GATEWAY_METRICS_PORT``) for a single process."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator

from prometheus_client import start_http_server
from prometheus_client.registry import Collector

from gateway.config import Settings
from gateway.loop_lag import watch_loop_lag
from gateway.observability import Metrics
from gateway.worker_metrics import SNAPSHOT_SECONDS, write_snapshot

__all__ = ["metrics_port", "serving_metrics"]


@contextlib.contextmanager
def metrics_port(settings: Settings, collector: Collector) -> Iterator[None]:
    """Serve ``collector`` at ``http://GATEWAY_HOST:GATEWAY_METRICS_PORT/metrics`` (a
    thread of prometheus_client's), if that port is set."""
    if settings.metrics_port is None:
        yield
        return
    server, thread = start_http_server(settings.metrics_port, settings.host, collector)
    try:
        yield
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


async def _snapshots(metrics: Metrics) -> None:
    assert metrics.workers_dir is not None
    while True:
        write_snapshot(metrics.registry, metrics.workers_dir)
        await asyncio.sleep(SNAPSHOT_SECONDS)


@contextlib.asynccontextmanager
async def serving_metrics(metrics: Metrics, settings: Settings) -> AsyncIterator[None]:
    tasks = [asyncio.create_task(watch_loop_lag(metrics.loop_lag))]
    if metrics.workers_dir is not None:  # the supervisor serves the metrics port
        tasks.append(asyncio.create_task(_snapshots(metrics)))
        port: contextlib.AbstractContextManager[None] = contextlib.nullcontext()
    else:
        port = metrics_port(settings, metrics.registry)
    try:
        with port:
            yield
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if metrics.workers_dir is not None:
            write_snapshot(metrics.registry, metrics.workers_dir, final=True)
