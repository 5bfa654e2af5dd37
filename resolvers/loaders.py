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

# A user's newest posts and their profile, as ``UserService.relations`` finds them.
Relations = tuple[list[PostOut], ProfileOut | None]


class Loaders:
    """One request's loaders (``schema.types.RelationLoaders``); never shared between requests,
    since their caches hold what this caller may see."""

    def __init__(self, services: Services, actor: Actor | None) -> None:
        self._services = services
        self._actor = actor
        self._relation_loaders: dict[tuple[bool, bool], DataLoader[str, Relations]] = {}

    async def relations(
        self, user_ids: list[str], *, posts: bool, profile: bool
    ) -> tuple[list[list[PostOut]] | None, list[ProfileOut | None] | None]:
        """The posts and the profile of each of ``user_ids``, those asked for, else None.

        One user goes through a DataLoader, to be batched with the users its
        siblings ask for (every post's author). A list of users is a batch
        already: the services are asked directly, without a future per key.
        Either way, both relations come in one query.
        """
        if not (posts or profile):
            return None, None
        if len(user_ids) == 1:
            one_posts, one_profile = await self._relations_loader(posts, profile).load(user_ids[0])
            return ([one_posts] if posts else None, [one_profile] if profile else None)
        found_posts, found_profiles = await self._services.users.relations(
            user_ids, posts=posts, profile=profile
        )
        return (
            [found_posts[key] for key in user_ids] if posts else None,
            [found_profiles.get(key) for key in user_ids] if profile else None,
        )

    def _relations_loader(self, posts: bool, profile: bool) -> DataLoader[str, Relations]:
        """The loader of these relations (one per combination asked in the request)."""
        loader = self._relation_loaders.get((posts, profile))
        if loader is None:

            async def load(user_ids: list[str]) -> list[Relations]:
                found_posts, found_profiles = await self._services.users.relations(
                    user_ids, posts=posts, profile=profile
                )
                return [(found_posts.get(key, []), found_profiles.get(key)) for key in user_ids]

            loader = DataLoader(load_fn=load, max_batch_size=MAX_BATCH)
            self._relation_loaders[posts, profile] = loader
        return loader

    @cached_property
    def user_by_id(self) -> DataLoader[str, User | None]:
        async def users(user_ids: list[str]) -> list[User | None]:
            found = await self._services.users.get_many(self._actor, user_ids)
            return [found.get(user_id) for user_id in user_ids]

        return DataLoader(load_fn=users, max_batch_size=MAX_BATCH)
