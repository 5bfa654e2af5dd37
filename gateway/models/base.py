"""Shared pieces of the msgspec models: the strict input base and reusable constraints."""

from __future__ import annotations

import math
import re
from typing import Annotated

import msgspec

__all__ = [
    "EMAIL_PATTERN",
    "Input",
    "Output",
    "check_email",
    "check_finite",
    "trimmed",
]

# Pragmatic address check: one @, no spaces, a dot in the domain; 254 is RFC 5321's cap.
EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_EMAIL_MAX = 254

Email = Annotated[str, msgspec.Meta(max_length=_EMAIL_MAX)]


class Input(msgspec.Struct, forbid_unknown_fields=True, rename="camel", kw_only=True):
    """Base of request bodies: unknown fields and wrong types are refused."""


class Output(msgspec.Struct, rename="camel", kw_only=True):
    """Base of what services return; UNSET fields are left out of the JSON."""


def trimmed(field: str, value: str, low: int, high: int | None = None) -> str:
    """Return ``value`` trimmed, or raise ``ValueError`` naming ``field`` if its length is off.

    msgspec turns a ``ValueError`` from ``__post_init__`` into a ValidationError.
    """
    value = value.strip()
    if len(value) < low:
        raise ValueError(f"{field}: must be at least {low} characters after trimming")
    if high is not None and len(value) > high:
        raise ValueError(f"{field}: must be at most {high} characters")
    return value


def check_email(field: str, value: str) -> str:
    """Return ``value`` trimmed and lower-cased, or raise ``ValueError`` if it is not an email."""
    value = value.strip().lower()
    if len(value) > _EMAIL_MAX or not EMAIL_PATTERN.match(value):
        raise ValueError(f"{field}: must be a valid email address")
    return value


def check_finite(field: str, value: float) -> float:
    if not math.isfinite(value):
        raise ValueError(f"{field}: must be a finite number")
    return value
