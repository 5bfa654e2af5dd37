"""Object types: each mirrors a msgspec model of ``gateway.models`` through one converter.

Relations asked of many parents cost one query: ``Post.author`` through the
request's DataLoader, a user's ``posts`` and ``profile`` together in
``users_of``, before the users are returned.
The loaders are built per request by ``resolvers.loaders``; this module only
states what it needs of them (``RelationLoaders``), so ``schema`` never
imports ``resolvers``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NoReturn, Protocol
from urllib.parse import quote

import strawberry
from msgspec import UNSET
from strawberry.dataloader import DataLoader

from gateway.errors import NotFound
from gateway.models import PostOut, Product, ProfileOut, StoredFile, User
from gateway.services import Session
from gateway.services.users import USER_NOT_FOUND
from schema.fields import field
from schema.selection import Path, selected_names

__all__ = [
    "NOT_LOADED",
    "AuthPayload",
    "ContactReceipt",
    "FileType",
    "PostType",
    "ProductType",
    "ProfileType",
    "RelationLoaders",
    "UserType",
    "users_of",
]


class RelationLoaders(Protocol):
    """What the relations need of the request's loaders (``resolvers.loaders.Loaders``)."""

    async def relations(
        self, user_ids: list[str], *, posts: bool, profile: bool
    ) -> tuple[list[list[PostOut]] | None, list[ProfileOut | None] | None]: ...

    @property
    def user_by_id(self) -> DataLoader[str, User | None]: ...


class RelationContext(Protocol):
    @property
    def loaders(self) -> RelationLoaders: ...


_VERSION = (
    "1 when created, one more at every change: give it as `expectedVersion` to a change "
    "or deletion, which then fails with CONFLICT if the record changed since."
)
RelationInfo = strawberry.Info[RelationContext, None]
AnyInfo = strawberry.Info[Any, Any]  # any resolver's: its context has ``loaders``


@strawberry.type(name="Profile", description="What a user tells about themself.")
class ProfileType:
    bio: str | None
    avatar_url: str | None

    @classmethod
    def from_model(cls, profile: ProfileOut) -> ProfileType:
        return cls(bio=profile.bio, avatar_url=profile.avatar_url)


@strawberry.type(name="User", description="A user account.")
class UserType:
    id: strawberry.ID
    name: str
    email: str | None = strawberry.field(
        description="Only for the user themself and for admins; null for anyone else."
    )
    role: str = strawberry.field(description="The role: user or admin.")
    created_at: datetime
    updated_at: datetime
    version: int = strawberry.field(description=_VERSION)
    # Loaded by ``users_of`` when the query selects them, ``NOT_LOADED`` otherwise.
    posts: list[PostType] = strawberry.field(
        description="The user's posts, newest first, at most 100."
    )
    profile: ProfileType | None = strawberry.field(
        description="The user's profile, if they wrote one."
    )


async def users_of(info: AnyInfo, users: Sequence[User], *paths: Path) -> list[UserType]:
    """``users`` as GraphQL users, with the relations selected under ``paths`` already loaded.

    Relations are loaded here, in one query for all the users at once
    (``RelationLoaders.relations``), rather than by resolvers of their own: an
    async resolver costs a coroutine, a task and an ``Info`` per parent, which
    made a 20-user query with posts and profiles several times dearer than the
    same users alone.
    ``paths`` lead from the field being resolved to its users, ``()`` when the
    field returns them itself.
    """
    wanted = selected_names(info, *(paths or ((),))) if users else frozenset[str]()
    loaders: RelationLoaders = info.context.loaders
    posts_of, profile_of = await loaders.relations(
        [user.id for user in users], posts="posts" in wanted, profile="profile" in wanted
    )
    return [
        UserType(
            id=strawberry.ID(user.id),
            name=user.name,
            email=None if user.email is UNSET else user.email,
            role=user.role,
            created_at=user.created_at,
            updated_at=user.updated_at,
            version=user.version,
            posts=NOT_LOADED if posts_of is None else list(map(PostType.from_model, posts_of[n])),
            profile=NOT_LOADED if profile_of is None else _profile(profile_of[n]),
        )
        for n, user in enumerate(users)
    ]


async def user_of(info: AnyInfo, user: User, *paths: Path) -> UserType:
    """One user as a GraphQL user (``users_of`` for a single parent)."""
    [one] = await users_of(info, [user], *paths)
    return one


def _profile(profile: ProfileOut | None) -> ProfileType | None:
    return None if profile is None else ProfileType.from_model(profile)


class _NotLoaded:
    """Stands for a relation the query did not select: never read, and loud if it were."""

    def __iter__(self) -> NoReturn:
        raise RuntimeError("a relation was read that selected_names did not report")

    def __getattr__(self, name: str) -> NoReturn:
        raise RuntimeError("a relation was read that selected_names did not report")


NOT_LOADED: Any = _NotLoaded()


@strawberry.type(name="Post", description="A post, written by a user.")
class PostType:
    id: strawberry.ID
    title: str
    content: str
    created_at: datetime
    author_id: strawberry.Private[str]

    @field("Who wrote the post.")
    async def author(self, info: RelationInfo) -> UserType:
        author = await info.context.loaders.user_by_id.load(self.author_id)
        if author is None:
            raise NotFound(USER_NOT_FOUND)
        return await user_of(info, author)

    @classmethod
    def from_model(cls, post: PostOut) -> PostType:
        return cls(
            id=strawberry.ID(post.id),
            title=post.title,
            content=post.content,
            author_id=post.author_id,
            created_at=post.created_at,
        )


@strawberry.type(name="Product", description="A product of the catalogue.")
class ProductType:
    id: strawberry.ID
    name: str
    category: str
    price: float
    description: str | None
    created_at: datetime
    updated_at: datetime
    version: int = strawberry.field(description=_VERSION)

    @classmethod
    def from_model(cls, product: Product) -> ProductType:
        return cls(
            id=strawberry.ID(product.id),
            name=product.name,
            category=product.category,
            price=product.price,
            description=product.description,
            created_at=product.created_at,
            updated_at=product.updated_at,
            version=product.version,
        )


@strawberry.type(name="File", description="A stored file; its bytes download from `url` (REST).")
class FileType:
    path: str
    name: str
    size: int = strawberry.field(description="In bytes.")
    content_type: str
    url: str
    created_at: datetime
    version: str = strawberry.field(
        description="Names these bytes: a new upload at the path gets a new one (files are "
        "never changed in place). The download's `ETag` is it in quotes; `deleteFile` takes "
        "it as `expectedVersion`. A string: a file has no counter."
    )

    @classmethod
    def from_model(cls, stored: StoredFile) -> FileType:
        return cls(
            path=stored.path,
            name=stored.name,
            size=stored.size,
            content_type=stored.content_type,
            # The REST route that serves the bytes (GraphQL serves none).
            url="/api/files/" + quote(stored.path, safe="/"),
            created_at=stored.created_at,
            version=stored.version,
        )


@strawberry.type(description="A token for `Authorization: Bearer <token>`, and its user.")
class AuthPayload:
    token: str
    user: UserType

    @classmethod
    async def of(cls, info: AnyInfo, result: Session) -> AuthPayload:
        return cls(token=result.token, user=await user_of(info, result.user, ("user",)))


@strawberry.type(description="The contact form was received.")
class ContactReceipt:
    success: bool
    message: str
