"""What both front doors need from HTTP: dependency providers, who the caller is,
the status of Litestar's own refusals, and the asset tags of the self-hosted pages.

The two doors (``rest/``, and ``schema/`` with ``resolvers/``) import these and
never each other (DESIGN.md, rules of the house; ``tests/test_layering.py``
holds them to it). The request-context middleware is ``gateway.observability``'s.
"""

from __future__ import annotations

import functools
import html
import ipaddress
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_400_BAD_REQUEST, HTTP_413_REQUEST_ENTITY_TOO_LARGE

from gateway.observability import current_request
from gateway.services import Actor, Services
from gateway.static_assets import asset_url

__all__ = [
    "IPV6_CLIENT_PREFIX",
    "ActorDep",
    "AnyRequest",
    "ServicesDep",
    "asset_tags",
    "client_key",
    "http_status",
    "provide_actor",
    "provide_services",
]

# The smallest network an IPv6 subscriber is given (one LAN, RFC 4291): one client.
IPV6_CLIENT_PREFIX = 64

AnyRequest = Request[Any, Any, Any]
# Handler parameters, injected by name (see the app's ``dependencies``).
ServicesDep = NamedDependency[Services]
ActorDep = NamedDependency[Actor | None]


def provide_services(request: AnyRequest) -> Services:
    services: Services = request.app.state.services
    return services


async def provide_actor(request: AnyRequest) -> Actor | None:
    """The signed-in caller, if any; a refused token is a 401 even on public routes."""
    services: Services = request.app.state.services
    actor = await services.auth.actor(request.headers.get("authorization"))
    info = current_request()
    if info is not None and actor is not None:
        info.subject = actor.id  # for the access log: who, never the token
    return actor


def client_key(request: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """Who the caller is to the rate limits and the caps per client: their address, as
    the server saw it (behind trusted proxies: as they said), an IPv6 one by its
    ``IPV6_CLIENT_PREFIX`` network and an IPv4-mapped one as IPv4.

    An IPv6 subscriber is given a /64 (2^64 addresses): counted per address, a client
    rotating through its own would never be limited.
    """
    if not request.client:
        return None
    host = request.client.host
    return _ipv6_key(host) if ":" in host else host


@functools.lru_cache(maxsize=4096)
def _ipv6_key(host: str) -> str:
    try:
        address = ipaddress.IPv6Address(host)
    except ValueError:  # not an address (a test client's name): itself
        return host
    if address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(ipaddress.IPv6Network((address, IPV6_CLIENT_PREFIX), strict=False))


def http_status(exc: HTTPException) -> int:
    """The status an HTTP exception of Litestar's deserves.

    Litestar 2 answers a multipart request with too many parts with a 400 that
    says "Request Entity Too Large" (its own FIXME for 3.0); the contract says 413.
    """
    if exc.status_code == HTTP_400_BAD_REQUEST and exc.detail == "Request Entity Too Large":
        return HTTP_413_REQUEST_ENTITY_TOO_LARGE
    return exc.status_code


def _versioned(directory: Path, prefix: str, name: str) -> str:
    """The asset's URL, versioned by a digest of its content (so it may be cached for good)."""
    return html.escape(asset_url(directory / name, prefix))


def asset_tags(
    directory: Path, prefix: str, styles: Sequence[str], scripts: Sequence[str]
) -> tuple[str, str]:
    """The ``<link>`` and deferred ``<script>`` tags, one per line, for the head of a
    self-hosted page (GraphiQL, the API docs) whose assets are served under ``prefix``."""
    links = "\n".join(
        f'    <link rel="stylesheet" href="{_versioned(directory, prefix, name)}">'
        for name in styles
    )
    tags = "\n".join(
        f'    <script src="{_versioned(directory, prefix, name)}" defer></script>'
        for name in scripts
    )
    return links, tags
