"""The static cost of an operation: an upper bound on the work its answer can take.

Computed from the document and the variables, before any resolver runs:

* every field costs 1; a field returning objects adds the cost of its selection;
* a list multiplies that by the most items it can return: ``first``/``last``
  on a connection (clamped to the page cap; absent, the cap itself) for its
  ``edges`` and ``nodes``; a list field with a cap of its own
  (``User.posts``: 100) by that cap; the lists of introspection by the
  largest such list the schema holds (its type count, its longest field
  list...), so introspection costs what this schema can answer;
* aliases, inline fragments and every fragment spread count; each fragment
  is measured once per page size it is spread under;
* ``@skip``/``@include`` are ignored: the bound holds whatever they say.

The same document with other variables may cost differently, so a cost is
computed per request; an operation whose list sizes do not come from
variables is measured once and its cost kept while its parsed document lives.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLEnumType,
    GraphQLField,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    NullValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValueNode,
    VariableNode,
    get_named_type,
    value_from_ast_untyped,
)

from gateway.errors import ValidationFailed

__all__ = ["CostExceeded", "CostModel"]

# Arguments that size a connection's page.
_PAGE_ARGUMENTS = ("first", "last")


class CostModel:
    """Costs of operations against one schema.

    ``page_cap`` bounds a connection's page (and stands for an absent
    ``first``/``last``); ``list_caps`` gives the most items of list fields
    that take no page size, by ``(type name, field name)``; any other list
    counts as ``page_cap``.
    """

    def __init__(
        self, schema: GraphQLSchema, page_cap: int, list_caps: Mapping[tuple[str, str], int]
    ) -> None:
        self.schema = schema
        self.page_cap = page_cap
        self._list_caps = dict(list_caps)
        # Costs of operations that take no page size from variables, while they live.
        self._static: dict[int, int] = {}

    def cost(
        self,
        operation: OperationDefinitionNode,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any] | None,
    ) -> int:
        """The cost of ``operation`` (validated) run with ``variables``."""
        key = id(operation)
        known = self._static.get(key)
        if known is not None:
            return known
        root = self.schema.get_root_type(operation.operation)
        if root is None:
            return 1
        walk = _Walk(self, fragments, variables or {}, operation)
        total = walk.selection_set(operation.selection_set, root, None)
        if not walk.used_variables:
            self._static[key] = total
            weakref.finalize(operation, self._static.pop, key, None)
        return total

    def list_size(self, parent: str, name: str, page: int | None) -> int:
        """The most items a list field ``name`` of type ``parent`` returns."""
        cap = self._list_caps.get((parent, name))
        if cap is not None:
            return cap
        if page is not None:
            return page
        return self.page_cap


class _Walk:
    """One measurement: fragments measured once per page size."""

    def __init__(
        self,
        model: CostModel,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
        operation: OperationDefinitionNode,
    ) -> None:
        self._model = model
        self._fragments = fragments
        self._variables = variables
        self._defaults = {
            definition.variable.name.value: definition.default_value
            for definition in operation.variable_definitions or ()
        }
        self._measured: dict[tuple[str, int | None], int] = {}
        self._open: set[str] = set()
        self._exact = _Introspection(self)
        self.used_variables = False

    def selection_set(
        self, selection_set: SelectionSetNode, parent: GraphQLNamedType, page: int | None
    ) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, page)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = self._type(condition.name.value) if condition else parent
                total += self.selection_set(selection.selection_set, on or parent, page)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value, parent, page)
        return total

    def fields(self, selection_set: SelectionSetNode) -> Iterator[FieldNode]:
        """The fields of ``selection_set``, fragments expanded (each spread followed once)."""
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                yield selection
            elif isinstance(selection, InlineFragmentNode):
                yield from self.fields(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self._fragments.get(selection.name.value)
                if fragment is not None and fragment.name.value not in self._open:
                    self._open.add(fragment.name.value)
                    yield from self.fields(fragment.selection_set)
                    self._open.discard(fragment.name.value)

    def fragment(self, name: str, parent: GraphQLNamedType, page: int | None) -> int:
        key = (name, page)
        known = self._measured.get(key)
        if known is not None:
            return known
        fragment = self._fragments.get(name)
        if fragment is None or name in self._open:
            return 0  # unknown or cyclic: validation has refused the document
        self._open.add(name)
        on = self._type(fragment.type_condition.name.value) or parent
        cost = self._measured[key] = self.selection_set(fragment.selection_set, on, page)
        self._open.discard(name)
        return cost

    def field(self, node: FieldNode, parent: GraphQLNamedType, page: int | None) -> int:
        name = node.name.value
        if name in _META:
            return 1 + self._introspection(node)
        definition = _field(parent, name)
        items = 1
        field_type = definition.type if definition else None
        while isinstance(field_type, GraphQLNonNull | GraphQLList):
            if isinstance(field_type, GraphQLList):
                items *= self._model.list_size(parent.name, name, page)
            field_type = field_type.of_type
        if definition is None or node.selection_set is None or field_type is None:
            return max(1, items)  # a leaf, or a list of them
        own_page = self._page_of(node, definition)
        return 1 + items * self.selection_set(
            node.selection_set, get_named_type(field_type), own_page
        )

    def _introspection(self, node: FieldNode) -> int:
        """``__schema`` or ``__type(name:)``, measured over this schema's own types."""
        schema = self._model.schema
        if node.selection_set is None:
            return 0
        if node.name.value == "__schema":
            return self._exact.cost(node.selection_set, "__Schema", schema)
        names = [self._value(a.value) for a in node.arguments or () if a.name.value == "name"]
        found = schema.get_type(names[0]) if names and isinstance(names[0], str) else None
        return 0 if found is None else self._exact.cost(node.selection_set, "__Type", found)

    def _page_of(self, node: FieldNode, definition: GraphQLField) -> int | None:
        """The page size a connection field asks for (None: not a connection)."""
        if not any(name in definition.args for name in _PAGE_ARGUMENTS):
            return None
        cap = self._model.page_cap
        asked = [
            self._int(argument.value)
            for argument in node.arguments or ()
            if argument.name.value in _PAGE_ARGUMENTS
        ]
        return max((cap if n is None else max(0, min(n, cap)) for n in asked), default=cap)

    def _int(self, value: ValueNode) -> int | None:
        given = self._value(value)
        return given if isinstance(given, int) and not isinstance(given, bool) else None

    def _value(self, value: ValueNode) -> Any:
        """A literal's value, or a variable's (its default when not given)."""
        if isinstance(value, VariableNode):
            self.used_variables = True
            name = value.name.value
            if name in self._variables:
                return self._variables[name]
            value = self._defaults.get(name) or NullValueNode()
        return value_from_ast_untyped(value)

    def _type(self, name: str) -> GraphQLNamedType | None:
        return self._model.schema.get_type(name)


