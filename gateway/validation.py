"""Turning client input into model Structs, with one error format for both front doors.

Both doors end in ``convert_input``: REST decodes the body to plain JSON
values first (``decode_json``), GraphQL passes the input object's fields. Each
field of the model is then checked on its own (its type and ``Meta``
constraints with ``msgspec.convert``, then its rule, see
``gateway.models.base.Input``), so one answer lists every failing field as
``"<field>: <problem>"``, missing and unknown fields included. msgspec's own
decoding into a Struct would stop at the first problem.
"""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from gateway.errors import ValidationFailed
from gateway.models.base import Input

__all__ = ["MAX_JSON_DEPTH", "convert_input", "decode_json", "decode_json_value", "problem"]

T = TypeVar("T")
M = TypeVar("M", bound=Input)
# Reads a number no float can hold (1e400) as an infinity rather than failing the
# whole body (where msgspec cannot say which field held it): the field's own
# constraints then refuse it, by name, with every other problem.
_FIELDS_DECODER = msgspec.json.Decoder(float_hook=float)
# Deeper documents are refused: no client needs them, and they cost recursion.
MAX_JSON_DEPTH = 64
_AT = re.compile(r"^(?P<msg>.*) - at `\$(?P<path>[^`]*)`$")


def problem(exc: msgspec.ValidationError, field: str = "body") -> str:
    """Render a msgspec error found in ``field`` as ``"<field>: <problem>"``."""
    match = _AT.match(str(exc))
    if match is None:
        return f"{field}: {exc}"
    return f"{field}{match['path']}: {match['msg']}"


def decode_json(raw: bytes, model: type[T], error: type[ValidationFailed] = ValidationFailed) -> T:
    """Decode a JSON body strictly into ``model`` (an ``Input`` model, or ``object``).

    Raises:
        ValidationFailed: (or ``error``) malformed JSON, unknown fields, wrong
            types, broken constraints or rules: every failing field at once.
    """
    try:
        value = (msgspec.json.decode if model is object else _FIELDS_DECODER.decode)(raw)
    except msgspec.ValidationError as exc:  # a number no float can hold (1e400)
        raise error("Validation failed", [problem(exc)]) from None
    except msgspec.DecodeError:
        raise error("Malformed JSON body", ["body: malformed JSON"]) from None
    except RecursionError:
        raise error("JSON nested too deeply", [f"body: deeper than {MAX_JSON_DEPTH}"]) from None
    if _too_deep(value):
        raise error("JSON nested too deeply", [f"body: deeper than {MAX_JSON_DEPTH}"])
    if model is object:
        return value  # type: ignore[no-any-return]  # any JSON value is an object
    result: T = convert_input(value, model, error)  # type: ignore[type-var]
    return result


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


def convert_input(data: Any, model: type[M], error: type[ValidationFailed] = ValidationFailed) -> M:
    """Check plain input (decoded JSON, GraphQL arguments) field by field and build ``model``.

    Problems come in the model's field order, then unknown fields in the order sent.

    Raises:
        ValidationFailed: (or ``error``) with every failing field.
    """
    if not isinstance(data, dict):
        raise error("Validation failed", ["body: must be a JSON object"])
    problems: list[str] = []
    values: dict[str, Any] = {}
    fields = msgspec.structs.fields(model)
    for field in fields:
        name = field.encode_name
        if name not in data:
            if field.required:
                problems.append(f"{name}: required")
            continue
        try:
            value = msgspec.convert(data[name], type=field.type, strict=True)
        except msgspec.ValidationError as exc:
            problems.append(problem(exc, name))
            continue
        rule = model.rules.get(field.name)
        if rule is not None and value is not None and value is not msgspec.UNSET:
            try:
                value = rule(value)
            except ValueError as exc:
                problems.append(f"{name}: {exc}")
                continue
        values[field.name] = value
    known = {field.encode_name for field in fields}
    problems.extend(f"{key}: unknown field" for key in data if key not in known)
    if problems:
        raise error("Validation failed", problems)
    return model(**values)
