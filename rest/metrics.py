"""``/metrics``: Prometheus exposition of the gateway's metrics.

With ``GATEWAY_METRICS_TOKEN`` set it asks for ``Authorization: Bearer <token>``;
in production it is not served on the API's port without one (nor ever when
``GATEWAY_METRICS_PORT`` serves it on a port of its own).
"""

from __future__ import annotations

import hmac
from typing import Any

from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from gateway.config import Settings
from gateway.errors import Unauthenticated

__all__ = ["metrics"]


def _check_access(settings: Settings, authorization: str | None) -> None:
    """Raises: NotFoundException: not served here (as if there were no such route);
    Unauthenticated: the token is missing or wrong."""
    if not settings.metrics_on_api_port:
        raise NotFoundException()
    if settings.metrics_token is None:
        return
    scheme, _, given = (authorization or "").partition(" ")
    expected = settings.metrics_token.encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
        raise Unauthenticated("A valid metrics token is required")


@get("/metrics", include_in_schema=False)
async def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    _check_access(request.app.state.settings, request.headers.get("authorization"))
    exposed = request.app.state.metrics.exposed
    return Response(generate_latest(exposed), headers={"Content-Type": CONTENT_TYPE_LATEST})
