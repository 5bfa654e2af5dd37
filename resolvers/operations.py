"""What every GraphQL operation goes through: the caller's refused credentials, and
the count of operations by name and type (``gateway_graphql_operations_total``).

One extension for both, since each extension costs hook contexts per request."""

from __future__ import annotations

import re
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from resolvers.context import Context
from schema.documents import EMPTY as REFUSED

__all__ = ["OperationHooks"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
# Operation names come from clients: past this many distinct ones, the rest are "other",
# so a client cannot grow the metrics without bound.
_MAX_NAMES = 200
_seen: set[str] = set()


def _label(name: str | None) -> str:
    if not name:
        return "anonymous"
    if not _NAME.match(name):
        return "other"
    if name not in _seen and len(_seen) >= _MAX_NAMES:
        return "other"
    _seen.add(name)
    return name


class OperationHooks(SchemaExtension):
    def on_operation(self) -> Iterator[None]:
        context = self.execution_context.context
        if not isinstance(context, Context):
            yield
            return
        if context.refusal is not None:
            # Fail the whole operation when its token was refused, as REST does.
            raise context.refusal
        yield
        if self.execution_context.graphql_document is REFUSED:
            kind = "invalid"  # refused before it parsed, or no operation could be chosen
        else:
            kind = self.execution_context.operation_type.value
        metrics = context.request.app.state.metrics
        name = _label(self.execution_context.operation_name)
        metrics.count(metrics.graphql_operations, name, kind)
