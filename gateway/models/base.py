"""Shared pieces of the msgspec models: the strict input base and the reusable field rules.

A model's types and ``Meta`` constraints say what shape a field has; its
``rules`` (one function per field) say what msgspec cannot: trimming, email
syntax, which characters a text may hold. ``gateway.validation`` runs the
types, the constraints and the rules of every field and reports all problems
at once; direct construction (services, the CLI, tests) runs the same rules.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from functools import cache
from typing import Any, ClassVar

import msgspec

__all__ = [
    "EMAIL_PATTERN",
    "Input",
    "Output",
    "Rule",
    "email",
    "finite",
    "free_text",
    "is_email",
    "line",
    "text_problem",
]

Rule = Callable[[Any], Any]
"""Returns the field's value normalised, or raises ``ValueError`` saying what is wrong."""

# C0 and C1 controls and DEL: never part of a name, an address or a one-line label.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Free text keeps TAB, LF and CR (paragraphs, pasted tables) and refuses the rest.
_CONTROL_IN_FREE_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Bidi overrides and isolates (U+202A-U+202E, U+2066-U+2069) can make a name or an
# address display as another one ("Trojan Source" spoofing).
_BIDI = re.compile(r"[\u202a-\u202e\u2066-\u2069]")

# Pragmatic address check: one @, no spaces, a dot in the domain, and none of the
# characters above (so the pattern published in the OpenAPI document says it all);
# 254 is RFC 5321's cap.
_ADDRESS_CHAR = r"[^@\s\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]"
EMAIL_PATTERN = re.compile(rf"^{_ADDRESS_CHAR}+@{_ADDRESS_CHAR}+\.{_ADDRESS_CHAR}+$")
_EMAIL_MAX = 254


@cache
def _encode_names(model: type[msgspec.Struct]) -> dict[str, str]:
    """Python field name to the name clients use (camelCase), per model."""
    return {field.name: field.encode_name for field in msgspec.structs.fields(model)}


class Input(msgspec.Struct, forbid_unknown_fields=True, rename="camel", kw_only=True):
    """Base of request bodies: unknown fields and wrong types are refused.

    ``rules`` maps a field's Python name to its ``Rule``; a rule never sees
    ``None`` or ``UNSET`` (whether those are allowed is the field's type's say).
    """

    rules: ClassVar[Mapping[str, Rule]] = {}

    def __post_init__(self) -> None:
        """Apply the rules on direct construction; the first problem raises ``ValueError``.

        ``gateway.validation`` has already applied them (and reported every
        problem) for client input; rules are idempotent, so running them again
        here changes nothing.
        """
        for name, rule in self.rules.items():
            value = getattr(self, name)
            if value is None or value is msgspec.UNSET:
                continue
            try:
                setattr(self, name, rule(value))
            except ValueError as exc:
                raise ValueError(f"{_encode_names(type(self))[name]}: {exc}") from None


class Output(msgspec.Struct, rename="camel", kw_only=True):
    """Base of what services return; UNSET fields are left out of the JSON."""


def text_problem(value: str, *, free: bool = False, bidi: bool = False) -> str | None:
    """What is wrong with the characters of ``value``, or None.

    ``free`` text (descriptions, messages) may hold TAB, LF and CR; ``bidi``
    allows bidi overrides and isolates (titles and categories: they are not
    identities one could spoof).
    """
    if (_CONTROL_IN_FREE_TEXT if free else _CONTROL).search(value):
        return "must not contain control characters"
    if not bidi and _BIDI.search(value):
        return "must not contain bidirectional override or isolate characters"
    return None


def line(low: int, high: int, *, bidi: bool = False) -> Rule:
    """A one-line text (name, title, category): no control characters, trimmed to
    ``low``..``high`` characters. The characters are checked before trimming, so a
    control character at either end is refused, not silently dropped."""

    def rule(value: str) -> str:
        problem = text_problem(value, bidi=bidi)
        if problem is not None:
            raise ValueError(problem)
        value = value.strip()
        if len(value) < low:
            raise ValueError(f"must be at least {low} characters after trimming")
        if len(value) > high:
            raise ValueError(f"must be at most {high} characters")
        return value

    return rule


def free_text(value: str) -> str:
    """A multi-line text, kept as sent: tabs and line breaks stay, other controls are refused."""
    problem = text_problem(value, free=True, bidi=True)
    if problem is not None:
        raise ValueError(problem)
    return value


def is_email(value: str) -> bool:
    """Whether ``value`` (already trimmed) reads as an email address."""
    return len(value) <= _EMAIL_MAX and EMAIL_PATTERN.match(value) is not None


def email(value: str) -> str:
    """An email address, trimmed and lower-cased (emails are compared without case)."""
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem)
    value = value.strip().lower()
    if not is_email(value):
        raise ValueError("must be a valid email address")
    return value


def finite(value: float) -> float:
    """A finite float, stored as a float even when built from an int (prices sort alike)."""
    if not math.isfinite(value):
        raise ValueError("must be a finite number")
    return float(value)
