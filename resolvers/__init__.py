"""The GraphQL front door: resolvers, DataLoaders, the context and the ``/graphql`` endpoint."""

from litestar.types import ControllerRouterHandler

from gateway.config import Settings
from resolvers.controller import graphql_controller
from resolvers.graphiql import graphiql_asset_handlers
from resolvers.mutations import Mutation
from resolvers.operations import OperationHooks
from resolvers.queries import Query
from resolvers.subscriptions import Subscription
from schema import GatewaySchema, build_schema

__all__ = ["Mutation", "Query", "Subscription", "graphql_route_handlers", "graphql_schema"]


def graphql_schema(settings: Settings) -> GatewaySchema:
    """The gateway's schema, with ``settings``' limits."""
    return build_schema(
        Query,
        Mutation,
        settings,
        subscription=Subscription,
        extensions=[OperationHooks],
    )


def graphql_route_handlers(settings: Settings) -> list[ControllerRouterHandler]:
    """``/graphql`` (queries, mutations, subscriptions, uploads, GraphiQL) and the
    explorer's assets."""
    return [
        graphql_controller(settings, graphql_schema(settings)),
        *(graphiql_asset_handlers() if settings.graphiql_enabled else []),
    ]
