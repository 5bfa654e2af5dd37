"""Request helpers of the REST controllers alone: strict JSON bodies and strict query values.

What both doors need (dependency providers, the caller's address) is ``gateway.http``'s.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, get_args

import msgspec
from litestar.dto import AbstractDTO, DTOConfig
from litestar.params import QueryParameter

from gateway.errors import UnsupportedMediaType, ValidationFailed
from gateway.http import AnyRequest
from gateway.validation import decode_json
from rest.openapi import model_schema

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.dto.data_structures import DTOFieldDefinition
    from litestar.handlers import BaseRouteHandler
    from litestar.openapi.spec import Reference, Schema
    from litestar.typing import FieldDefinition

__all__ = ["StrictBody", "check_json_body", "check_request", "query", "query_name"]

T = TypeVar("T")


class StrictBody(AbstractDTO[T]):
    """A handler's ``data``, read strictly as ``StrictBody[Model]`` (``object``: any JSON).

    Litestar's own binding converts leniently (``"5"`` for an integer) and reports
    only the first problem; this hands the body to ``gateway.validation.decode_json``
    (every failing field at once, raised as the domain's error, which the exception
    handlers shape), and documents it with the model's msgspec schema. It decodes only:
    answers are encoded as usual. ``check_json_body`` goes with it.
    """

    config: ClassVar[DTOConfig] = DTOConfig()
    # The error raised for a bad body, and the required fields the document names
    # where the model's defaults stand for refused values (the contact form).
    error: ClassVar[type[ValidationFailed]] = ValidationFailed
    documented_required: ClassVar[Sequence[str] | None] = None

    def decode_bytes(self, value: bytes) -> T:
        return decode_json(value, self.model_type, self.error)

    @classmethod
    def create_for_field_definition(
        cls, field_definition: FieldDefinition, handler_id: str, backend_cls: Any = None
    ) -> None:
        """Nothing to build: no DTO backend is used."""

    @classmethod
    def create_openapi_schema(
        cls, field_definition: FieldDefinition, handler_id: str, schema_creator: SchemaCreator
    ) -> Reference | Schema:
        return model_schema(cls.model_type, cls.documented_required)

    @classmethod
    def is_supported_model_type_field(cls, field_definition: FieldDefinition) -> bool:
        """Never the answer's encoder."""
        return False

    @classmethod
    def generate_field_definitions(
        cls, model_type: type[Any]
    ) -> Generator[DTOFieldDefinition, None, None]:
        """No field definitions: the model itself is decoded."""
        yield from ()

    @classmethod
    def detect_nested_field(cls, field_definition: FieldDefinition) -> bool:
        return False


def _is_json(request: AnyRequest) -> bool:
    media_type = request.content_type[0]
    return media_type == "application/json" or media_type.endswith("+json")


async def check_json_body(request: AnyRequest) -> None:
    """What Litestar decides before a ``StrictBody`` is read (part of ``check_request``).

    Raises:
        UnsupportedMediaType: the body is not declared as JSON.
        ValidationFailed: (or the body's ``error``) an empty body, refused as malformed
            JSON (Litestar hands no body to a handler without calling its DTO).
    """
    dto = request.route_handler.resolve_data_dto()
    if dto is None or not issubclass(dto, StrictBody):
        return
    if not _is_json(request):
        raise UnsupportedMediaType("Content-Type must be application/json")
    if not await request.body():
        dto(request).decode_bytes(b"")


# The constraints of a core rule's ``msgspec.Meta`` that a ``QueryParameter`` takes too.
_CONSTRAINTS = ("gt", "ge", "lt", "le", "multiple_of", "min_length", "max_length", "pattern")


def query(rule: object = None, description: str | None = None, **constraints: Any) -> Any:
    """A query parameter's declaration, for ``Annotated[int, query(PageSize)]``.

    ``rule`` is a core type, ``Annotated[...]`` with a ``msgspec.Meta``: its constraints
    and description are the parameter's (Litestar reads only its own ``Parameter``),
    so the rule stays written once. ``description`` is added to the rule's, and
    ``constraints`` (``Parameter``'s keywords) hold what only this door requires.
    ``check_request`` refuses what Litestar's binding would let through.
    """
    metas = [meta for meta in get_args(rule)[1:] if isinstance(meta, msgspec.Meta)]
    found = {
        name: getattr(meta, name)
        for meta in metas
        for name in _CONSTRAINTS
        if getattr(meta, name) is not None
    }
    text = " ".join(filter(None, [*(meta.description for meta in metas), description]))
    return QueryParameter(description=text or None, **found, **constraints)


@dataclass(frozen=True, slots=True)
class _Declared:
    """A query parameter a handler declares (``query``), as ``check_query`` sees it."""

    field: str
    name: str
    required: bool
    integer: bool


@lru_cache(maxsize=1024)
def _declared(handler: BaseRouteHandler) -> tuple[_Declared, ...]:
    return tuple(
        _Declared(
            field=name,
            name=field.kwarg_definition.name or name,
            required=field.is_required,
            integer=int in {field.annotation, *field.args},
        )
        for name, field in handler.parsed_fn_signature.parameters.items()
        if isinstance(field.kwarg_definition, QueryParameter)
    )


# An integer as a query value: plain ASCII digits, no sign, space or leading zero.
_PLAIN_INTEGER = re.compile(r"0|[1-9][0-9]*")


def query_name(handler: BaseRouteHandler, field: str) -> str:
    """The query key of ``handler``'s parameter ``field`` (Litestar's errors name the field)."""
    return next((p.name for p in _declared(handler) if p.field == field), field)


def _operator_like(key: str) -> bool:
    return "[" in key or "]" in key or key.startswith("$")


def check_query(request: AnyRequest) -> None:
    """What Litestar's binding of the declared query parameters lets through, refused first.

    Litestar takes the last of a repeated key, reads ``1.0`` and ``1e1`` as integers, and
    answers a missing parameter in its own words; its binding then checks the types and
    the constraints (``query``), the exception handlers shaping its refusals.

    Raises:
        ValidationFailed: on a handler that reads the query string, an operator-like key
            (``category[$ne]``, ``$where``), a declared parameter given more than once
            or missing, or an integer that is not plain ASCII digits (``+1``, `` 1``,
            ``01``, ``1.0``, ``1e1``, empty): every problem at once.
    """
    declared = _declared(request.route_handler)
    if not declared:
        return
    params = request.query_params
    problems = [f"{key}: not allowed" for key in dict.fromkeys(params) if _operator_like(key)]
    missing = []
    for parameter in declared:
        given = params.getall(parameter.name, [])
        if len(given) > 1:
            problems.append(f"{parameter.name}: given more than once")
        elif not given and parameter.required:
            missing.append(parameter.name)
        elif given and parameter.integer and not _PLAIN_INTEGER.fullmatch(given[0]):
            problems.append(f"{parameter.name}: must be a positive integer")
    details = [*problems, *(f"{name}: required" for name in missing)]
    if details:
        message = "Invalid query parameter" if problems else f"Missing {missing[0]} query parameter"
        raise ValidationFailed(message, details)


async def check_request(request: AnyRequest) -> None:
    """The REST handlers' ``before_request``: ``check_query``, then ``check_json_body``."""
    check_query(request)
    await check_json_body(request)
