"""Documents from clients, parsed and validated at a bounded price, and cached within a byte budget.

Each stage is capped before the next one runs, so no document that passes
the caps costs more than a few tens of milliseconds:

* the text's size, before anything reads it (a 1 MB string literal or
  comment costs the lexer half a second);
* its tokens, while parsing (graphql-core's ``max_tokens``);
* its shape, in one linear walk before validation (``shape_errors``):
  graphql-core's rule for overlapping fields compares every pair of fields
  sharing a response name in a selection set, and every pair of fragments
  spread there, so 600 repeats of ``me { id }`` took a second; the same
  walk caps arguments, directives and variables;
* then graphql-core's rules and the gateway's (depth, aliases).

Prepared documents are shared by every request with the same text, in a
cache bounded by an estimate of their parsed size (an AST takes some 50 to
120 bytes per character of text); large documents are not kept at all. The
budget is small (4 MiB) because every object kept is traversed by each full
garbage collection: a cache of 16 MiB held some 80,000 objects, and made
each full collection a 50 ms pause of the whole process.

A document not in the cache is prepared on a worker thread, one at a time,
never on the event loop: tens of milliseconds of parsing, repeated by a client
sending new documents, would hold up every other request of the process (the
loop gets the interpreter back every few milliseconds, the switch interval).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final

from graphql import (
    ASTValidationRule,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLSchema,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    parse,
    validate,
)

__all__ = ["DocumentCache", "Prepared", "ShapeLimits", "shape_errors"]

# Estimated bytes of parsed document per character of its text (measured: 45 to 120).
AST_BYTES_PER_CHAR: Final = 128


@dataclass(frozen=True, slots=True)
class ShapeLimits:
    """Caps on a document's shape that keep validation linear; none binds a sane query."""

    same_name: int = 3  # fields with one response name in one selection set
    spreads: int = 10  # distinct fragments spread in one selection set
    spreads_total: int = 20  # fragment spreads in the document (fan-outs cost validation dearly)
    arguments: int = 30  # arguments of one field or directive
    directives: int = 10  # directives in one place
    variables: int = 100  # variables of one operation
    fragments: int = 10  # fragment definitions in the document
    values: int = 100  # items of one list or object literal


@dataclass(frozen=True, slots=True)
class Prepared:
    """A parsed document and what was found wrong with it (nothing: it may run)."""

    document: DocumentNode
    errors: list[GraphQLError]
    operations: dict[str | None, OperationDefinitionNode] = field(default_factory=dict)
    fragments: dict[str, FragmentDefinitionNode] = field(default_factory=dict)

    def operation(self, name: str | None) -> OperationDefinitionNode | GraphQLError:
        """The operation to run, as GraphQL picks it, or the request error."""
        if name is not None:
            found = self.operations.get(name)
            return found or GraphQLError(f"Unknown operation named '{name}'.")
        if len(self.operations) == 1:
            return next(iter(self.operations.values()))
        return GraphQLError("Must provide operation name if query contains multiple operations.")


# The process's one thread for preparing documents (see the module's docstring).
_WORKER: Final = ThreadPoolExecutor(1, thread_name_prefix="graphql-documents")

# What a request gets in place of a document that was refused before it parsed.
EMPTY: Final = parse("{ __typename }")


class DocumentCache:
    """Prepares documents against one schema, and keeps the small ones."""

    def __init__(
        self,
        schema: GraphQLSchema,
        rules: Collection[type[ASTValidationRule]],
        *,
        max_bytes: int,
        max_tokens: int,
        suggestions: bool,
        shape: ShapeLimits = ShapeLimits(),
        budget_bytes: int = 4 * 1024 * 1024,
        max_entry_chars: int = 8 * 1024,
    ) -> None:
        self._schema = schema
        self._rules = tuple(rules)
        self.max_bytes = max_bytes
        self._max_tokens = max_tokens
        self._suggestions = suggestions
        self._shape = shape
        self._budget = budget_bytes
        self._max_entry_chars = max_entry_chars
        self._entries: OrderedDict[str, Prepared] = OrderedDict()
        self.weight = 0  # estimated bytes held

    def __len__(self) -> int:
        return len(self._entries)

    def cached(self, query: str) -> Prepared | None:
        """``query`` prepared before, if it is still kept."""
        entry = self._entries.get(query)
        if entry is not None:
            self._entries.move_to_end(query)
        return entry

    def prepare(self, query: str) -> Prepared:
        """``query`` parsed and validated, here and now; never raises (errors are in the result)."""
        return self.cached(query) or self._kept(query, self._prepare(query))

    async def prepare_off_loop(self, query: str) -> Prepared:
        """``query`` (not ``cached``) parsed and validated on the worker thread."""
        prepared = await asyncio.get_running_loop().run_in_executor(_WORKER, self._prepare, query)
        return self._kept(query, prepared)

    def _kept(self, query: str, entry: Prepared) -> Prepared:
        if len(query) <= self._max_entry_chars and query not in self._entries:
            self._keep(query, entry)
        return entry

    def _prepare(self, query: str) -> Prepared:
        # Characters first, so that a huge text costs nothing to refuse; then
        # UTF-8 bytes when the characters alone cannot settle it.
        if len(query) > self.max_bytes or (
            len(query) * 4 > self.max_bytes and len(query.encode()) > self.max_bytes
        ):
            error = GraphQLError(f"The document is larger than {self.max_bytes} bytes.")
            return Prepared(EMPTY, [error])
        try:
            document = parse(query, max_tokens=self._max_tokens)
        except GraphQLError as error:
            return Prepared(EMPTY, [error])
        errors = shape_errors(document, self._shape) or validate(
            self._schema, document, self._rules, hide_suggestions=not self._suggestions
        )
        operations: dict[str | None, OperationDefinitionNode] = {}
        fragments: dict[str, FragmentDefinitionNode] = {}
        for definition in document.definitions:
            if isinstance(definition, OperationDefinitionNode):
                operations[definition.name.value if definition.name else None] = definition
            elif isinstance(definition, FragmentDefinitionNode):
                fragments[definition.name.value] = definition
        return Prepared(document, errors, operations, fragments)

    def _keep(self, query: str, entry: Prepared) -> None:
        self._entries[query] = entry
        self.weight += len(query) * AST_BYTES_PER_CHAR
        while self.weight > self._budget:
            old, _ = self._entries.popitem(last=False)
            self.weight -= len(old) * AST_BYTES_PER_CHAR


