"""Turning client input into model Structs, with one error format for both front doors."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from gateway.errors import ValidationFailed

__all__ = ["convert_input", "decode_json", "problem"]

T = TypeVar("T")
_AT = re.compile(r"^(?P<msg>.*) - at `\$(?P<path>[^`]*)`$")


def problem(exc: msgspec.ValidationError) -> str:
    """Render a msgspec error as ``"<field>: <problem>"``."""
    text = str(exc)
    match = _AT.match(text)
    if match is None:
        return text  # already "<field>: ..." (from __post_init__) or whole-body
    path = match["path"].lstrip(".") or "body"
    return f"{path}: {match['msg']}"


def decode_json(raw: bytes, model: type[T], error: type[ValidationFailed] = ValidationFailed) -> T:
    """Decode a JSON body strictly into ``model``.

    Raises:
        ValidationFailed: (or ``error``) malformed JSON, unknown fields, wrong
            types, broken constraints.
    """
    try:
        return msgspec.json.decode(raw, type=model, strict=True)
    except msgspec.ValidationError as exc:
        raise error("Validation failed", [problem(exc)]) from None
    except msgspec.DecodeError:
        raise error("Malformed JSON body", ["body: malformed JSON"]) from None


def convert_input(data: Any, model: type[T]) -> T:
    """Convert already-parsed input (GraphQL arguments) with the same rules as ``decode_json``."""
    try:
        return msgspec.convert(data, type=model, strict=True)
    except msgspec.ValidationError as exc:
        raise ValidationFailed("Validation failed", [problem(exc)]) from None
