"""Who may do what: the authorization rules both front doors go through."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from gateway.credentials import NO_TOKEN
from gateway.errors import Forbidden, Unauthenticated

__all__ = ["Actor", "require_admin", "require_self_or_admin", "require_signed_in"]


@dataclass(frozen=True, slots=True)
class Actor:
    """The signed-in caller, as the database knows them now (not as the token said)."""

    id: str
    role: str
    email: str
    name: str
    claims: dict[str, Any] = field(default_factory=dict)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def may_see(self, user_id: str) -> bool:
        """Whether this caller sees the private fields (email) of ``user_id``."""
        return self.is_admin or self.id == user_id


def require_signed_in(actor: Actor | None) -> Actor:
    """Raises: Unauthenticated: anonymous caller."""
    if actor is None:
        raise Unauthenticated(NO_TOKEN)
    return actor


def require_admin(actor: Actor | None) -> Actor:
    """Raises: Unauthenticated: anonymous; Forbidden: not an admin."""
    actor = require_signed_in(actor)
    if not actor.is_admin:
        raise Forbidden("Admin role required")
    return actor


def require_self_or_admin(actor: Actor | None, user_id: str) -> Actor:
    """Raises: Unauthenticated: anonymous; Forbidden: another user's record."""
    actor = require_signed_in(actor)
    if not actor.may_see(user_id):
        raise Forbidden("You may only change your own account")
    return actor
