"""User shapes: what sign-up and update accept, and what is returned."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, UnsetType

from gateway.models.base import Input, Output, check_email, trimmed

__all__ = ["Credentials", "Role", "User", "UserCreate", "UserDetail", "UserUpdate"]

Role = Literal["user", "admin"]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=128)]
Name = Annotated[str, msgspec.Meta(max_length=200)]
EmailText = Annotated[str, msgspec.Meta(max_length=320)]


class UserCreate(Input):
    name: Name
    email: EmailText
    password: Password
    role: Role | UnsetType = UNSET

    def __post_init__(self) -> None:
        self.name = trimmed("name", self.name, 2, 50)
        self.email = check_email("email", self.email)


class UserUpdate(Input):
    name: Name | UnsetType = UNSET
    email: EmailText | UnsetType = UNSET
    password: Password | UnsetType = UNSET
    role: Role | UnsetType = UNSET

    def __post_init__(self) -> None:
        if self.name is not UNSET:
            self.name = trimmed("name", self.name, 2, 50)
        if self.email is not UNSET:
            self.email = check_email("email", self.email)


class Credentials(Input):
    email: Annotated[str, msgspec.Meta(max_length=320)]
    password: Annotated[str, msgspec.Meta(max_length=1024)]

    def __post_init__(self) -> None:
        self.email = self.email.strip().lower()


class User(Output):
    """A user as clients see it; ``email`` is UNSET (left out) when hidden from the caller."""

    id: str
    name: str
    role: Role
    created_at: datetime
    updated_at: datetime
    email: str | UnsetType = UNSET


class UserDetail(User):
    """A user with their newest posts and their profile (REST ``GET /api/users/ID``)."""

    posts: list[PostOut] = msgspec.field(default_factory=list)
    profile: ProfileOut | None = None


from gateway.models.posts import PostOut, ProfileOut  # noqa: E402  (after User, no cycle)
