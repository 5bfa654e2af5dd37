"""``gateway serve --workers N``: N serving processes on one port (uvicorn's supervisor).

The supervisor (this process) starts the embedded database once, when no
``GATEWAY_MONGODB_URI`` is set, and hands its URI to the workers, which
connect to it as to any MongoDB; it serves ``GATEWAY_METRICS_PORT`` with the
workers' metrics added up (gateway.worker_metrics). Each worker builds the app
with ``worker_app``; with no Redis, rate limits are counted in the database,
so they hold across workers. SIGTERM or SIGINT to the supervisor stops the
workers gracefully (each finishes its requests), then the database.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from litestar import Litestar

from gateway.app import create_app
from gateway.config import Settings, load_settings, with_jwt_secret
from gateway.embedded import EmbeddedServer
from gateway.logs import configure_logging
from gateway.metrics_serving import metrics_port
from gateway.runtime import tune_garbage_collector
from gateway.worker_metrics import WorkerTotals

__all__ = ["serve_workers", "worker_app"]

# Where the workers write their metrics: set by the supervisor, not a setting.
METRICS_DIR_VARIABLE = "GATEWAY_WORKERS_METRICS_DIR"
_HEALTHCHECK_SECONDS = 30


def worker_app() -> Litestar:
    """The app of one worker (uvicorn calls this factory in each worker process)."""
    settings = with_jwt_secret(load_settings())
    configure_logging(settings)
    app = create_app(settings, workers_dir=Path(os.environ[METRICS_DIR_VARIABLE]))
    tune_garbage_collector()
    return app


def serve_workers(settings: Settings, workers: int, options: dict[str, Any]) -> None:
    """Serve with ``workers`` processes until a shutdown signal; ``options`` go to uvicorn."""
    import uvicorn

    with (
        tempfile.TemporaryDirectory(prefix="gateway-metrics-") as directory,
        _embedded_database(settings) as uri,
    ):
        # The workers read their settings from the environment, as this process did.
        os.environ[METRICS_DIR_VARIABLE] = directory
        os.environ["GATEWAY_WORKERS"] = str(workers)
        if uri is not None:
            os.environ["GATEWAY_MONGODB_URI"] = uri
        with metrics_port(settings, WorkerTotals(Path(directory))):
            uvicorn.run(
                "gateway.workers:worker_app",
                factory=True,
                workers=workers,
                # A worker's start (imports, the app) takes seconds on a busy machine:
                # uvicorn's 5 s health check would kill and restart it meanwhile.
                timeout_worker_healthcheck=_HEALTHCHECK_SECONDS,
                **options,
            )


@contextlib.contextmanager
def _embedded_database(settings: Settings) -> Iterator[str | None]:
    """The embedded database's URI, when no MongoDB is configured (else None).

    Started here, and restarted when it dies, from a thread with an event loop of its
    own (uvicorn's supervisor holds the main thread), which lives as long as the server:
    the kernel's parent-death signal is tied to the thread that started it.
    """
    if settings.mongodb_uri is not None:
        yield None
        return
    embedded = EmbeddedServer(settings.data_path)
    loop = asyncio.new_event_loop()
    started: concurrent.futures.Future[str] = concurrent.futures.Future()

    async def start() -> None:
        try:
            started.set_result(embedded.start())
            embedded.supervise()
        except Exception as exc:
            started.set_exception(exc)

    thread = threading.Thread(target=loop.run_forever, name="embedded-database", daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start(), loop)
    try:
        yield started.result()
    finally:
        if started.exception() is None:
            asyncio.run_coroutine_threadsafe(embedded.stop(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
