"""The ``Schema`` object: root types in, limits, caches and error logging on."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import strawberry
from graphql import ASTValidationRule, GraphQLError
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    ParserCache,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from schema.errors import log_unexpected
from schema.limits import query_limits_rule
from schema.scalars import SCALARS

__all__ = ["DOCUMENT_CACHE_SIZE", "GatewaySchema", "build_schema"]

# Parsed and validated documents kept per process; clients send few distinct queries.
DOCUMENT_CACHE_SIZE = 256

ExtensionFactory = Callable[[], SchemaExtension]


class GatewaySchema(strawberry.Schema):
    """Strawberry's schema, logging only the errors clients are not meant to cause."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            log_unexpected(error)


def build_schema(
    query: type,
    mutation: type,
    *,
    max_depth: int,
    max_aliases: int,
    max_tokens: int,
    extensions: Sequence[ExtensionFactory] = (),
) -> GatewaySchema:
    """The schema over the given root types, refusing operations past the limits before they run."""
    # Built once, so the validation cache sees the same rules on every request.
    rules: list[type[ASTValidationRule]] = [query_limits_rule(max_depth, max_aliases)]
    return GatewaySchema(
        query=query,
        mutation=mutation,
        extensions=[
            *extensions,
            # Before parsing: a flood of tokens (a field repeated 100,000 times) is
            # refused at once instead of costing seconds of parse and validation.
            lambda: MaxTokensLimiter(max_token_count=max_tokens),
            lambda: AddValidationRules(rules),
            lambda: ParserCache(maxsize=DOCUMENT_CACHE_SIZE),
            lambda: ValidationCache(maxsize=DOCUMENT_CACHE_SIZE),
        ],
        config=StrawberryConfig(scalar_map=SCALARS),
    )
