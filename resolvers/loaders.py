"""DataLoaders, per request: a relation asked of many parents costs one query.

They are made on first use, so an operation without relations pays for none.
A batch holds at most ``MAX_BATCH`` keys (the largest page), so one query never
grows past that many parents.
"""

from __future__ import annotations

from functools import cached_property

from strawberry.dataloader import DataLoader

from gateway.models import PostOut, ProfileOut, User
from gateway.pagination import MAX_PAGE_SIZE
from gateway.services import Actor, Services

__all__ = ["MAX_BATCH", "Loaders"]

MAX_BATCH = MAX_PAGE_SIZE


class Loaders:
    """One request's loaders (``schema.types.RelationLoaders``); never shared between requests,
    since their caches hold what this caller may see."""

    def __init__(self, services: Services, actor: Actor | None) -> None:
        self._services = services
        self._actor = actor

    async def relations(
        self, user_ids: list[str], *, posts: bool, profile: bool
    ) -> tuple[list[list[PostOut]] | None, list[ProfileOut | None] | None]:
        """The posts and the profile of each of ``user_ids``, those asked for, else None.

        One user goes through the DataLoaders, to be batched with the users its
        siblings ask for (every post's author). A list of users is a batch
        already: the services are asked directly, without a future per key.
        """
        if not (posts or profile):
            return None, None
        if len(user_ids) == 1:
            one_posts = self.posts_by_author.load_many(user_ids) if posts else None
            one_profile = self.profile_by_user.load_many(user_ids) if profile else None
            return (
                await one_posts if one_posts is not None else None,
                await one_profile if one_profile is not None else None,
            )
        found_posts, found_profiles = await self._services.users.relations(
            user_ids, posts=posts, profile=profile
        )
        return (
            [found_posts[key] for key in user_ids] if posts else None,
            [found_profiles.get(key) for key in user_ids] if profile else None,
        )

    @cached_property
    def posts_by_author(self) -> DataLoader[str, list[PostOut]]:
        async def posts(author_ids: list[str]) -> list[list[PostOut]]:
            found = await self._services.posts.for_authors(author_ids)
            return [found[author_id] for author_id in author_ids]

        return DataLoader(load_fn=posts, max_batch_size=MAX_BATCH)

    @cached_property
    def profile_by_user(self) -> DataLoader[str, ProfileOut | None]:
        async def profiles(user_ids: list[str]) -> list[ProfileOut | None]:
            found = await self._services.profiles.for_users(user_ids)
            return [found.get(user_id) for user_id in user_ids]

        return DataLoader(load_fn=profiles, max_batch_size=MAX_BATCH)

    @cached_property
    def user_by_id(self) -> DataLoader[str, User | None]:
        async def users(user_ids: list[str]) -> list[User | None]:
            found = await self._services.users.get_many(self._actor, user_ids)
            return [found.get(user_id) for user_id in user_ids]

        return DataLoader(load_fn=users, max_batch_size=MAX_BATCH)
