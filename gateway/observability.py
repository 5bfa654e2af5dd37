"""Request ids, access logs and Prometheus metrics (log formats: ``gateway.logs``).

``RequestContext`` wraps the whole ASGI application (404s and 405s included):
it takes the request id from ``X-Request-ID`` (or makes one) and returns it,
adds the security headers (and HSTS to answers to requests that came over TLS),
gives up on bodies stalled past ``body_timeout`` (408), records a client that
left before its answer as 499, logs one access line per request with the
caller's subject (never the token), and counts requests and latencies.
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import logging
import os
import re
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from pymongo import monitoring

from gateway.errors import RequestTimeout
from gateway.loop_lag import LAG_BUCKETS
from gateway.worker_metrics import WorkerTotals

__all__ = [
    "DatabaseCommandCounter",
    "Metrics",
    "RequestContext",
    "RequestInfo",
    "command_source",
    "current_request",
]

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"content-security-policy", b"default-src 'none'; frame-ancestors 'none'"),
)
_SECURITY_NAMES = frozenset(name for name, _ in SECURITY_HEADERS)
# nginx's status for a request whose client closed the connection before the answer.
CLIENT_CLOSED_REQUEST = 499

access_log = logging.getLogger("gateway.access")


@dataclass(slots=True)
class RequestInfo:
    """What is known about the request being served, for logs."""

    request_id: str
    subject: str | None = None


_current: ContextVar[RequestInfo | None] = ContextVar("gateway_request", default=None)


def current_request() -> RequestInfo | None:
    return _current.get()


# Who sent a database command, the ``source`` label of ``gateway_db_commands``: "live"
# in the change feed's tasks (``gateway.change_feed_streams`` sets it: its streams'
# aggregate and getMore polls, every ``GATEWAY_LIVE_POLL_INTERVAL``, and its reads of
# changed documents), "app" for everything else (requests and the app's own chores).
command_source: ContextVar[str] = ContextVar("gateway_command_source", default="app")


class Metrics:
    """The gateway's Prometheus metrics, in a registry of its own (one per app).

    The labelled children of counters are kept (``count``), so the hot path
    does one dict lookup instead of prometheus_client's label resolution;
    every label value is from a bounded set. Requests are counted by
    ``RequestStats``.
    """

    def __init__(self, workers_dir: Path | None = None) -> None:
        self.registry = CollectorRegistry()
        # What /metrics shows: this process's registry, or with workers (``workers_dir``,
        # gateway.worker_metrics) every worker's numbers added up.
        self.workers_dir = workers_dir
        self.exposed: Collector = (
            self.registry if workers_dir is None else WorkerTotals(workers_dir, self.registry)
        )
        self.requests = RequestStats(LATENCY_BUCKETS)
        self.registry.register(self.requests)
        self.db_commands = Counter(
            "gateway_db_commands", "Database commands", ["collection", "command", "source"],
            registry=self.registry,
        )  # fmt: skip
        self.graphql_operations = Counter(
            "gateway_graphql_operations", "GraphQL operations", ["operation", "type"],
            registry=self.registry,
        )  # fmt: skip
        # Live data (gateway.change_feed).
        self.live_subscribers = Gauge(
            "gateway_live_subscribers", "Open live-data subscriptions (REST and GraphQL)",
            registry=self.registry,
        )  # fmt: skip
        self.live_events = Counter(
            "gateway_live_events", "Changes read from the database's change streams",
            ["collection", "kind"], registry=self.registry,
        )  # fmt: skip
        self.live_dropped = Counter(
            "gateway_live_slow_consumers_dropped",
            "Live-data subscriptions dropped because they fell too far behind",
            registry=self.registry,
        )  # fmt: skip
        # CPU seconds, memory, file descriptors, start time; the Python version.
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self.loop_lag = Histogram(
            "gateway_event_loop_lag_seconds", "How late the event loop runs a due timer",
            buckets=LAG_BUCKETS, registry=self.registry,
        )  # fmt: skip
        self._counters: dict[tuple[Any, ...], Any] = {}

    def count(self, counter: Counter, *labels: str) -> None:
        """Add one to ``counter``'s child of these labels."""
        key = (counter, *labels)
        child = self._counters.get(key)
        if child is None:
            child = self._counters[key] = counter.labels(*labels)
        child.inc()


LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)


