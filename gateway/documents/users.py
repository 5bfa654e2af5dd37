"""``users``: one account per email; ``createdMs`` is the creation time to sort on
(see ``gateway.db``). ``deleting`` marks an account whose deletion has begun (see
``gateway.services.authorship``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.documents import creation_stamps

__all__ = ["COLLECTION", "DELETING", "REMAINING", "new_user"]

COLLECTION = "users"
DELETING = "deleting"
# The filter part of an account that is not being deleted.
REMAINING: dict[str, Any] = {DELETING: {"$exists": False}}


def new_user(
    *,
    name: str,
    email: str,
    role: str,
    password_hash: str,
    created_at: datetime,
    updated_at: datetime | None = None,
) -> dict[str, Any]:
    """A new account, its tokens at password version 0."""
    return {
        "name": name,
        "email": email,
        "role": role,
        "passwordHash": password_hash,
        "passwordVersion": 0,
        **creation_stamps(created_at, updated_at),
    }
