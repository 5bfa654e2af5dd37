"""The GraphQL schema: its building blocks (types, inputs, connections, enums, limits,
errors), the ``Schema`` object (``schema.schema``) and how it executes: the memory fix
every schema runs with (``schema.releasing_execution``) and the execution speed-ups
(``schema.fast_execution``, ``GATEWAY_GRAPHQL_FAST_EXECUTION``).

The root ``Query`` and ``Mutation`` types live with their resolvers in
``resolvers``, which hands them to ``build_schema``; nothing here imports
``resolvers`` (except the ``schema.export`` command).
"""

from schema.connections import Connection, Edge, PageInfo, connection, wants_total
from schema.enums import ProductSortField, SortDirection
from schema.errors import format_error
from schema.inputs import (
    ContactInput,
    CreatePostInput,
    CreateProductInput,
    CreateUserInput,
    ProductOrder,
    UpdateProductInput,
    UpdateProfileInput,
    UpdateUserInput,
)
from schema.schema import GatewaySchema, build_schema
from schema.types import (
    AuthPayload,
    ContactReceipt,
    FileType,
    PostType,
    ProductType,
    ProfileType,
    RelationLoaders,
    UserType,
    user_of,
    users_of,
)

__all__ = [
    "AuthPayload",
    "Connection",
    "ContactInput",
    "ContactReceipt",
    "CreatePostInput",
    "CreateProductInput",
    "CreateUserInput",
    "Edge",
    "FileType",
    "GatewaySchema",
    "PageInfo",
    "PostType",
    "ProductOrder",
    "ProductSortField",
    "ProductType",
    "ProfileType",
    "RelationLoaders",
    "SortDirection",
    "UpdateProductInput",
    "UpdateProfileInput",
    "UpdateUserInput",
    "UserType",
    "build_schema",
    "connection",
    "format_error",
    "user_of",
    "users_of",
    "wants_total",
]
