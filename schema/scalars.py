"""Scalars whose wire format matches the REST front door's."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import msgspec
from strawberry.schema.types.base_scalars import DateTimeDefinition
from strawberry.types.scalar import ScalarDefinition

__all__ = ["SCALARS"]


def _rfc3339(value: datetime) -> str:
    # REST renders dates with msgspec; rendering them the same way here keeps the
    # two front doors byte-identical ("...T12:00:00.123000Z", not "+00:00").
    text: str = msgspec.to_builtins(value)
    return text


SCALARS: dict[object, ScalarDefinition] = {
    datetime: dataclasses.replace(
        DateTimeDefinition,
        description="A date and time in UTC, ISO 8601 (RFC 3339), as the REST API writes it.",
        serialize=_rfc3339,
    )
}
