"""Request helpers shared by the REST controllers: strict JSON bodies and plain query values."""

from __future__ import annotations

from typing import Any, TypeVar

from litestar import Request
from litestar.di import NamedDependency

from gateway.errors import UnsupportedMediaType, ValidationFailed
from gateway.observability import current_request
from gateway.services import Actor, Services
from gateway.validation import decode_json

__all__ = [
    "ActorDep",
    "ServicesDep",
    "client_address",
    "plain_query",
    "provide_actor",
    "provide_services",
    "read_json",
]

T = TypeVar("T")

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


def client_address(request: AnyRequest) -> str | None:
    """The caller's address, as the server saw it (behind trusted proxies: as they said)."""
    return request.client.host if request.client else None


def _is_json(request: AnyRequest) -> bool:
    media_type = request.content_type[0]
    return media_type == "application/json" or media_type.endswith("+json")


async def read_json(
    request: AnyRequest, model: type[T], error: type[ValidationFailed] = ValidationFailed
) -> T:
    """Read the body as ``model``.

    Raises:
        UnsupportedMediaType: the body is not declared as JSON.
        ValidationFailed: (or ``error``) the body breaks the model's rules.
    """
    if not _is_json(request):
        raise UnsupportedMediaType("Content-Type must be application/json")
    return decode_json(await request.body(), model, error)


def plain_query(request: AnyRequest, *names: str) -> dict[str, str | None]:
    """The named query values as plain strings.

    Raises:
        ValidationFailed: an operator-like key (``category[$ne]``, ``$where``) or
            a named value given more than once.
    """
    for key in request.query_params:
        if "[" in key or "]" in key or key.startswith("$"):
            raise ValidationFailed("Invalid query parameter", [f"{key}: not allowed"])
    values: dict[str, str | None] = {}
    for name in names:
        given = request.query_params.getall(name, [])
        if len(given) > 1:
            raise ValidationFailed("Invalid query parameter", [f"{name}: given more than once"])
        values[name] = given[0] if given else None
    return values
