"""``profiles``: at most one per user, found by ``userId``.

The profile service creates a profile by upsert: the filter gives ``userId``,
``profile_changes`` the fields and ``gateway.db.stamped`` ``updatedAt``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from msgspec import UNSET, UnsetType

__all__ = ["COLLECTION", "USER_ID", "new_profile", "profile_changes", "profile_of"]

COLLECTION = "profiles"
USER_ID = "userId"


def profile_of(user_id: str) -> dict[str, Any]:
    """The filter of ``user_id``'s profile, which an upsert also writes."""
    return {USER_ID: user_id}


def profile_changes(
    *, bio: str | UnsetType | None, avatar_url: str | UnsetType | None
) -> dict[str, Any]:
    """The fields an update sets: those given (``None`` clears one)."""
    changes: dict[str, Any] = {}
    if bio is not UNSET:
        changes["bio"] = bio
    if avatar_url is not UNSET:
        changes["avatarUrl"] = avatar_url
    return changes


def new_profile(
    *, user_id: str, bio: str | None, avatar_url: str | None, updated_at: datetime
) -> dict[str, Any]:
    """A whole profile, as the seed inserts it."""
    return {
        **profile_of(user_id),
        **profile_changes(bio=bio, avatar_url=avatar_url),
        "updatedAt": updated_at,
    }
