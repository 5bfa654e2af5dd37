"""Typed decorators for resolver fields that carry a description.

``@strawberry.field(description=...)`` is typed as returning ``Any``, which strict
mypy refuses as an untyped decorator; handing Strawberry the resolver itself is typed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.types.field import StrawberryField

__all__ = ["field", "mutation"]

Resolver = Callable[..., Any]


def field(description: str) -> Callable[[Resolver], StrawberryField]:
    """``@strawberry.field(description=...)``, typed."""

    def decorate(resolver: Resolver) -> StrawberryField:
        return strawberry.field(resolver, description=description)

    return decorate


def mutation(description: str) -> Callable[[Resolver], StrawberryField]:
    """``@strawberry.mutation(description=...)``, typed."""

    def decorate(resolver: Resolver) -> StrawberryField:
        return strawberry.mutation(resolver, description=description)

    return decorate
