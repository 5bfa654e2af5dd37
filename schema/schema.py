"""The ``Schema`` object: root types in, limits, caches, execution context and error logging on.

A subscription runs its operation once per event; each event gets a context of its own
(``EventContexts``), so that DataLoaders never serve one event what an earlier one read.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import strawberry
from graphql import (
    GraphQLError,
    NoSchemaIntrospectionCustomRule,
    OperationType,
    specified_rules,
)
from graphql.execution import Executor
from strawberry.extensions import SchemaExtension
from strawberry.schema.config import StrawberryConfig
from strawberry.types import ExecutionContext

from gateway.config import Settings
from gateway.models.posts import MAX_POSTS_PER_USER
from gateway.pagination import MAX_PAGE_SIZE
from schema.cost import CostExceeded, CostModel
from schema.documents import EMPTY, DocumentCache
from schema.errors import log_unexpected
from schema.fast_execution import FastExecutionContext, refuse_unverified_versions
from schema.limits import query_limits_rule
from schema.releasing_execution import ReleasingExecutionContext
from schema.scalars import SCALARS

__all__ = ["DocumentPipeline", "EventContext", "GatewaySchema", "Priced", "build_schema"]

ExtensionFactory = Callable[[], SchemaExtension]

# Lists that take no page size, by their cap (the contract's "at most 100" posts).
LIST_CAPS: Mapping[tuple[str, str], int] = {("User", "posts"): MAX_POSTS_PER_USER}


@runtime_checkable
class EventContext(Protocol):
    """A context that can make the context of one subscription event."""

    def for_event(self) -> Any: ...


class EventContexts:
    """An execution context giving each subscription event a fresh GraphQL context
    (``EventContext.for_event``), through graphql-core's per-event executor."""

    context_value: Any

    def build_per_event_executor(self, payload: Any) -> Executor[Any]:
        executor: Executor[Any] = super().build_per_event_executor(payload)  # type: ignore[misc]
        if isinstance(self.context_value, EventContext):
            executor.context_value = self.context_value.for_event()
        return executor


class FastEventExecution(EventContexts, FastExecutionContext):
    pass


class ReleasingEventExecution(EventContexts, ReleasingExecutionContext):
    pass


@dataclass(frozen=True, slots=True)
class Priced:
    """A document's chosen operation, valid, with its kind and its cost."""

    kind: OperationType
    cost: int
    max_cost: int

    @property
    def admitted(self) -> bool:
        return self.cost <= self.max_cost


class GatewaySchema(strawberry.Schema):
    """Strawberry's schema, logging only the errors clients are not meant to cause."""

    documents: DocumentCache
    costs: CostModel
    max_cost: int

    async def price(
        self, query: str, operation_name: str | None, variables: dict[str, Any] | None
    ) -> Priced | None:
        """The kind and cost of the operation ``query`` would run (the same document
        pipeline as execution, cached); None when the document or operation is refused."""
        prepared = self.documents.cached(query) or await self.documents.prepare_off_loop(query)
        if prepared.errors:
            return None
        operation = prepared.operation(operation_name)
        if isinstance(operation, GraphQLError):
            return None
        cost = self.costs.cost(operation, prepared.fragments, variables)
        return Priced(operation.operation, cost, self.max_cost)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        for error in errors:
            log_unexpected(error)


class DocumentPipeline(SchemaExtension):
    """Prepare the document (``schema.documents``), pick its operation, price it.

    One extension in place of Strawberry's ``MaxTokensLimiter``,
    ``AddValidationRules``, ``ParserCache`` and ``ValidationCache``, and one
    hook: each hook costs a context manager per request. The hook is async so
    that a document not yet cached is prepared off the event loop. The
    document and its errors are set before Strawberry's parsing and validation
    stages, which then skip their own work; a request refused before it
    parsed, or whose operation cannot be chosen, runs an empty document that
    carries the error.
    The operation's cost (``schema.cost``) is refused past ``max_cost`` and
    reported in ``extensions.cost``.
    """

    def __init__(self, documents: DocumentCache, costs: CostModel, max_cost: int) -> None:
        self._documents = documents
        self._costs = costs
        self._max_cost = max_cost
        self._cost: int | None = None

    async def on_operation(self) -> AsyncIterator[None]:
        context = self.execution_context
        if context.query and context.graphql_document is None:
            prepared = self._documents.cached(context.query)
            if prepared is None:
                prepared = await self._documents.prepare_off_loop(context.query)
            errors = prepared.errors
            operation = prepared.operation(context.operation_name) if not errors else None
            if isinstance(operation, GraphQLError):
                errors = [operation]
            elif operation is not None:
                self._cost = cost = self._costs.cost(
                    operation, prepared.fragments, context.variables
                )
                if cost > self._max_cost:
                    exceeded = CostExceeded(cost, self._max_cost)
                    errors = [GraphQLError(exceeded.message, original_error=exceeded)]
            if errors:
                # Strawberry looks the operation up by name before it looks at the
                # errors: in the empty document, it is the only one.
                context.graphql_document = EMPTY
                context._provided_operation_name = None
            else:
                context.graphql_document = prepared.document
            context.pre_execution_errors = errors
        yield

    def get_results(self) -> dict[str, Any]:
        return {} if self._cost is None else {"cost": self._cost}


def build_schema(
    query: type,
    mutation: type,
    settings: Settings,
    *,
    subscription: type | None = None,
    extensions: Sequence[ExtensionFactory] = (),
) -> GatewaySchema:
    """The schema over the given root types, refusing operations past ``settings``' limits
    (depth, aliases, tokens, document size, cost) before they run.

    Raises:
        SettingsError: the fast execution is on, over versions it was not verified with.
    """
    if settings.graphql_fast_execution:
        refuse_unverified_versions()
    schema = GatewaySchema(
        query=query,
        mutation=mutation,
        subscription=subscription,
        extensions=list(extensions),
        config=StrawberryConfig(scalar_map=SCALARS),
        execution_context_class=(
            FastEventExecution if settings.graphql_fast_execution else ReleasingEventExecution
        ),
    )
    rules = [
        *specified_rules,
        query_limits_rule(settings.graphql_max_depth, settings.graphql_max_aliases),
    ]
    if not settings.graphql_introspection_enabled:
        rules.append(NoSchemaIntrospectionCustomRule)
    schema.documents = documents = DocumentCache(
        schema._schema,
        rules,
        max_bytes=settings.graphql_max_document_bytes,
        max_tokens=settings.graphql_max_tokens,
        suggestions=settings.graphql_suggestions_enabled,
    )
    schema.costs = costs = CostModel(schema._schema, MAX_PAGE_SIZE, LIST_CAPS)
    schema.max_cost = settings.graphql_max_cost
    # Added once the schema exists: the pipeline validates against it.
    schema.extensions = (
        *schema.extensions,
        functools.partial(DocumentPipeline, documents, costs, settings.graphql_max_cost),
    )
    return schema
