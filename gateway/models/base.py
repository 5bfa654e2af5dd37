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
from typing import Any, ClassVar, Final

import msgspec

__all__ = [
    "EMAIL_MAX_LENGTH",
    "EMAIL_PATTERN",
    "EMAIL_SCHEMA",
    "Input",
    "Output",
    "Rule",
    "email",
    "finite",
    "free_text",
    "is_email",
    "line",
    "text_meta",
    "text_problem",
]

Rule = Callable[[Any], Any]
"""Returns the field's value normalised, or raises ``ValueError`` saying what is wrong."""

# C0 and C1 controls and DEL: never part of a name, an address or a one-line label.
# Free text keeps TAB, LF and CR (paragraphs, pasted tables) and refuses the rest.
# Bidi overrides and isolates (U+202A-U+202E, U+2066-U+2069) can make a name or an
# address display as another one ("Trojan Source" spoofing). Kept as ranges written
# with escapes that Python's and ECMA/Rust regexes read alike: the OpenAPI document
# publishes patterns made of them (``text_pattern``, ``EMAIL_PATTERN``).
_CONTROL_RANGES = r"\x00-\x1f\x7f-\x9f"
_FREE_TEXT_CONTROL_RANGES = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"
_BIDI_RANGES = r"\u202a-\u202e\u2066-\u2069"
# What ``str.strip()`` removes that is not a control character (those are refused).
_SPACE_RANGES = r" \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
_CONTROL = re.compile(f"[{_CONTROL_RANGES}]")
_CONTROL_IN_FREE_TEXT = re.compile(f"[{_FREE_TEXT_CONTROL_RANGES}]")
_BIDI = re.compile(f"[{_BIDI_RANGES}]")

# Pragmatic address check: one @, no spaces, a dot in the domain, and none of the
# characters above (so the pattern published in the OpenAPI document says it all);
# 254 is RFC 5321's cap.
_ADDRESS_CHAR = rf"[^@\s{_CONTROL_RANGES}{_BIDI_RANGES}]"
EMAIL_PATTERN = re.compile(rf"^{_ADDRESS_CHAR}+@{_ADDRESS_CHAR}+\.{_ADDRESS_CHAR}+$")
EMAIL_MAX_LENGTH = 254
# An address field's JSON Schema: what ``email`` (and the contact form) accept. The
# field's type has no ``max_length`` of its own: a longer text is an invalid address,
# said by the rule in the field's own words.
EMAIL_SCHEMA: Final = {"pattern": EMAIL_PATTERN.pattern, "maxLength": EMAIL_MAX_LENGTH}


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


def text_meta(
    max_length: int,
    description: str,
    low: int = 0,
    high: int | None = None,
    *,
    free: bool = False,
    bidi: bool = False,
) -> msgspec.Meta:
    """A text field's ``Meta``: ``max_length`` enforced by msgspec, and for the OpenAPI
    document the ``description`` and the pattern of ``_text_pattern`` (the field's rule,
    ``line`` or ``free_text``, enforces it with its own messages)."""
    return msgspec.Meta(
        max_length=max_length,
        description=description,
        extra_json_schema={"pattern": _text_pattern(low, high, free=free, bidi=bidi)},
    )


def _text_pattern(low: int, high: int | None, *, free: bool, bidi: bool) -> str:
    """The regular expression (for the OpenAPI document) of a text that ``line(low, high)``
    (or, ``free``, ``free_text`` with ``low`` characters or more after trimming) accepts;
    ``high`` None when the field's ``max_length`` is the only cap.

    It reads: spaces, then a non-space, then ``low - 2`` to ``high - 2`` allowed
    characters and a non-space (optional when ``low`` is 1), then spaces; so the
    trimmed text has ``low`` to ``high`` characters and no refused character.
    """
    refused = (_FREE_TEXT_CONTROL_RANGES if free else _CONTROL_RANGES) + (
        "" if bidi else _BIDI_RANGES
    )
    allowed = f"[^{refused}]"
    if low == 0 and high is None:
        return f"^{allowed}*$"
    spaces = _SPACE_RANGES + (r"\t\n\r" if free else "")
    solid = f"[^{refused}{spaces}]"
    most = "" if high is None else high - 2
    middle = f"{solid}(?:{allowed}{{{max(low - 2, 0)},{most}}}{solid})"
    return f"^[{spaces}]*{middle}{'?' if low <= 1 else ''}[{spaces}]*$"


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
    return len(value) <= EMAIL_MAX_LENGTH and EMAIL_PATTERN.match(value) is not None


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
