"""Posts: written by their author, read newest first, batched by author."""

from __future__ import annotations

from typing import Any

from gateway.db import Database, PerKey, utcnow
from gateway.documents import posts, users
from gateway.documents.posts import new_post
from gateway.models import PostCreate, PostOut
from gateway.models.posts import MAX_POSTS_PER_USER
from gateway.services.authorship import keep_if_author_remains
from gateway.services.policy import Actor, require_signed_in

__all__ = ["PostService", "by_author", "to_post"]


def to_post(doc: dict[str, Any]) -> PostOut:
    return PostOut(
        id=str(doc["_id"]),
        title=doc["title"],
        content=doc.get("content", ""),
        author_id=doc["authorId"],
        created_at=doc["createdAt"],
    )


def by_author(author_ids: list[str], docs: list[dict[str, Any]]) -> dict[str, list[PostOut]]:
    """The posts of ``newest_by_author``, per author (none for one who wrote none)."""
    result: dict[str, list[PostOut]] = {author_id: [] for author_id in author_ids}
    for doc in docs:
        result[doc["authorId"]].append(to_post(doc))
    return result


class PostService:
    def __init__(self, db: Database) -> None:
        self._posts = db[posts.COLLECTION]
        self._users = db[users.COLLECTION]
        # Each author's newest posts, at most 100 (for ``per_key``; see ``by_author``).
        self.newest_by_author = PerKey(
            self._posts,
            "authorId",
            ({"$sort": {"createdAt": -1, "_id": -1}}, {"$limit": MAX_POSTS_PER_USER}),
            most_per_key=MAX_POSTS_PER_USER,
        )

    async def create(self, actor: Actor | None, data: PostCreate) -> PostOut:
        """Raises: Unauthenticated: anonymous caller, or deleted meanwhile."""
        author = require_signed_in(actor)
        doc = new_post(
            author_id=author.id, title=data.title, content=data.content, created_at=utcnow()
        )
        doc["_id"] = post_id = (await self._posts.insert_one(doc)).inserted_id
        await keep_if_author_remains(
            self._users, author.id, lambda: self._posts.delete_one({"_id": post_id})
        )
        return to_post(doc)

    async def delete_by_author(self, author_id: str) -> None:
        await self._posts.delete_many({"authorId": author_id})
