"""A request's head (line and headers): bounded in time and in size.

Size (``GATEWAY_MAX_HEAD_BYTES``): uvicorn's httptools protocol keeps a URL and each
header as they arrive, without limit, so one client sending an endless URL or header
fast could grow the process by as much as it sent before the time limit below
(some 100 MiB a connection here). This protocol refuses a head larger than
``max_head_bytes`` (the URL and the headers' names and values), or of more than
``MAX_HEADER_FIELDS`` headers: 414 for a URL over the limit by itself, 431 otherwise,
as JSON (``{"error": ...}``), and closes the connection. A complete head is measured
once (when it ends); while a head is incomplete the bytes are counted as they arrive,
so what one connection can make the process hold stays under the limit plus one read
(a read that also ends the head may carry the body, and is not held against it).
A chunked body's trailers are headers too, gathered the same way: what arrives after
the head beyond the body itself (chunk framing, trailers) has the same limit, plus
``_CHUNK_FRAMING`` bytes a chunk.

Pipelining: uvicorn queues every request of a read that arrives ahead of the answers
to the earlier ones, and reads on after each answer even while some wait: a client
pipelining megabytes of tiny requests without reading the answers grew the process
by some 200 MiB a second. Here a connection reads on only once its queue is
answered, and a request past ``MAX_PIPELINED`` queued ones is not taken: those
queued are answered, the last with ``Connection: close`` (a client retries the rest
on a new connection, as HTTP/1.1 has clients do when a connection closes).

Time (``GATEWAY_HEADER_TIMEOUT``): uvicorn has no such timeout: its keep-alive timer
stops at a request's first byte, so a client that trickles a header line now and then
holds a connection (and a file descriptor) for ever. This protocol, uvicorn's httptools one with
one timer more, gives every request head ``header_timeout`` seconds, counted
from the connection's start (after the TLS handshake, which asyncio times
itself) or from the end of the previous answer, and closes the connection when
the head is not complete by then. The body has its own timeout
(``GATEWAY_BODY_TIMEOUT``, ``RequestContext``). At a stop it announces the stop first
(``gateway.server_stop``), so that open event streams end.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.server_stop import announce_stop

__all__ = ["MAX_HEADER_FIELDS", "MAX_PIPELINED", "RequestHeadProtocol"]

# Apache's LimitRequestFields.
MAX_HEADER_FIELDS = 100
# Requests a connection may send ahead of their answers (HTTP/1.1 pipelining).
MAX_PIPELINED = 16
# What a chunk's size line and line ends may take (16 hex digits, a short extension).
_CHUNK_FRAMING = 64


class _HeadRefused(Exception):
    """Raised from a parser callback to stop parsing a head that was refused."""


class RequestHeadProtocol(HttpToolsProtocol):
    def __init__(
        self, *args: Any, header_timeout: float, max_head_bytes: int, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout = header_timeout
        self._head_timer: asyncio.TimerHandle | None = None
        self._max_head_bytes = max_head_bytes
        self._in_head = True  # the bytes that arrive belong to a head not yet complete
        self._head_received = 0  # bytes that arrived while it was
        # After the head: bytes that arrived, and those of them that were body (the rest
        # is chunked framing and trailers, which httptools gathers like headers).
        self._after_head = self._body_bytes = self._chunks = 0
        self._refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._in_head:
            self._head_received += len(data)
        else:
            self._after_head += len(data)
        super().data_received(data)
        if self._refused:
            return
        if self._in_head:
            if self._head_received > self._max_head_bytes:
                self._refuse_head()
        elif self._after_head - self._body_bytes > self._max_head_bytes + _CHUNK_FRAMING * (
            self._chunks
        ):
            self._refuse_trailers()

    def on_body(self, body: bytes) -> None:
        self._body_bytes += len(body)
        super().on_body(body)

    def on_chunk_header(self) -> None:
        self._chunks += 1

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True  # what follows is the next request's head
        self._head_received = self._after_head = self._body_bytes = self._chunks = 0

    def send_400_response(self, msg: str) -> None:
        if not self._refused:  # not the parser's error about a head refused already
            super().send_400_response(msg)

    def _refuse_head(self) -> None:
        """Refuse the head under way: its URL alone over the limit (414), or all of it.

        While an earlier request's answer is under way (pipelining), a refusal written
        now would land inside it: that answer ends the connection instead, whole."""
        if self.cycle is not None and not self.cycle.response_complete:
            self._close_after_answer()
            return
        if len(self.url) > self._max_head_bytes:
            self._refuse(414, "URI Too Long", "The request's URL is too long")
        else:
            message = "The request's headers are too large"
            self._refuse(431, "Request Header Fields Too Large", message)

    def _refuse_trailers(self) -> None:
        """Refuse a chunked body whose framing or trailers outgrow the head's limit; the
        request is under way, so only a connection not yet answered hears why."""
        if self.cycle.response_started:
            self._refused = True
            self.logger.info("request trailers refused: too large")
            self.transport.close()
        else:
            self.cycle.disconnected = True  # the app, waiting for the body's end, stops
            self.cycle.message_event.set()
            message = "The request's trailers are too large"
            self._refuse(431, "Request Header Fields Too Large", message)

    def _close_after_answer(self) -> None:
        """Read nothing more; the answer under way is the last (``Connection: close``)."""
        self._refused = True
        self.cycle.keep_alive = False
        self.flow.pause_reading()

    def _refuse(self, status: int, reason: str, message: str, headers: str = "") -> None:
        """Answer ``status`` with the contract's error body, and close the connection;
        ``headers``: more header lines, each ending with CRLF."""
        self._refused = True
        self._disarm_head_timer()
        body = json.dumps({"error": message}).encode()
        head = (
            f"HTTP/1.1 {status} {reason}\r\n"
            "content-type: application/json\r\n"
            f"content-length: {len(body)}\r\n"
            "cache-control: no-store\r\n"
            "x-content-type-options: nosniff\r\n"
            f"{headers}"
            "connection: close\r\n\r\n"
        )
        self.logger.info("request head refused: %s %s", status, message)
        self.transport.write(head.encode("ascii") + body)
        self.transport.close()

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
        self._in_head = False
        self._head_received = 0
        size = len(self.url) + sum(map(len, itertools.chain.from_iterable(self.headers)))
        if size > self._max_head_bytes or len(self.headers) > MAX_HEADER_FIELDS:
            self._refuse_head()
            raise _HeadRefused  # stops the parser: no request is started
        if len(self.pipeline) >= MAX_PIPELINED:
            # Not taken: the requests queued are answered, the last with Connection:
            # close, and nothing more is read from this connection.
            self.logger.info("more than %s pipelined requests; closing after them", MAX_PIPELINED)
            self._close_after_answer()
            raise _HeadRefused
        super().on_headers_complete()

    def on_response_complete(self) -> None:
        # A pipelined request waiting in the queue (started now) has its head complete.
        queued = bool(self.pipeline)
        super().on_response_complete()
        if self.pipeline:
            self.flow.pause_reading()  # uvicorn read on: read once the queue is answered
        if not queued and not self.transport.is_closing():
            self._arm_head_timer()

    def shutdown(self) -> None:
        announce_stop()  # live streams end now rather than hold the stop up (server_stop)
        super().shutdown()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)
