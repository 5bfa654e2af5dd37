"""Depth and alias limits, checked during validation, so a refused query never runs.

Strawberry ships ``QueryDepthLimiter`` and ``MaxAliasesLimiter``; as of 0.341
both follow fragment spreads, but walk a fragment again at every spread (a few
fragments spreading one another a few times take exponential time to check)
and the depth limiter raises ``KeyError`` on a spread of an unknown fragment.
This rule measures each fragment once. Depth counts like Strawberry's: the
top-level fields are at depth 0, and introspection fields (``__schema``...)
are not counted, since the schema bounds them.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionNode,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from graphql.language.visitor import SKIP, VisitorAction

__all__ = ["query_limits_rule"]


class _Cost:
    """Depth and alias count of selection sets in one document, each fragment measured once."""

    def __init__(self, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self._fragments = fragments
        self._measured: dict[str, tuple[int, int]] = {}
        self._open: set[str] = set()

    def of(self, selection_set: SelectionSetNode) -> tuple[int, int]:
        """(depth, aliases) below ``selection_set``."""
        depth = aliases = 0
        for selection in selection_set.selections:
            below, below_aliases = self._selection(selection)
            depth, aliases = max(depth, below), aliases + below_aliases
        return depth, aliases

    def _selection(self, selection: SelectionNode) -> tuple[int, int]:
        if isinstance(selection, FieldNode):
            own = 0 if selection.alias is None else 1
            if selection.selection_set is None:
                return 0, own
            depth, aliases = self.of(selection.selection_set)
            return (0 if selection.name.value.startswith("__") else depth + 1), aliases + own
        if isinstance(selection, InlineFragmentNode):
            return self.of(selection.selection_set)
        if isinstance(selection, FragmentSpreadNode):
            return self._fragment(selection.name.value)
        return 0, 0

    def _fragment(self, name: str) -> tuple[int, int]:
        if name not in self._measured:
            fragment = self._fragments.get(name)
            if fragment is None or name in self._open:
                return 0, 0  # unknown or cyclic: graphql-core's own rules report it
            self._open.add(name)
            self._measured[name] = self.of(fragment.selection_set)
            self._open.discard(name)
        return self._measured[name]


def query_limits_rule(max_depth: int, max_aliases: int) -> type[ValidationRule]:
    """A validation rule refusing an operation deeper than ``max_depth``, or a document
    with more than ``max_aliases`` aliases (counted at every spread of a fragment)."""

    class QueryLimits(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self._aliases = 0
            self._cost = _Cost(
                {
                    definition.name.value: definition
                    for definition in context.document.definitions
                    if isinstance(definition, FragmentDefinitionNode)
                }
            )

        def enter_operation_definition(
            self, node: OperationDefinitionNode, *_: Any
        ) -> VisitorAction:
            depth, aliases = self._cost.of(node.selection_set)
            self._aliases += aliases
            if depth > max_depth:
                name = node.name.value if node.name else "anonymous"
                self.report_error(
                    GraphQLError(f"'{name}' exceeds maximum operation depth of {max_depth}", node)
                )
            return SKIP  # this rule has seen all it needs of the operation

        def leave_document(self, node: DocumentNode, *_: Any) -> None:
            if self._aliases > max_aliases:
                self.report_error(
                    GraphQLError(
                        f"{self._aliases} aliases found; at most {max_aliases} are allowed", node
                    )
                )

    return QueryLimits