def _field(parent: GraphQLNamedType, name: str) -> GraphQLField | None:
    if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
        found: GraphQLField | None = parent.fields.get(name)
        return found
    return None


_META = ("__schema", "__type")


class _Introspection:
    """Exact costs of introspection selections, evaluated over the schema's own types.

    Introspection lists are as long as the schema makes them, so they are
    counted item by item rather than bounded by a cap; results are memoized
    by selection and object, so a selection cycling through types
    (``fields { type { fields { type ... } } }``) is measured in time
    linear in the document, and its cost grows as its answer would.
    """

    def __init__(self, walk: _Walk) -> None:
        self._walk = walk
        self._memo: dict[tuple[int, str, int], int] = {}

    def cost(self, selection_set: SelectionSetNode, kind: str, obj: Any) -> int:
        key = (id(selection_set), kind, id(obj))
        known = self._memo.get(key)
        if known is None:
            known = self._memo[key] = sum(
                1 + sum(self.cost(field.selection_set, child_kind, child) for child in children)
                if field.selection_set is not None and child_kind
                else 1
                for field in self._walk.fields(selection_set)
                for child_kind, children in (_children(kind, obj, field.name.value),)
            )
        return known


def _children(kind: str, obj: Any, name: str) -> tuple[str, list[Any]]:
    """What introspection field ``name`` of ``obj`` (a ``kind``) holds: its kind and items."""
    if kind == "__Schema":
        schema: GraphQLSchema = obj
        if name == "types":
            return "__Type", list(schema.type_map.values())
        if name == "directives":
            return "__Directive", list(schema.directives)
        root = {
            "queryType": schema.query_type,
            "mutationType": schema.mutation_type,
            "subscriptionType": schema.subscription_type,
        }.get(name)
        return "__Type", [] if root is None else [root]
    if kind == "__Type":
        if isinstance(obj, GraphQLNonNull | GraphQLList):
            return "__Type", [obj.of_type] if name == "ofType" else []
        if name == "fields" and isinstance(obj, GraphQLObjectType | GraphQLInterfaceType):
            return "__Field", list(obj.fields.values())
        if name == "interfaces" and isinstance(obj, GraphQLObjectType | GraphQLInterfaceType):
            return "__Type", list(obj.interfaces)
        if name == "possibleTypes" and isinstance(obj, GraphQLUnionType | GraphQLInterfaceType):
            return "__Type", list(obj.types) if isinstance(obj, GraphQLUnionType) else []
        if name == "enumValues" and isinstance(obj, GraphQLEnumType):
            return "__EnumValue", list(obj.values.values())
        if name == "inputFields" and isinstance(obj, GraphQLInputObjectType):
            return "__InputValue", list(obj.fields.values())
        return "__Type", []
    if kind in ("__Field", "__Directive") and name == "args":
        return "__InputValue", list(obj.args.values())
    if kind in ("__Field", "__InputValue") and name == "type":
        return "__Type", [obj.type]
    return "", []


class CostExceeded(ValidationFailed):
    """An operation would cost more than the gateway runs; refused before it starts."""

    def __init__(self, cost: int, limit: int) -> None:
        super().__init__(f"The operation costs {cost}, more than the maximum of {limit}")
        self.cost = cost
        self.limit = limit

    @property
    def extensions(self) -> dict[str, object]:
        return {**super().extensions, "cost": self.cost, "maxCost": self.limit}
