"""What both front doors need from HTTP: dependency providers, the caller's address,
the status of Litestar's own refusals, and the asset tags of the self-hosted pages.

The two doors (``rest/``, and ``schema/`` with ``resolvers/``) import these and
never each other (DESIGN.md, rules of the house; ``tests/test_layering.py``
holds them to it). The request-context middleware is ``gateway.observability``'s.
"""

from __future__ import annotations

import html
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
    "ActorDep",
    "AnyRequest",
    "ServicesDep",
    "asset_tags",
    "client_address",
    "http_status",
    "provide_actor",
    "provide_services",
]

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


def client_address(request: ASGIConnection[Any, Any, Any, Any]) -> str | None:
    """The caller's address, as the server saw it (behind trusted proxies: as they said)."""
    return request.client.host if request.client else None


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
