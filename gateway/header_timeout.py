"""Cut off clients that send a request's head too slowly (``GATEWAY_HEADER_TIMEOUT``).

uvicorn has no such timeout: its keep-alive timer stops at a request's first
byte, so a client that trickles a header line now and then holds a connection
(and a file descriptor) for ever. This protocol, uvicorn's httptools one with
one timer more, gives every request head ``header_timeout`` seconds, counted
from the connection's start (after the TLS handshake, which asyncio times
itself) or from the end of the previous answer, and closes the connection when
the head is not complete by then. The body has its own timeout
(``GATEWAY_BODY_TIMEOUT``, ``RequestContext``). At a stop it announces the stop first
(``gateway.server_stop``), so that open event streams end.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.server_stop import announce_stop

__all__ = ["HeaderTimeoutProtocol"]


class HeaderTimeoutProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, header_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout = header_timeout
        self._head_timer: asyncio.TimerHandle | None = None

    def _arm_head_timer(self) -> None:
        self._disarm_head_timer()
        self._head_timer = self.loop.call_later(self._header_timeout, self._head_too_slow)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.logger.info("request head not received in %ss; closing", self._header_timeout)
            self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._disarm_head_timer()
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        # A pipelined request waiting in the queue (started now) has its head complete.
        queued = bool(self.pipeline)
        super().on_response_complete()
        if not queued and not self.transport.is_closing():
            self._arm_head_timer()

    def shutdown(self) -> None:
        announce_stop()  # live streams end now rather than hold the stop up (server_stop)
        super().shutdown()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)
