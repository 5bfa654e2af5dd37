"""Demo data for trying the gateway out; safe to run again (upserts on natural keys)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from pymongo import UpdateOne

from gateway.auth import Passwords
from gateway.db import Database, utcnow

__all__ = ["DEMO_PASSWORD", "SeedService"]

DEMO_PASSWORD = "demo-password"  # noqa: S105 - documented demo credential
CATEGORIES = (
    "books", "electronics", "garden", "kitchen", "sports", "toys", "music", "games",
    "office", "tools", "beauty", "health", "pets", "baby", "auto", "outdoor", "grocery",
    "clothing", "shoes", "jewelry",
)  # fmt: skip
BATCH = 500

Progress = Callable[[str, int, int], None]


class SeedService:
    def __init__(self, db: Database, passwords: Passwords) -> None:
        self._db = db
        self._passwords = passwords

    async def seed(
        self,
        *,
        users: int,
        posts_per_user: int,
        products: int,
        categories: int,
        progress: Progress,
    ) -> None:
        """Write ``users`` demo users (with posts and a profile) and ``products`` products."""
        # One hash for all demo users: argon2 is deliberately slow, the password is public.
        password_hash = await self._passwords.hash(DEMO_PASSWORD)
        now = utcnow()
        user_ops = [
            UpdateOne(
                {"email": f"demo{i}@example.com"},
                {
                    "$setOnInsert": {
                        "name": f"Demo User {i}",
                        "email": f"demo{i}@example.com",
                        "role": "user",
                        "passwordHash": password_hash,
                        "passwordVersion": 0,
                        "createdAt": now,
                        "updatedAt": now,
                    }
                },
                upsert=True,
            )
            for i in range(1, users + 1)
        ]
        await self._bulk("users", user_ops, progress)
        emails = [f"demo{i}@example.com" for i in range(1, users + 1)]
        ids = [
            str(doc["_id"])
            for doc in await self._db["users"]
            .find({"email": {"$in": emails}}, {"_id": 1})
            .to_list(None)
        ]
        post_ops: list[Any] = []
        profile_ops: list[Any] = []
        for user_id in ids:
            profile_ops.append(
                UpdateOne(
                    {"userId": user_id},
                    {
                        "$setOnInsert": {
                            "userId": user_id,
                            "bio": "Demo account.",
                            "avatarUrl": None,
                            "updatedAt": now,
                        }
                    },
                    upsert=True,
                )
            )
            for n in range(1, posts_per_user + 1):
                post_ops.append(
                    UpdateOne(
                        {"authorId": user_id, "title": f"Demo post {n}"},
                        {
                            "$setOnInsert": {
                                "authorId": user_id,
                                "title": f"Demo post {n}",
                                "content": f"Post number {n} of a demo user.",
                                "createdAt": now - timedelta(minutes=n),
                            }
                        },
                        upsert=True,
                    )
                )
        await self._bulk("profiles", profile_ops, progress)
        await self._bulk("posts", post_ops, progress)
        product_ops = [
            UpdateOne(
                {"name": f"Demo product {i}"},
                {
                    "$setOnInsert": {
                        "name": f"Demo product {i}",
                        "category": CATEGORIES[i % categories],
                        "price": round(1 + (i * 7919 % 10_000) / 100, 2),
                        "description": f"Demo product number {i}.",
                        "createdAt": now + timedelta(milliseconds=i),
                        "updatedAt": now,
                    }
                },
                upsert=True,
            )
            for i in range(1, products + 1)
        ]
        await self._bulk("products", product_ops, progress)

    async def _bulk(self, collection: str, ops: list[Any], progress: Progress) -> None:
        done = 0
        progress(collection, done, len(ops))
        for start in range(0, len(ops), BATCH):
            batch = ops[start : start + BATCH]
            await self._db[collection].bulk_write(batch, ordered=False)
            done += len(batch)
            progress(collection, done, len(ops))
