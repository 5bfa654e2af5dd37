"""The ``Schema`` object: root types in, limits, caches and error logging on."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import strawberry
from graphql import ASTValidationRule, DocumentNode, GraphQLError, GraphQLSchema, parse
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.schema.schema import validate_document
from strawberry.types import ExecutionContext

from schema.errors import log_unexpected
from schema.execution import LeanExecutionContext
from schema.limits import query_limits_rule
from schema.scalars import SCALARS

__all__ = [
    "DOCUMENT_CACHE_SIZE",
    "DocumentPipeline",
    "GatewaySchema",
    "build_schema",
    "document_cache",
]

# Parsed and validated documents kept per process; clients send few distinct queries.
DOCUMENT_CACHE_SIZE = 256

ExtensionFactory = Callable[[], SchemaExtension]


@functools.lru_cache(maxsize=DOCUMENT_CACHE_SIZE)
def _prepare(
    query: str,
    schema: GraphQLSchema,
    rules: tuple[type[ASTValidationRule], ...],
    **parse_options: Any,
) -> tuple[DocumentNode, list[GraphQLError]]:
    """A document parsed and validated, shared by every request (and so bounded: the
    texts come from clients). Keyed by the text, not by the parsed document,
    whose hash walks the whole tree. A document that does not parse raises,
    and is not kept."""
    document = parse(query, **parse_options)
    return document, validate_document(schema, document, rules)


class GatewaySchema(strawberry.Schema):
    """Strawberry's schema, logging only the errors clients are not meant to cause."""

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            log_unexpected(error)


class DocumentPipeline(SchemaExtension):
    """Parse and validate through shared caches, with the token limit and the limits rule.

    One extension in place of Strawberry's ``MaxTokensLimiter``,
    ``AddValidationRules``, ``ParserCache`` and ``ValidationCache``, and one
    hook: each hook costs a context manager per request. The document and its
    validation errors are set before Strawberry's parsing and validation
    stages, which then skip their own work. A document that does not parse is
    left to Strawberry, which parses it again (with the token limit) and
    answers the syntax error its usual way.
    """

    def __init__(self, max_tokens: int, rules: tuple[type[ASTValidationRule], ...]) -> None:
        self._max_tokens = max_tokens
        self._rules = rules

    def on_operation(self) -> Iterator[None]:
        context = self.execution_context
        context.parse_options["max_tokens"] = self._max_tokens
        context.validation_rules = context.validation_rules + self._rules
        if context.query and context.graphql_document is None:
            with contextlib.suppress(GraphQLError):  # Strawberry parses it again, and answers
                context.graphql_document, context.pre_execution_errors = _prepare(
                    context.query,
                    context.schema._schema,
                    context.validation_rules,
                    **context.parse_options,
                )
        yield


def document_cache() -> Any:
    """The parse and validation cache (for tests and diagnostics: ``cache_info()``)."""
    return _prepare


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
    rules = (query_limits_rule(max_depth, max_aliases),)
    return GatewaySchema(
        query=query,
        mutation=mutation,
        # A flood of tokens (a field repeated 100,000 times) is refused while
        # parsing instead of costing seconds of parse and validation.
        extensions=[*extensions, lambda: DocumentPipeline(max_tokens, rules)],
        config=StrawberryConfig(scalar_map=SCALARS),
        execution_context_class=LeanExecutionContext,
    )
