"""The execution context every schema runs with: Strawberry's, letting go of itself.

A memory fix, not a speed-up: on whether or not the speed-ups of
``schema.fast_execution`` are (``GATEWAY_GRAPHQL_FAST_EXECUTION``). It uses
only graphql-core's public API (``execute_operation``, ``async_helpers``).
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

from graphql import ExecutionResult
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

__all__ = ["ReleasingExecutionContext"]


class ReleasingExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, breaking the executor's reference cycle.

    graphql-core's executor holds helpers (``async_helpers``) that hold its own
    bound methods: a reference cycle, through which everything a request built
    (its whole answer, the records behind it) outlived the request until the
    next full garbage collection. Under large answers memory grew by megabytes
    a second, and each full collection then paused the process for hundreds of
    milliseconds. Breaking the cycle once the result is complete lets reference
    counting free it all at once. Incremental results (``@defer``) still need
    the executor, and keep it.
    """

    def execute_operation(self, serially: bool | None = None) -> Any:
        result = super().execute_operation(serially)
        if self.is_awaitable(result):
            return self._released_after(result)
        return self._released(result)

    async def _released_after(self, result: Awaitable[Any]) -> Any:
        return self._released(await result)

    def _released(self, result: Any) -> Any:
        if isinstance(result, ExecutionResult):
            self.async_helpers = None  # type: ignore[assignment]
        return result
