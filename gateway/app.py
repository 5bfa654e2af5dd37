"""Application assembly: one Litestar app, both front doors, one set of services."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.routes import HTTPRoute

from gateway.compression import Compression
from gateway.config import Settings, with_jwt_secret
from gateway.credentials import Passwords
from gateway.db import build_client, close_client, ensure_indexes
from gateway.embedded import EmbeddedServer
from gateway.front_page import front_page_handlers
from gateway.http import provide_actor, provide_services
from gateway.local_writes import LocalWrites
from gateway.metrics_serving import serving_metrics
from gateway.observability import DatabaseCommandCounter, Metrics, RequestContext
from gateway.ratelimit import build_limiter
from gateway.server_stop import when_stopping
from gateway.services import Services
from gateway.shared_generation import SharedGeneration
from resolvers import graphql_route_handlers
from rest import exception_handlers, openapi_config, route_handlers

__all__ = ["create_app", "open_services"]

log = logging.getLogger("gateway")

_INDEX_RETRY_SECONDS = 5.0
_SWEEP_SECONDS = 60.0
# The function behind the OPTIONS handler Litestar adds to each path (HTTPRoute).
_AUTOMATIC_OPTIONS = "HTTPRoute.create_options_handler.<locals>.options_handler"


async def _ensure_indexes_eventually(db: Any) -> None:
    """Create indexes now, or keep trying in the background while the database is away."""
    while True:
        try:
            await ensure_indexes(db)
            return
        except Exception as exc:  # unreachable database: serve 503s meanwhile, retry
            log.warning("could not ensure indexes (%s); retrying", exc)
            await asyncio.sleep(_INDEX_RETRY_SECONDS)


@contextlib.asynccontextmanager
async def open_services(
    settings: Settings,
    *,
    client: Any = None,
    listeners: Sequence[Any] = (),
    metrics: Metrics | None = None,
) -> AsyncIterator[Services]:
    """Connect (starting the embedded database if no URI is set) and yield the services.

    Shared by the application's lifespan and the CLI, so both act on the same
    database in the same way. ``settings`` must carry a JWT secret.
    """
    embedded: EmbeddedServer | None = None
    own_client = client is None
    db_client = client
    # A shared client (tests) carries no listener of ours: its writes wait for a poll.
    local_writes = LocalWrites()
    if own_client:
        uri = settings.mongodb_uri
        if uri is None:
            embedded = EmbeddedServer(settings.data_path)
            uri = embedded.start()  # on the loop's thread, see EmbeddedServer._launch
            embedded.supervise()
        db_client = build_client(uri, settings, [*listeners, local_writes])
    db = db_client[settings.db_name]
    indexes = asyncio.create_task(_ensure_indexes_eventually(db))
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(indexes), settings.mongo_timeout_ms / 1000 + 1)
    passwords = Passwords(settings)
    limiter = build_limiter(settings, db)
    services = Services.build(db, settings, passwords, limiter, metrics)
    local_writes.notify(services.feed.nudge)
    # Unfinished uploads (a crash, a lost client) are removed while the app runs.
    sweeper = asyncio.create_task(services.files.sweep_forever(_SWEEP_SECONDS))
    try:
        yield services
    finally:
        sweeper.cancel()
        indexes.cancel()
        passwords.close()
        await limiter.close()
        if own_client:
            await close_client(db_client)
        if embedded is not None:
            await embedded.stop()


def create_app(
    settings: Settings, *, client: Any = None, workers_dir: Path | None = None
) -> Litestar:
    """Build the gateway.

    ``client`` lets tests share one database client across apps; otherwise the
    app opens its own (and, without ``GATEWAY_MONGODB_URI``, starts the
    embedded database) when it starts, and closes it when it stops.
    ``workers_dir``: the app is one of ``gateway serve --workers`` (gateway.workers).
    """
    settings = with_jwt_secret(settings)

    metrics = Metrics(workers_dir)

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        listeners = [DatabaseCommandCounter(metrics)]
        async with (
            open_services(
                settings, client=client, listeners=listeners, metrics=metrics
            ) as services,
            serving_metrics(metrics, settings),
        ):
            app.state.services = services
            shared = None
            if workers_dir is not None:  # one of `gateway serve --workers N`: share writes
                shared = SharedGeneration(workers_dir / "product-totals.generation")
                services.products.totals.share(shared)
            # Live data's change streams: opened with the app, closed before the database.
            await services.feed.start()
            try:
                with when_stopping(services.feed.drain):  # a stop ends live streams at once
                    yield
            finally:
                await services.feed.stop()
                if shared is not None:
                    shared.close()

    cors = (
        CORSConfig(
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "PUT", "DELETE", "OPTIONS"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "X-Request-ID",
                # Conditional and range requests (validators from ETag/Last-Modified).
                "If-Match",
                "If-None-Match",
                "If-Modified-Since",
                "If-Range",
                "Range",
                # The preflight-forcing headers GraphQL uploads require (see resolvers).
                "Apollo-Require-Preflight",
                "GraphQL-Require-Preflight",
                "X-Apollo-Operation-Name",
                "X-Requested-With",
            ],
            expose_headers=[
                "X-Total-Count",
                "Link",
                "Location",
                "Retry-After",
                "X-Request-ID",
                "ETag",
                "Last-Modified",
                "Content-Range",
                "Accept-Ranges",
            ],
            allow_credentials=False,
        )
        if settings.cors_origins
        else None
    )
    app = GatewayApp(
        metrics=metrics,
        body_timeout=settings.body_timeout,
        hsts_max_age=settings.hsts_max_age,
        route_handlers=[
            *front_page_handlers(settings),
            *route_handlers(settings),
            *graphql_route_handlers(settings),
        ],
        dependencies={
            "services": Provide(provide_services, sync_to_thread=False),
            "actor": Provide(provide_actor),
        },
        exception_handlers=exception_handlers,
        openapi_config=openapi_config(settings.swagger_ui_enabled),
        lifespan=[lifespan],
        cors_config=cors,
        request_max_body_size=settings.max_body_bytes,
        multipart_form_part_limit=settings.multipart_max_parts,
        debug=False,
        logging_config=None,  # logging is the process's business (gateway.observability)
    )
    app.state.settings = settings
    app.state.metrics = metrics
    return app


class GatewayApp(Litestar):
    """Litestar with ``RequestContext`` outermost, so that every answer (404 and 405
    included) gets a request id, security headers, an access log line and metrics,
    and ``Compression`` inside it (the log and metrics see the status, not the coding)."""

    def __init__(
        self, *args: Any, metrics: Metrics, body_timeout: float, hsts_max_age: int, **kwargs: Any
    ) -> None:
        self.metrics = metrics
        self.body_timeout = body_timeout
        self.hsts_max_age = hsts_max_age
        super().__init__(*args, **kwargs)
        self._answer_options_for_every_method()

    def _answer_options_for_every_method(self) -> None:
        """Give each path an automatic ``OPTIONS`` handler that lists all its methods.

        Litestar 2 (issue #4169, fixed in 3) makes that handler when the first
        handler of a path is registered and keeps it as the path's other handlers
        (the rest of a controller, another controller) join: it then answers with
        the methods of that first registration only (``Allow: OPTIONS, POST`` for
        a path that also takes GET). Each path's finished route gets a fresh one.
        An ``OPTIONS`` handler of the app's own would be kept; CORS preflights are
        answered by the CORS middleware before routing and are not affected.
        """
        for route in self.routes:
            if not isinstance(route, HTTPRoute) or "OPTIONS" not in route.route_handler_map:
                continue
            stale, _ = route.route_handler_map["OPTIONS"]
            if stale.fn.__qualname__ != _AUTOMATIC_OPTIONS:
                continue
            fresh = route.create_options_handler(route.path)
            fresh.owner = stale.owner
            fresh.on_registration(self)
            route.route_handlers[route.route_handlers.index(stale)] = fresh
            route.route_handler_map["OPTIONS"] = (
                fresh,
                fresh.create_kwargs_model(path_parameters=route.path_parameters),
            )

    def _create_asgi_handler(self) -> Any:
        return RequestContext(
            Compression(super()._create_asgi_handler()),
            self.metrics,
            self.body_timeout,
            self.hsts_max_age,
        )
