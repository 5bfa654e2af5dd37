"""Request helpers of the REST controllers alone: strict JSON bodies and plain query values.

What both doors need (dependency providers, the caller's address) is ``gateway.http``'s.
"""

from __future__ import annotations

from collections.abc import Generator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from litestar.dto import AbstractDTO, DTOConfig

from gateway.errors import UnsupportedMediaType, ValidationFailed
from gateway.http import AnyRequest
from gateway.validation import decode_json
from rest.openapi import model_schema

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.dto.data_structures import DTOFieldDefinition
    from litestar.openapi.spec import Reference, Schema
    from litestar.typing import FieldDefinition

__all__ = ["StrictBody", "check_json_body", "plain_query"]

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
    """``before_request`` of handlers with a ``StrictBody``: what Litestar decides before it.

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


def plain_query(request: AnyRequest, *names: str) -> dict[str, str | None]:
    """The named query values as plain strings.

    Raises:
        ValidationFailed: an operator-like key (``category[$ne]``, ``$where``) or
            a named value given more than once.
    """
    for key in request.query_params:
        if "[" in key or "]" in key or key.startswith("$"):
            raise ValidationFailed("Invalid query parameter", [f"{key}: not allowed"])
    values: dict[str, str | None] = {}
    for name in names:
        given = request.query_params.getall(name, [])
        if len(given) > 1:
            raise ValidationFailed("Invalid query parameter", [f"{name}: given more than once"])
        values[name] = given[0] if given else None
    return values
