"""Demo data for trying the gateway out; running it again adds only what is missing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from gateway.credentials import Passwords
from gateway.db import Collection, Database, utcnow
from gateway.documents.posts import COLLECTION as POSTS
from gateway.documents.posts import SEED_KEY, new_post
from gateway.documents.products import COLLECTION as PRODUCTS
from gateway.documents.products import new_product
from gateway.documents.profiles import COLLECTION as PROFILES
from gateway.documents.profiles import USER_ID, new_profile
from gateway.documents.users import COLLECTION as USERS
from gateway.documents.users import new_user
from gateway.totals import TotalsCache

__all__ = ["DEMO_PASSWORD", "SeedCount", "SeedService", "demo_email"]

DEMO_PASSWORD = "demo-password"  # noqa: S105 - documented demo credential
CATEGORIES = (
    "books", "electronics", "garden", "kitchen", "sports", "toys", "music", "games",
    "office", "tools", "beauty", "health", "pets", "baby", "auto", "outdoor", "grocery",
    "clothing", "shoes", "jewelry",
)  # fmt: skip
BATCH = 500

Progress = Callable[[str, int, int], None]
Document = dict[str, Any]


@dataclass(frozen=True, slots=True)
class SeedCount:
    """What one collection got from a seed: documents added, and those already there."""

    collection: str
    added: int
    present: int


def demo_email(n: int) -> str:
    return f"demo{n}@example.com"


class SeedService:
    def __init__(self, db: Database, passwords: Passwords, product_totals: TotalsCache) -> None:
        self._db = db
        self._passwords = passwords
        self._product_totals = product_totals

    async def seed(
        self,
        *,
        users: int,
        posts_per_user: int,
        products: int,
        categories: int,
        progress: Progress,
    ) -> list[SeedCount]:
        """Write demo users (each with posts and a profile) and products over categories.

        ``progress`` hears of batches being written only: nothing, when all is there.
        """
        # One hash for all demo users: argon2 is deliberately slow, the password is public.
        password_hash = await self._passwords.hash(DEMO_PASSWORD)
        now = utcnow()
        counts = [
            await self._add_missing(
                self._db[USERS],
                "email",
                [
                    new_user(
                        name=f"Demo User {i}",
                        email=demo_email(i),
                        role="user",
                        password_hash=password_hash,
                        created_at=now - timedelta(milliseconds=users - i),
                        updated_at=now,
                    )
                    for i in range(1, users + 1)
                ],
                progress,
            )
        ]
        emails = [demo_email(i) for i in range(1, users + 1)]
        ids = [
            str(doc["_id"])
            for doc in await self._db[USERS]
            .find({"email": {"$in": emails}}, {"_id": 1})
            .to_list(None)
        ]
        counts.append(
            await self._add_missing(
                self._db[PROFILES],
                USER_ID,
                [
                    new_profile(user_id=i, bio="Demo account.", avatar_url=None, updated_at=now)
                    for i in ids
                ],
                progress,
            )
        )
        counts.append(
            await self._add_missing(
                self._db[POSTS],
                SEED_KEY,
                [
                    new_post(
                        author_id=user_id,
                        title=f"Demo post {n}",
                        content=f"Post number {n} of a demo user.",
                        created_at=now - timedelta(minutes=n),
                        seed_key=f"{user_id}/{n}",
                    )
                    for user_id in ids
                    for n in range(1, posts_per_user + 1)
                ],
                progress,
            )
        )
        with self._product_totals.writing():  # product lists count the new ones at once
            counts.append(
                await self._add_missing(
                    self._db[PRODUCTS],
                    "name",
                    [
                        new_product(
                            name=f"Demo product {i}",
                            category=CATEGORIES[i % categories],
                            price=round(1 + (i * 7919 % 10_000) / 100, 2),
                            description=f"Demo product number {i}.",
                            created_at=now - timedelta(milliseconds=products - i),
                            updated_at=now,
                        )
                        for i in range(1, products + 1)
                    ],
                    progress,
                )
            )
        return counts

    async def _add_missing(
        self, collection: Collection, key: str, docs: list[Document], progress: Progress
    ) -> SeedCount:
        """Insert the documents whose ``key`` is not stored yet, in batches.

        Inserts rather than upserts: datetimes must be inserted (see ``gateway.db``).
        """
        added = present = 0
        for start in range(0, len(docs), BATCH):
            batch = docs[start : start + BATCH]
            keys = [doc[key] for doc in batch]
            stored = {
                doc[key]
                for doc in await collection.find({key: {"$in": keys}}, {key: 1}).to_list(None)
            }
            missing = [doc for doc in batch if doc[key] not in stored]
            if missing:
                await collection.insert_many(missing, ordered=False)
                added += len(missing)
                progress(collection.name, added, len(docs) - present)
            present += len(batch) - len(missing)
        if added:
            progress(collection.name, added, added)
        return SeedCount(collection.name, added, present)
