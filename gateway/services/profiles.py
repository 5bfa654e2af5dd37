"""Profiles: one per user, changed by that user only."""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument

from gateway.db import Database, PerKey, stamped
from gateway.documents import profiles, users
from gateway.documents.profiles import USER_ID, profile_changes, profile_of
from gateway.models import ProfileOut, ProfileUpdate
from gateway.services.authorship import keep_if_author_remains
from gateway.services.policy import Actor, require_signed_in

__all__ = ["ProfileService", "by_user"]


def to_profile(doc: dict[str, Any]) -> ProfileOut:
    return ProfileOut(bio=doc.get("bio"), avatar_url=doc.get("avatarUrl"))


def by_user(docs: list[dict[str, Any]]) -> dict[str, ProfileOut]:
    """The profiles of ``of_user``, per user."""
    return {doc["userId"]: to_profile(doc) for doc in docs}


class ProfileService:
    def __init__(self, db: Database) -> None:
        self._profiles = db[profiles.COLLECTION]
        self._users = db[users.COLLECTION]
        # Each user's profile, if any (for ``per_key``; see ``by_user``).
        self.of_user = PerKey(self._profiles, USER_ID)

    async def update(self, actor: Actor | None, data: ProfileUpdate) -> ProfileOut:
        """Create or change the caller's own profile.

        Raises:
            Unauthenticated: anonymous caller, or deleted meanwhile.
        """
        owner = require_signed_in(actor)
        changes = profile_changes(bio=data.bio, avatar_url=data.avatar_url)
        doc = await self._profiles.find_one_and_update(
            profile_of(owner.id),
            stamped({"$set": changes} if changes else {}),
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        assert doc is not None  # an upsert always returns the document
        await keep_if_author_remains(
            self._users, owner.id, lambda: self._profiles.delete_many(profile_of(owner.id))
        )
        return to_profile(doc)

    async def delete_for_user(self, user_id: str) -> None:
        await self._profiles.delete_many({"userId": user_id})
