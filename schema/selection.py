"""What a query selects below the field being resolved: a look-ahead for resolvers.

Resolvers use it to fetch only what is asked (a connection's ``totalCount``) and
to load a user's relations for all the users of a list at once, before
returning them.

The names are read off the parsed query (graphql-core's field nodes), not off
Strawberry's ``info.selected_fields``: that converts the whole selection below
the field, arguments and all, into new objects on every request (15 us for a
products page, against 2 us here).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    SelectionNode,
)
from strawberry import Info

__all__ = ["Path", "selected_names"]

Path = tuple[str, ...]  # field names below the resolved field; () is the field itself


def selected_names(info: Info[Any, Any], *paths: Path) -> frozenset[str]:
    """The names of the fields selected at the end of any of ``paths``.

    Fragments are looked into, aliases are seen through, and ``@skip`` or
    ``@include`` are not evaluated: a name may be reported that the query
    then skips, never left out.
    """
    raw = info._raw_info  # graphql-core's resolve info: the field's nodes and the fragments
    fragments: Mapping[str, FragmentDefinitionNode] = raw.fragments
    names: set[str] = set()
    for path in paths:
        level: list[FieldNode] = list(raw.field_nodes)  # the field itself, once per mention
        for step in path:
            level = [child for parent in level for child in _fields(parent, fragments)]
            level = [child for child in level if child.name.value == step]
        names.update(child.name.value for parent in level for child in _fields(parent, fragments))
    return frozenset(names)


def _fields(
    parent: FieldNode, fragments: Mapping[str, FragmentDefinitionNode]
) -> Iterator[FieldNode]:
    """The fields of ``parent``'s selection set, those inside its fragments included."""
    pending: list[SelectionNode] = _selections(parent.selection_set)
    while pending:
        selection = pending.pop()
        if isinstance(selection, FieldNode):
            yield selection
        elif isinstance(selection, InlineFragmentNode):
            pending.extend(_selections(selection.selection_set))
        elif isinstance(selection, FragmentSpreadNode):
            fragment = fragments.get(selection.name.value)
            if fragment is not None:  # validation refuses an unknown fragment before this
                pending.extend(_selections(fragment.selection_set))


def _selections(selection_set: Any) -> list[SelectionNode]:
    selections: Iterable[SelectionNode] = () if selection_set is None else selection_set.selections
    return list(selections)
