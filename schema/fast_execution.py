"""GraphQL execution speed-ups: plain subtrees of a result read straight off their objects.

graphql-core completes every field and every object through the same
machinery: a resolve-info tuple, a path, argument coercion and a chain of
``complete_*`` calls, several for each list item and each ``NonNull``. For
the many fields that only read an attribute (Strawberry's default resolver,
no arguments), all of that ends in ``getattr`` and a scalar serializer. Where
a whole selection is made of such fields, this context completes it with one
plain function per field, built once per operation, and hands the value back
to graphql-core whenever anything would be an error (``null`` in a non-null
field, a value a serializer refuses, an exception), so errors keep their
message, path and location.

Nothing is read this way when an extension wraps resolvers (graphql-core
middleware), for fields with field extensions, for types that check their
values (``is_type_of``), interfaces and unions, or selections using
``@defer``/``@stream``.

Turned off by ``GATEWAY_GRAPHQL_FAST_EXECUTION=false``: the schema then runs
``schema.releasing_execution``'s context, which this one extends. The methods
overridden here (``complete_value``, ``collect_subfields``) are meant to be
overridden, but graphql-core says they are not public API, and the
resolvers recognised are Strawberry's: ``refuse_unverified_versions`` stops
start-up on versions this module was not verified with.
"""

from __future__ import annotations

import functools
import importlib.metadata
import operator
import re
import weakref
from collections.abc import Callable, Mapping
from typing import Any

