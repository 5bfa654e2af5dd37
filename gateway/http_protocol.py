"""The HTTP protocol ``gateway serve`` runs: uvicorn's httptools one, with each request's
head bounded (``gateway.request_head``), answers left unread cut off
(``gateway.write_timeout``), and the connections a process holds capped (here).

The cap (``GATEWAY_MAX_CONNECTIONS``): every connection costs memory (about 6.8 KiB
idle, measured) and a file descriptor, and uvicorn takes all it is offered. One client
opening connections faster than the head timeout closes them could grow the process
without bound, or take the file descriptors that the database's connections, uploads
and logs need. A connection past the cap is answered 503 (``Retry-After: 1``) at once
and closed. The process's open-files limit is raised to make room for the cap where
its hard limit allows; past that the cap is lowered to fit it: at most that limit less
``FILES_KEPT`` (and at most half of it, were that less), so that a flood leaves files
for the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import resource
from typing import Any

from gateway.config import Settings
from gateway.write_timeout import WriteTimeoutProtocol

__all__ = ["FILES_KEPT", "CappedProtocol", "connection_cap", "http_protocol"]

log = logging.getLogger("gateway")

# File descriptors left to anything but client connections: the database's pool
# (PyMongo's default maxPoolSize is 100) and monitors, the embedded server's pipes,
# uploads spooled to disk, logs, the listening sockets.
FILES_KEPT = 256


class CappedProtocol(WriteTimeoutProtocol):
    """The gateway's HTTP protocol: refuses a connection past ``max_connections``."""

    def __init__(self, *args: Any, max_connections: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._max_connections = max_connections

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self._max_connections:
            self.connections.discard(self)  # what it holds is let go of at once
            self._refuse(
                503,
                "Service Unavailable",
                "The server holds too many connections",
                "retry-after: 1\r\n",
            )


def connection_cap(configured: int) -> int:
    """The connections one process may hold: ``configured``, with the open-files limit
    raised to make room for them where the hard limit allows (as Go's runtime does),
    and the cap lowered to fit the limit otherwise (logged)."""
    files, most = resource.getrlimit(resource.RLIMIT_NOFILE)
    if files == resource.RLIM_INFINITY:
        return configured
    wanted = configured + FILES_KEPT
    if files < wanted:
        raised = wanted if most == resource.RLIM_INFINITY else min(most, wanted)
        with contextlib.suppress(ValueError, OSError):  # a system maximum below it
            resource.setrlimit(resource.RLIMIT_NOFILE, (raised, most))
            files = raised
    fitting = max(files - FILES_KEPT, files // 2)
    if fitting < configured:
        log.info(
            "GATEWAY_MAX_CONNECTIONS lowered to %d to fit the open-files limit (%d); "
            "raise the limit (ulimit -n) to hold more",
            fitting,
            files,
        )
        return fitting
    return configured


def http_protocol(settings: Settings) -> functools.partial[CappedProtocol]:
    """What ``uvicorn.Config(http=...)`` takes (a partial, so that workers can unpickle it);
    its workers inherit the open-files limit the cap was fitted to."""
    return functools.partial(
        CappedProtocol,
        header_timeout=settings.header_timeout,
        max_head_bytes=settings.max_head_bytes,
        write_timeout=settings.write_timeout,
        max_connections=connection_cap(settings.max_connections),
    )
