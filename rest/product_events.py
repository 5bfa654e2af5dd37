"""``GET /api/products/events``: product changes as Server-Sent Events, from the change feed.

Each change is an event whose ``id`` is the feed's event id (so a browser's
``EventSource`` resumes with ``Last-Event-ID`` on its own), whose ``event`` is
``created``, ``updated`` or ``deleted``, and whose ``data`` is
``{"type", "id", "product"}`` with the product as ``GET /api/products/ID`` shows it
(null once deleted). When history is lost the client gets an ``event: reset`` telling
it to re-fetch. An idle stream gets a comment every ``GATEWAY_LIVE_HEARTBEAT`` seconds;
a client that reads too slowly is disconnected.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Final

import msgspec
from litestar import get
from litestar.openapi.spec import OpenAPIMediaType, Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.response import ServerSentEvent, ServerSentEventMessage

from gateway.change_feed import Gap, ProductFilter, SlowConsumer, Subscription
from gateway.http import ActorDep, AnyRequest, ServicesDep, client_key
from rest._http import check_request, query
from rest.openapi import OPTIONAL_TOKEN, header, operation, parameter

__all__ = ["RETRY_MS", "product_events"]

# How long a browser waits before reconnecting (the stream's first field).
RETRY_MS: Final = 3000
RESET_MESSAGE: Final = "Changes were missed: re-fetch the products, then keep listening"
_HEADERS: Final = {
    # no-transform: neither a proxy nor the gateway's own compression holds it back.
    "Cache-Control": "no-store, no-transform",
    "X-Accel-Buffering": "no",  # nginx: pass each event on at once
}

_DOCUMENTED = operation(
    parameters=[
        parameter(
            "Last-Event-ID",
            "header",
            "The id of the last event received: the events after it are sent first "
            "(an `event: reset` when they are no longer kept).",
        ),
    ],
    headers={
        "Cache-Control": header("`no-store, no-transform`"),
        "X-Accel-Buffering": header("`no`"),
    },
    content={"text/event-stream": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING))},
    errors=(404, 429, 503),
)


@get(
    "/api/products/events",
    summary="Follow product changes (Server-Sent Events)",
    description=(
        "A stream that stays open: `event: created|updated|deleted` with `id:` and "
        '`data: {"type", "id", "product"}` (the product as `GET /api/products/{id}` shows '
        "it, or null), `event: reset` when changes were missed, and heartbeat comments. "
        "404 when live data is turned off; 429 beyond the open streams allowed per address."
    ),
    tags=["products"],
    security=OPTIONAL_TOKEN,
    operation_class=_DOCUMENTED,
    before_request=check_request,
)
async def product_events(
    request: AnyRequest,
    services: ServicesDep,
    actor: ActorDep,
    category: Annotated[
        str | None, query(description="Only products of this category (deletions always).")
    ] = None,
    product_id: Annotated[
        str | None, query(description="Only this product (24 hex digits; 400 if not).", name="id")
    ] = None,
) -> ServerSentEvent:
    """``actor`` is read for its check alone: a token that is sent must be valid."""
    wanted = ProductFilter.parse(category, product_id)
    subscription = services.feed.subscribe(
        {"products"},
        last_event_id=request.headers.get("last-event-id"),
        client=client_key(request),
        accept=wanted.matches,
    )
    heartbeat = request.app.state.settings.live_heartbeat
    return ServerSentEvent(_events(subscription, heartbeat), headers=_HEADERS)


async def _events(
    subscription: Subscription, heartbeat: float
) -> AsyncIterator[ServerSentEventMessage]:
    async with subscription:  # subscribed before the first byte: nothing after it is missed
        yield ServerSentEventMessage(data=None, retry=RETRY_MS)
        while True:
            try:
                item = await subscription.receive(heartbeat)
            except (SlowConsumer, StopAsyncIteration):
                return  # too slow, or the server is stopping: the client reconnects
            if item is None:
                yield ServerSentEventMessage(data=None, comment="heartbeat")
            elif isinstance(item, Gap):
                body = {"type": "reset", "message": RESET_MESSAGE, "reason": item.reason}
                yield ServerSentEventMessage(event="reset", data=msgspec.json.encode(body))
            else:
                body = {"type": item.kind, "id": item.document_id, "product": item.document}
                data = msgspec.json.encode(body)
                yield ServerSentEventMessage(id=item.event_id, event=item.kind, data=data)