from graphql import (
    BREAK,
    FragmentDefinitionNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    Node,
    OperationDefinitionNode,
    Undefined,
    Visitor,
    is_leaf_type,
    visit,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import AwaitableOrValue, Path
from graphql.type import GraphQLResolveInfo
from strawberry.resolvers import is_default_resolver
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from gateway.config import SettingsError
from schema.releasing_execution import ReleasingExecutionContext

__all__ = ["VERIFIED", "FastExecutionContext", "refuse_unverified_versions"]

# The release series (major.minor) of each distribution this module was verified
# with (tests/graphql/test_execution.py, both ways): any final release of them.
VERIFIED: Mapping[str, str] = {"graphql-core": "3.3", "strawberry-graphql": "0.341"}

# A reader turns a resolved value into its completed form, or into GENERIC
# when graphql-core must complete it (which reports the error).
GENERIC: Any = object()
Reader = Callable[[Any], Any]


def refuse_unverified_versions(version: Callable[[str], str] = importlib.metadata.version) -> None:
    """Stop start-up if the installed graphql-core or Strawberry is not of a ``VERIFIED`` series.

    ``version`` gives a distribution's installed version (tests pass their own).

    Raises:
        SettingsError: naming the versions, and the ways out.
    """
    installed = {name: version(name) for name in VERIFIED}
    unverified = [
        f"{name} {installed[name]} (verified: {series}.x)"
        for name, series in VERIFIED.items()
        if not re.fullmatch(re.escape(series) + r"\.\d+", installed[name])
    ]
    if unverified:
        raise SettingsError(
            f"GraphQL fast execution was not verified with {', '.join(unverified)}: "
            "set GATEWAY_GRAPHQL_FAST_EXECUTION=false, or install the verified series, "
            "or verify these versions (tests/graphql/test_execution.py) and update "
            "VERIFIED in schema/fast_execution.py and the pins in pyproject.toml"
        )


class FastExecutionContext(ReleasingExecutionContext):
    """Completes plain subtrees with readers built once per operation (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Strawberry passes a manager on every request, empty unless an
        # extension wraps resolvers; a wrapped resolver must be called its way.
        manager = self.middleware_manager
        self._direct = (manager is None or not manager.middlewares) and not _incremental(
            self.schema
        )
        # Keyed like graphql-core's own memo of collected fields: by the
        # identity of the field's nodes, kept alive alongside.
        self._readers: dict[tuple[GraphQLOutputType, int], tuple[FieldDetailsList, Reader | None]]
        self._readers = {}
        self._shared = (
            _shared_readers(self.operation, self.fragment_definitions) if self._direct else None
        )

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> AwaitableOrValue[Any]:
        if self._direct and not isinstance(result, Exception):
            read = self._reader(return_type, field_details_list)
            if read is not None:
                try:
                    completed = read(result)
                except Exception:  # graphql-core completes it again and reports the error
                    completed = GENERIC
                if completed is not GENERIC:
                    return completed
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _reader(
        self, return_type: GraphQLOutputType, field_details_list: FieldDetailsList
    ) -> Reader | None:
        key = (return_type, id(field_details_list))
        cached = self._readers.get(key)
        if cached is None:
            cached = (field_details_list, self._shared_reader(return_type, field_details_list))
            self._readers[key] = cached
        return cached[1]

    def _shared_reader(
        self, return_type: GraphQLOutputType, field_details_list: FieldDetailsList
    ) -> Reader | None:
        """The reader of an earlier request with the same operation, if it may be shared."""
        if self._shared is None:
            return self._build(return_type, field_details_list)
        key = (return_type, *(id(details.node) for details in field_details_list))
        if key not in self._shared:
            self._shared[key] = self._build(return_type, field_details_list)
        return self._shared[key]

    def _build(
        self, type_: GraphQLOutputType, field_details_list: FieldDetailsList
    ) -> Reader | None:
        """A reader for values of ``type_`` under these field nodes, or None if
        some part of the selection needs graphql-core."""
        if isinstance(type_, GraphQLNonNull):
            if is_leaf_type(type_.of_type):
                return functools.partial(_non_null_leaf, type_.of_type.coerce_output_value)
            inner = self._reader(type_.of_type, field_details_list)
            return None if inner is None else functools.partial(_non_null, inner)
        if isinstance(type_, GraphQLList):
            item = self._reader(type_.of_type, field_details_list)
            return None if item is None else functools.partial(_list, item)
        if is_leaf_type(type_):
            return functools.partial(_leaf, type_.coerce_output_value)
        if isinstance(type_, GraphQLObjectType) and type_.is_type_of is None:
            return self._object_reader(type_, field_details_list)
        return None

    def _object_reader(
        self, type_: GraphQLObjectType, field_details_list: FieldDetailsList
    ) -> Reader | None:
        grouped_field_set, new_defer_usages, *_ = self.collect_subfields(type_, field_details_list)
        if new_defer_usages:
            return None
        fields: list[tuple[str, Reader, Reader]] = []
        for response_name, sub_fields in grouped_field_set.items():
            node = sub_fields[0].node
            name = node.name.value
            if name == "__typename":
                fields.append((response_name, functools.partial(_constant, type_.name), _same))
                continue
            field = self.schema.get_field(type_, name)
            if field is None or field.args or node.arguments:
                return None
            get = _attribute_getter(field)
            if get is None:
                return None
            complete = self._reader(field.type, sub_fields)
            if complete is None:
                return None
            fields.append((response_name, get, complete))
        return functools.partial(_object, fields)


# Readers outlive their request where that is safe: which fields an operation
# without directives selects depends on its nodes alone, and one parsed
# operation serves every request with the same text (``schema.documents``'
# cache). Keyed by the operation's identity, and dropped with the operation,
# so they are bounded as that cache is.
_Shared = dict[tuple[Any, ...], Reader | None]
_shared: dict[int, _Shared | None] = {}


def _shared_readers(
    operation: OperationDefinitionNode, fragments: dict[str, FragmentDefinitionNode]
) -> _Shared | None:
    """The readers shared by the requests of ``operation``; None if it uses directives."""
    key = id(operation)
    if key not in _shared:
        static = not _has_directives(operation, *fragments.values())
        _shared[key] = {} if static else None
        weakref.finalize(operation, _shared.pop, key, None)
    return _shared[key]


def _has_directives(*nodes: Node) -> bool:
    """Whether any of ``nodes`` holds a directive (``@include(if: $v)``, ``@defer``) or a
    fragment takes variables: then what is selected may change from request to request."""
    found = False

    class Finder(Visitor):
        def enter_directive(self, *_: Any) -> Any:
            nonlocal found
            found = True
            return BREAK

        def enter_fragment_definition(self, node: FragmentDefinitionNode, *_: Any) -> Any:
            nonlocal found
            if node.variable_definitions:
                found = True
                return BREAK
            return None

    for node in nodes:
        visit(node, Finder())
        if found:
            return True
    return False


def _incremental(schema: GraphQLSchema) -> bool:
    return any(schema.get_directive(name) for name in ("defer", "stream"))


def _attribute_getter(field: GraphQLField) -> Reader | None:
    """What the field's resolver does, if all it does is read the attribute: Strawberry's
    default resolver on a field without a resolver or field extensions of its own
    (``getattr``, unless the schema's configuration says otherwise)."""
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    if not (
        isinstance(definition, StrawberryField)
        and definition.is_basic_field
        and field.resolve is not None
        and is_default_resolver(field.resolve)
    ):
        return None
    if definition.default_resolver is getattr:
        return operator.attrgetter(definition.python_name)
    return functools.partial(_read, definition.default_resolver, definition.python_name)


def _read(default_resolver: Callable[[Any, str], Any], name: str, value: Any) -> Any:
    return default_resolver(value, name)


def _object(fields: list[tuple[str, Reader, Reader]], value: Any) -> Any:
    if value is None:
        return None
    completed = {}
    for response_name, get, complete in fields:
        field_value = complete(get(value))
        if field_value is GENERIC:
            return GENERIC
        completed[response_name] = field_value
    return completed


def _list(item: Reader, value: Any) -> Any:
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        return GENERIC
    completed = [item(element) for element in value]
    # Completed values are dicts, lists, scalars and None: ``in`` finds GENERIC by identity.
    return GENERIC if GENERIC in completed else completed


def _non_null(inner: Reader, value: Any) -> Any:
    completed = inner(value)
    return GENERIC if completed is None else completed


def _leaf(coerce: Callable[[Any], Any], value: Any) -> Any:
    if value is None:
        return None
    coerced = coerce(value)
    return GENERIC if coerced is None or coerced is Undefined else coerced


def _non_null_leaf(coerce: Callable[[Any], Any], value: Any) -> Any:
    """``_non_null`` over ``_leaf``, in one call (most fields are non-null scalars)."""
    if value is None:
        return GENERIC
    coerced = coerce(value)
    return GENERIC if coerced is None or coerced is Undefined else coerced


def _same(value: Any) -> Any:
    return value


def _constant(value: str, _source: Any) -> str:
    return value
