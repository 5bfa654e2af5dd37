"""Request helpers of the REST controllers alone: strict JSON bodies and plain query values.

What both doors need (dependency providers, the caller's address) is ``gateway.http``'s.
"""

from __future__ import annotations

from typing import TypeVar

from gateway.errors import UnsupportedMediaType, ValidationFailed
from gateway.http import AnyRequest
from gateway.validation import decode_json

__all__ = ["plain_query", "read_json"]

T = TypeVar("T")


def _is_json(request: AnyRequest) -> bool:
    media_type = request.content_type[0]
    return media_type == "application/json" or media_type.endswith("+json")


async def read_json(
    request: AnyRequest, model: type[T], error: type[ValidationFailed] = ValidationFailed
) -> T:
    """Read the body as ``model``.

    Raises:
        UnsupportedMediaType: the body is not declared as JSON.
        ValidationFailed: (or ``error``) the body breaks the model's rules.
    """
    if not _is_json(request):
        raise UnsupportedMediaType("Content-Type must be application/json")
    return decode_json(await request.body(), model, error)


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
