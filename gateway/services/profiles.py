"""Profiles: one per user, changed by that user only."""

from __future__ import annotations

from typing import Any

from msgspec import UNSET
from pymongo import ReturnDocument

from gateway.db import Database, PerKey, stamped
from gateway.models import ProfileOut, ProfileUpdate
from gateway.services.policy import Actor, require_signed_in

__all__ = ["ProfileService", "by_user"]


def to_profile(doc: dict[str, Any]) -> ProfileOut:
    return ProfileOut(bio=doc.get("bio"), avatar_url=doc.get("avatarUrl"))


def by_user(docs: list[dict[str, Any]]) -> dict[str, ProfileOut]:
    """The profiles of ``of_user``, per user."""
    return {doc["userId"]: to_profile(doc) for doc in docs}


class ProfileService:
    def __init__(self, db: Database) -> None:
        self._profiles = db["profiles"]
        # Each user's profile, if any (for ``per_key``; see ``by_user``).
        self.of_user = PerKey(self._profiles, "userId")

    async def update(self, actor: Actor | None, data: ProfileUpdate) -> ProfileOut:
        """Create or change the caller's own profile.

        Raises:
            Unauthenticated: anonymous caller.
        """
        owner = require_signed_in(actor)
        changes: dict[str, Any] = {}
        if data.bio is not UNSET:
            changes["bio"] = data.bio
        if data.avatar_url is not UNSET:
            changes["avatarUrl"] = data.avatar_url
        doc = await self._profiles.find_one_and_update(
            {"userId": owner.id},
            stamped({"$set": changes} if changes else {}),
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert doc is not None  # an upsert always returns the document
        return to_profile(doc)

    async def delete_for_user(self, user_id: str) -> None:
        await self._profiles.delete_many({"userId": user_id})
