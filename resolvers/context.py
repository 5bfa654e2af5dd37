"""The GraphQL context: the services, the caller (decided by the provider REST uses too,
``gateway.http.provide_actor``) and the loaders."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

import strawberry
from litestar import Request
from litestar.connection import ASGIConnection

from gateway.http import client_key, provide_actor, provide_services
from gateway.services import Actor, Services
from resolvers.loaders import Loaders

__all__ = ["Context", "Info", "graphql_context"]


@dataclass(frozen=True, slots=True)
class Context:
    """What resolvers work with during one request (or one subscription event)."""

    request: ASGIConnection[Any, Any, Any, Any]  # the HTTP request, or the WebSocket
    services: Services
    actor: Actor | None
    loaders: Loaders
    client: str | None = None  # the caller's address, for rate limits
    # Why the request's credentials were refused (a bad token, the database away).
    refusal: Exception | None = None

    def for_event(self) -> Context:
        """The context of one subscription event: the same caller, fresh DataLoaders
        (loaders kept from an earlier event would answer with what it read)."""
        return dataclasses.replace(self, loaders=Loaders(self.services, self.actor))


Info = strawberry.Info[Context, None]


async def graphql_context(request: Request[Any, Any, Any]) -> Context:
    """The context of one request, with fresh DataLoaders."""
    services = provide_services(request)
    client = client_key(request)
    try:
        actor = await provide_actor(request)  # as for REST: a refused token is an error
    except Exception as exc:  # answered as a GraphQL error by OperationHooks
        loaders = Loaders(services, None)
        return Context(request, services, None, loaders, client=client, refusal=exc)
    return Context(request, services, actor, Loaders(services, actor), client=client)
