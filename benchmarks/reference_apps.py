"""Reference points served with the gateway's uvicorn settings: what the stack costs without it.

``bare_app`` is an ASGI callable with no framework at all; ``litestar_app`` is
a plain Litestar application with one trivial JSON route. Both answer
``GET /api/hello`` with the gateway's greeting, so their figures compare
directly with the gateway's ``GET /api/hello``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Litestar, get

__all__ = ["GREETING", "bare_app", "litestar_app"]

GREETING = {"message": "Hello from the gateway"}

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_BODY = b'{"message":"Hello from the gateway"}'
_HEADERS = [
    (b"content-type", b"application/json"),
    (b"content-length", str(len(_BODY)).encode()),
]


async def _lifespan(receive: Receive, send: Send) -> None:
    """Acknowledge start-up and shut-down: there is nothing to open or close."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def bare_app(scope: Message, receive: Receive, send: Send) -> None:
    """Answer every HTTP request with the greeting, as fast as ASGI allows."""
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    await send({"type": "http.response.start", "status": 200, "headers": _HEADERS})
    await send({"type": "http.response.body", "body": _BODY})


@get("/api/hello")
async def hello() -> dict[str, str]:
    """The greeting, through Litestar's routing and serialisation."""
    return GREETING


litestar_app = Litestar(route_handlers=[hello])
