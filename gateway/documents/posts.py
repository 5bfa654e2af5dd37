"""``posts``: each names its author by id (a string, see ``gateway.db``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = ["COLLECTION", "SEED_KEY", "new_post"]

COLLECTION = "posts"
SEED_KEY = "key"  # what tells a demo post the seed wrote from another (see ``new_post``)


def new_post(
    *, author_id: str, title: str, content: str, created_at: datetime, seed_key: str | None = None
) -> dict[str, Any]:
    """A new post; a demo post also carries its ``seed_key``, so seeding again adds none twice."""
    doc: dict[str, Any] = {
        "title": title,
        "content": content,
        "authorId": author_id,
        "createdAt": created_at,
    }
    if seed_key is not None:
        doc[SEED_KEY] = seed_key
    return doc