def shape_errors(document: DocumentNode, limits: ShapeLimits) -> list[GraphQLError]:
    """What in ``document`` passes a cap of ``limits`` (empty: nothing), in one walk."""
    errors: list[GraphQLError] = []
    fragments = 0
    spreads = [0]  # counted by _selection_set
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            variables = definition.variable_definitions or ()
            if len(variables) > limits.variables:
                errors.append(
                    GraphQLError(
                        f"An operation may declare at most {limits.variables} variables.",
                        definition,
                    )
                )
            for variable in variables:
                if variable.default_value is not None:
                    _value(variable.default_value, limits, errors)
            _directives(definition.directives, limits, errors)
            _selection_set(definition.selection_set, limits, errors, spreads)
        elif isinstance(definition, FragmentDefinitionNode):
            fragments += 1
            _directives(definition.directives, limits, errors)
            _selection_set(definition.selection_set, limits, errors, spreads)
        if len(errors) >= 10:
            break
    if fragments > limits.fragments:
        errors.append(GraphQLError(f"A document may define at most {limits.fragments} fragments."))
    if spreads[0] > limits.spreads_total:
        message = f"A document may spread fragments at most {limits.spreads_total} times."
        errors.append(GraphQLError(message))
    return errors


def _selection_set(
    selection_set: SelectionSetNode,
    limits: ShapeLimits,
    errors: list[GraphQLError],
    spreads_total: list[int],
) -> None:
    """Check one selection set (its inline fragments merged in, as validation merges them)."""
    names: dict[str, int] = {}
    spreads: set[str] = set()
    stack = [selection_set]
    while stack:
        current = stack.pop()
        for selection in current.selections:
            _directives(selection.directives, limits, errors)
            if isinstance(selection, FieldNode):
                name = (selection.alias or selection.name).value
                names[name] = names.get(name, 0) + 1
                if names[name] == limits.same_name + 1:
                    message = f"'{name}' is selected over {limits.same_name} times in one place."
                    errors.append(GraphQLError(message, selection))
                if len(selection.arguments or ()) > limits.arguments:
                    errors.append(
                        GraphQLError(
                            f"A field may take at most {limits.arguments} arguments.", selection
                        )
                    )
                for argument in selection.arguments or ():
                    _value(argument.value, limits, errors)
                if selection.selection_set is not None:
                    _selection_set(selection.selection_set, limits, errors, spreads_total)
            elif isinstance(selection, InlineFragmentNode):
                stack.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                spreads_total[0] += 1
                spreads.add(selection.name.value)
                if len(spreads) == limits.spreads + 1:
                    errors.append(
                        GraphQLError(
                            f"At most {limits.spreads} fragments may be spread in one place.",
                            selection,
                        )
                    )
            if len(errors) >= 10:
                return


def _directives(
    directives: tuple[DirectiveNode, ...] | None, limits: ShapeLimits, errors: list[GraphQLError]
) -> None:
    if not directives:
        return
    if len(directives) > limits.directives:
        errors.append(
            GraphQLError(f"At most {limits.directives} directives may be used in one place.")
        )
    for directive in directives:
        if len(directive.arguments or ()) > limits.arguments:
            errors.append(
                GraphQLError(f"A directive may take at most {limits.arguments} arguments.")
            )
        for argument in directive.arguments or ():
            _value(argument.value, limits, errors)


def _value(value: ValueNode, limits: ShapeLimits, errors: list[GraphQLError]) -> None:
    """Check a literal: its lists and objects (validation coerces and prints each item)."""
    items: tuple[Any, ...] = ()
    if isinstance(value, ListValueNode):
        items = value.values
    elif isinstance(value, ObjectValueNode):
        items = tuple(field.value for field in value.fields)
    if len(items) > limits.values:
        errors.append(GraphQLError(f"A list or object may hold at most {limits.values} items."))
        return
    for item in items:
        _value(item, limits, errors)
