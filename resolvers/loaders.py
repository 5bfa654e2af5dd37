"""DataLoaders, built per request: a relation asked of many parents costs one query."""

from __future__ import annotations

from dataclasses import dataclass

from strawberry.dataloader import DataLoader

from gateway.models import PostOut, ProfileOut, User
from gateway.services import Actor, Services

__all__ = ["Loaders"]


@dataclass(frozen=True, slots=True)
class Loaders:
    """One request's loaders (``schema.types.RelationLoaders``); never shared between requests,
    since their caches hold what this caller may see."""

    posts_by_author: DataLoader[str, list[PostOut]]
    profile_by_user: DataLoader[str, ProfileOut | None]
    user_by_id: DataLoader[str, User | None]

    @classmethod
    def build(cls, services: Services, actor: Actor | None) -> Loaders:
        """Fresh loaders acting for ``actor``."""

        async def posts(author_ids: list[str]) -> list[list[PostOut]]:
            found = await services.posts.for_authors(author_ids)
            return [found[author_id] for author_id in author_ids]

        async def profiles(user_ids: list[str]) -> list[ProfileOut | None]:
            found = await services.profiles.for_users(user_ids)
            return [found.get(user_id) for user_id in user_ids]

        async def users(user_ids: list[str]) -> list[User | None]:
            found = await services.users.get_many(actor, user_ids)
            return [found.get(user_id) for user_id in user_ids]

        return cls(
            posts_by_author=DataLoader(load_fn=posts),
            profile_by_user=DataLoader(load_fn=profiles),
            user_by_id=DataLoader(load_fn=users),
        )
