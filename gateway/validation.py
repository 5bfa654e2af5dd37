"""Turning client input into model Structs, with one error format for both front doors."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from gateway.errors import ValidationFailed

__all__ = ["MAX_JSON_DEPTH", "convert_input", "decode_json", "decode_json_value", "problem"]

T = TypeVar("T")
# Deeper documents are refused: no client needs them, and they cost recursion.
MAX_JSON_DEPTH = 64
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
        value = msgspec.json.decode(raw, type=model, strict=True)
    except msgspec.ValidationError as exc:
        raise error("Validation failed", [problem(exc)]) from None
    except msgspec.DecodeError:
        raise error("Malformed JSON body", ["body: malformed JSON"]) from None
    except RecursionError:
        raise error("JSON nested too deeply", [f"body: deeper than {MAX_JSON_DEPTH}"]) from None
    if model is object and _too_deep(value):
        raise error("JSON nested too deeply", [f"body: deeper than {MAX_JSON_DEPTH}"])
    return value


def decode_json_value(raw: bytes | str) -> object:
    """Decode any JSON value of bounded depth.

    Raises:
        ValidationFailed: malformed, or nested deeper than ``MAX_JSON_DEPTH``.
    """
    return decode_json(raw.encode() if isinstance(raw, str) else raw, object)


def _too_deep(value: object) -> bool:
    """Whether ``value`` nests containers deeper than ``MAX_JSON_DEPTH`` (no recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = (
            item.values() if isinstance(item, dict) else item if isinstance(item, list) else ()
        )
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > MAX_JSON_DEPTH:
                    return True
                stack.append((child, depth + 1))
    return False


def convert_input(data: Any, model: type[T]) -> T:
    """Convert already-parsed input (GraphQL arguments) with the same rules as ``decode_json``."""
    try:
        return msgspec.convert(data, type=model, strict=True)
    except msgspec.ValidationError as exc:
        raise ValidationFailed("Validation failed", [problem(exc)]) from None
