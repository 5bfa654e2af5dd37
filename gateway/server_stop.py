"""What a stopping server ends at once: live streams and WebSockets.

uvicorn stops in this order: it closes the listening sockets, asks each open connection
to shut down, waits for them to finish (up to ``timeout_graceful_shutdown``), and only
then runs the application's lifespan shutdown. A live stream (an event stream, a GraphQL
subscription) never finishes on its own, so without this every stop would wait out the
whole timeout, and the feed that could end them is stopped in the lifespan, too late.

So the connections' own shutdown does it, in every serving process (one, or each of
``--workers``):

* the HTTP protocol (``gateway.request_head``) calls ``announce_stop`` first: the
  callbacks registered with ``when_stopping`` run (the app's: its change feed ends
  every subscription), so each event stream ends with a whole body, as a finished
  answer does;
* ``GoingAwayWebSocketProtocol`` closes an open WebSocket with 1001 (going away; uvicorn
  says 1012, service restart) after announcing the stop too.

Callbacks are one-shot: a stop calls each once and forgets it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Final

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

__all__ = ["CLOSE_GOING_AWAY", "GoingAwayWebSocketProtocol", "announce_stop", "when_stopping"]

log = logging.getLogger("gateway")

CLOSE_GOING_AWAY: Final = 1001
GOING_AWAY_REASON: Final = "Server stopping"

_callbacks: list[Callable[[], None]] = []


@contextlib.contextmanager
def when_stopping(callback: Callable[[], None]) -> Iterator[None]:
    """Call ``callback`` (synchronously, once) when the server serving this process
    starts to stop, while inside the block."""
    _callbacks.append(callback)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):  # already called
            _callbacks.remove(callback)


def announce_stop() -> None:
    """The server is stopping: call (and forget) every registered callback."""
    while _callbacks:
        callback = _callbacks.pop(0)
        try:
            callback()
        except Exception:
            log.exception("a stop callback failed")


class GoingAwayWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol, closing open connections with 1001 at a stop."""

    def shutdown(self) -> None:
        announce_stop()
        if self.handshake_complete and not self.close_sent:
            self.queue.put_nowait({"type": "websocket.disconnect", "code": CLOSE_GOING_AWAY})
            self.conn.send_close(CLOSE_GOING_AWAY, GOING_AWAY_REASON)
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.close_sent = True  # uvicorn's shutdown then only closes the transport
        super().shutdown()
