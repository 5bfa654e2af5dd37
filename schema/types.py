"""Object types: each mirrors a msgspec model of ``gateway.models`` through one converter.

Relations (``User.posts``, ``User.profile``, ``Post.author``) load through the
request's DataLoaders, so asking them of many parents costs one query each.
The loaders are built per request by ``resolvers.loaders``; this module only
states what it needs of them (``RelationLoaders``), so ``schema`` never
imports ``resolvers``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

import strawberry
from msgspec import UNSET
from strawberry.dataloader import DataLoader

from gateway.errors import NotFound
from gateway.models import FileMeta, PostOut, Product, ProfileOut, User
from gateway.services import LoginResult
from gateway.services.users import USER_NOT_FOUND
from schema.fields import field

__all__ = [
    "AuthPayload",
    "ContactReceipt",
    "FileType",
    "PostType",
    "ProductType",
    "ProfileType",
    "RelationLoaders",
    "UserType",
]


class RelationLoaders(Protocol):
    """The DataLoaders the relation fields read, one set per request."""

    @property
    def posts_by_author(self) -> DataLoader[str, list[PostOut]]: ...

    @property
    def profile_by_user(self) -> DataLoader[str, ProfileOut | None]: ...

    @property
    def user_by_id(self) -> DataLoader[str, User | None]: ...


class RelationContext(Protocol):
    @property
    def loaders(self) -> RelationLoaders: ...


RelationInfo = strawberry.Info[RelationContext, None]


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

    @field("The user's posts, newest first, at most 100.")
    async def posts(self, info: RelationInfo) -> list[PostType]:
        posts = await info.context.loaders.posts_by_author.load(self.id)
        return [PostType.from_model(post) for post in posts]

    @field("The user's profile, if they wrote one.")
    async def profile(self, info: RelationInfo) -> ProfileType | None:
        profile = await info.context.loaders.profile_by_user.load(self.id)
        return None if profile is None else ProfileType.from_model(profile)

    @classmethod
    def from_model(cls, user: User) -> UserType:
        return cls(
            id=strawberry.ID(user.id),
            name=user.name,
            email=None if user.email is UNSET else user.email,
            role=user.role,
            created_at=user.created_at,
            updated_at=user.updated_at,
        )


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
        return UserType.from_model(author)

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
        )


@strawberry.type(name="File", description="A stored file; its bytes download from `url` (REST).")
class FileType:
    path: str
    name: str
    size: int = strawberry.field(description="In bytes.")
    content_type: str
    url: str
    created_at: datetime

    @classmethod
    def from_model(cls, meta: FileMeta) -> FileType:
        return cls(
            path=meta.path,
            name=meta.name,
            size=meta.size,
            content_type=meta.content_type,
            url=meta.url,
            created_at=meta.created_at,
        )


@strawberry.type(description="A token for `Authorization: Bearer <token>`, and its user.")
class AuthPayload:
    token: str
    user: UserType

    @classmethod
    def from_model(cls, result: LoginResult) -> AuthPayload:
        return cls(token=result.token, user=UserType.from_model(result.user))


@strawberry.type(description="The contact form was received.")
class ContactReceipt:
    success: bool
    message: str
