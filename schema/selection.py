"""What a query selects below the field being resolved: a look-ahead for resolvers.

Resolvers use it to fetch only what is asked (a connection's ``totalCount``) and
to load a user's relations for all the users of a list at once, before
returning them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from strawberry import Info
from strawberry.types.nodes import SelectedField, Selection

__all__ = ["Path", "selected_names"]

Path = tuple[str, ...]  # field names below the resolved field; () is the field itself


def selected_names(info: Info[Any, Any], *paths: Path) -> frozenset[str]:
    """The names of the fields selected at the end of any of ``paths``.

    Fragments are looked into, aliases are seen through, and ``@skip`` or
    ``@include`` are not evaluated: a name may be reported that the query
    then skips, never left out.
    """
    names: set[str] = set()
    for path in paths:
        level = list(_fields(info.selected_fields))  # the field itself, once per mention
        for step in path:
            level = [child for parent in level for child in _fields(parent.selections)]
            level = [child for child in level if child.name == step]
        names.update(child.name for parent in level for child in _fields(parent.selections))
    return frozenset(names)


def _fields(selections: Iterable[Selection]) -> Iterator[SelectedField]:
    """The fields of a selection set, those inside its fragments included."""
    pending = list(selections)
    while pending:
        selection = pending.pop()
        if isinstance(selection, SelectedField):
            yield selection
        else:  # a fragment spread or an inline fragment
            pending.extend(selection.selections)
