"""Cut off clients that leave an answer unread (``GATEWAY_WRITE_TIMEOUT``).

uvicorn stops writing when a connection's buffer is full (the client's TCP window
closed) and its ``send`` waits until the client reads again, for ever if it never
does. A stream that never ends (``GET /api/products/events``, GraphQL over SSE)
would then hold its task, its subscription and its socket for good, and closing
the socket would not free it either (asyncio flushes a closing transport first).
This protocol aborts the connection once writing has stayed paused for
``write_timeout`` seconds: the ASGI app hears a disconnect and ends the answer.
A slow but reading client resumes the writes well before that.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from gateway.request_head import RequestHeadProtocol

__all__ = ["WriteTimeoutProtocol"]

log = logging.getLogger("gateway")


class WriteTimeoutProtocol(RequestHeadProtocol):
    """uvicorn's httptools protocol with the head timer and a stalled-write timer."""

    def __init__(self, *args: Any, write_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._write_timeout = write_timeout
        self._write_timer: asyncio.TimerHandle | None = None

    def pause_writing(self) -> None:
        super().pause_writing()
        if self._write_timer is None:
            self._write_timer = self.loop.call_later(self._write_timeout, self._write_stalled)

    def resume_writing(self) -> None:
        self._disarm_write_timer()
        super().resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_write_timer()
        super().connection_lost(exc)

    def _disarm_write_timer(self) -> None:
        if self._write_timer is not None:
            self._write_timer.cancel()
            self._write_timer = None

    def _write_stalled(self) -> None:
        self._write_timer = None
        log.info("answer left unread for %ss; closing the connection", self._write_timeout)
        self.transport.abort()  # close() would wait for the unread bytes to go