class RequestStats(Collector):
    """HTTP requests by route, method and status, and their latency by route and method.

    Kept as plain numbers, rendered as a counter and a histogram when scraped:
    prometheus_client's own metrics take a lock on every update, which cost
    1.4 us a request, a third of the request layer's own work. The event loop
    is the only writer, and scrapes are served on it.
    """

    def __init__(self, buckets: tuple[float, ...]) -> None:
        self._bounds = buckets
        self._counts: dict[tuple[str, str, int], int] = {}
        # Per route and method: a count per bucket (the last is +Inf), then the sum.
        self._latency: dict[tuple[str, str], list[float]] = {}

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        self._counts[key] = self._counts.get(key, 0) + 1
        latency = self._latency.get((route, method))
        if latency is None:
            latency = self._latency[route, method] = [0] * (len(self._bounds) + 1) + [0.0]
        latency[bisect.bisect_left(self._bounds, seconds)] += 1  # le: the first bound >= it
        latency[-1] += seconds

    def collect(self) -> Iterator[Metric]:
        requests = CounterMetricFamily(
            "gateway_http_requests", "HTTP requests", labels=["route", "method", "status"]
        )
        for (route, method, status), count in list(self._counts.items()):
            requests.add_metric([route, method, str(status)], count)
        yield requests
        latency = HistogramMetricFamily(
            "gateway_http_request_duration_seconds",
            "HTTP request latency",
            labels=["route", "method"],
        )
        bounds = [*map(floatToGoString, self._bounds), "+Inf"]
        for (route, method), counts in list(self._latency.items()):
            cumulative = itertools.accumulate(counts[:-1])
            latency.add_metric(
                [route, method], list(zip(bounds, cumulative, strict=True)), counts[-1]
            )
        yield latency


class DatabaseCommandCounter(monitoring.CommandListener):
    """Counts the driver's commands by collection, command name and ``command_source``
    (read in the task that sends the command: the driver calls listeners inline)."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        name = event.command_name
        # A getMore names its cursor first, its collection in "collection".
        target = event.command.get("collection" if name == "getMore" else name)
        collection = target if isinstance(target, str) else "-"
        self._metrics.count(self._metrics.db_commands, collection, name, command_source.get())

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        """Nothing to do: commands are counted when they start."""

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        """Nothing to do: commands are counted when they start."""


class RequestContext:
    """The outermost ASGI layer: request id, security headers, body timeout, access log,
    metrics."""

    def __init__(
        self, app: Any, metrics: Metrics, body_timeout: float, hsts_max_age: int = 0
    ) -> None:
        self._app = app
        self._metrics = metrics
        self._body_timeout = body_timeout
        # Sent on answers to requests that came over TLS: directly, or per X-Forwarded-Proto
        # from a trusted proxy (uvicorn's proxy headers set the scheme for those only).
        self._hsts = (
            (b"strict-transport-security", f"max-age={hsts_max_age}; includeSubDomains".encode())
            if hsts_max_age
            else None
        )
        # Request ids: a random per-process prefix and a counter (32 hex digits),
        # unique across processes without a random draw per request.
        self._prefix = os.urandom(8).hex()
        self._ids = itertools.count(1)

    def _new_id(self) -> str:
        return f"{self._prefix}{next(self._ids):016x}"

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        given = next((v for k, v in scope["headers"] if k == b"x-request-id"), b"").decode(
            "latin-1"
        )
        info = RequestInfo(given if _REQUEST_ID.match(given) else self._new_id())
        token = _current.set(info)
        started = time.perf_counter()
        status = 500
        # A client that leaves before its answer is complete is recorded as 499, not
        # as whatever the app made of the disconnect (Litestar answers a body cut
        # short with a 500 nobody receives): it is the client's doing, not an error.
        client_left = answered = False
        hsts = self._hsts if scope.get("scheme") == "https" else None

        async def send_with_headers(message: Any) -> None:
            nonlocal status, answered
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                # Handlers that set a header of their own (a page's CSP) keep it.
                present = [n for n, _ in headers if n.lower() in _SECURITY_NAMES]
                headers.append((b"x-request-id", info.request_id.encode()))
                if present:
                    own = {name.lower() for name in present}
                    headers.extend(h for h in SECURITY_HEADERS if h[0] not in own)
                else:
                    headers.extend(SECURITY_HEADERS)
                if hsts is not None:
                    headers.append(hsts)
                message = {**message, "headers": headers}
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                answered = True

        body_done = False

        async def receive_in_time() -> Any:
            # Only the body is timed: afterwards receive() waits for a disconnect,
            # which may rightly take as long as a download does.
            nonlocal body_done, client_left
            if body_done:
                message = await receive()
            else:
                try:
                    async with asyncio.timeout(self._body_timeout):
                        message = await receive()
                except TimeoutError:
                    raise RequestTimeout("Request body not received in time") from None
                body_done = message["type"] != "http.request" or not message.get("more_body")
            if message["type"] == "http.disconnect" and not answered:
                client_left = True
            return message

        try:
            await self._app(scope, receive_in_time, send_with_headers)
        finally:
            if client_left:
                status = CLIENT_CLOSED_REQUEST
            elapsed = time.perf_counter() - started
            route = scope.get("path_template") or "unmatched"
            method = scope["method"]
            self._metrics.requests.observe(route, method, status, elapsed)
            if access_log.isEnabledFor(logging.INFO):
                self._log(scope, info, route, status, elapsed)
            _current.reset(token)

    @staticmethod
    def _log(scope: Any, info: RequestInfo, route: str, status: int, elapsed: float) -> None:
        method = scope["method"]
        access_log.info(
            "%s %s %s",
            method,
            scope["path"],
            status,
            extra={
                "fields": {
                    "method": method,
                    "path": scope["path"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 2),
                    "subject": info.subject,
                    "client": (scope.get("client") or ("-",))[0],
                }
            },
        )
