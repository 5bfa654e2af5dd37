"""User shapes: what sign-up and update accept, and what is returned."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, ClassVar, Literal

import msgspec
from msgspec import UNSET, UnsetType

from gateway.models.base import (
    EMAIL_SCHEMA,
    Input,
    Output,
    Rule,
    email,
    line,
    text_meta,
)

__all__ = ["Credentials", "Role", "User", "UserCreate", "UserDetail", "UserUpdate"]

Role = Annotated[
    Literal["user", "admin"],
    msgspec.Meta(description="Only an admin may set it: anyone else gets 403 and nothing changes."),
]
Password = Annotated[str, msgspec.Meta(min_length=8, max_length=128)]
Name = Annotated[
    str,
    text_meta(
        200,
        "2 to 50 characters after trimming; no control characters or bidi overrides and isolates.",
        2,
        50,
    ),
]
EmailText = Annotated[
    str,
    msgspec.Meta(
        description="A valid address (one `@`, a dot in the domain, no spaces or control "
        "characters); kept lower-cased, and unique regardless of case (409).",
        extra_json_schema=EMAIL_SCHEMA,
    ),
]

# A person's name: 2..50 characters after trimming, no controls, no bidi tricks.
_USER_RULES: Mapping[str, Rule] = {"name": line(2, 50), "email": email}


class UserCreate(Input):
    name: Name
    email: EmailText
    password: Password
    role: Role | UnsetType = UNSET

    rules: ClassVar[Mapping[str, Rule]] = _USER_RULES


class UserUpdate(Input):
    name: Name | UnsetType = UNSET
    email: EmailText | UnsetType = UNSET
    password: Password | UnsetType = UNSET
    role: Role | UnsetType = UNSET

    rules: ClassVar[Mapping[str, Rule]] = _USER_RULES


def _login_email(value: str) -> str:
    """Only normalised for the lookup: a malformed address simply matches no account."""
    return value.strip().lower()


class Credentials(Input):
    email: Annotated[str, msgspec.Meta(max_length=320, description="Compared regardless of case.")]
    password: Annotated[str, msgspec.Meta(max_length=1024)]

    rules: ClassVar[Mapping[str, Rule]] = {"email": _login_email}


class User(Output):
    """A user as clients see it; ``email`` is UNSET (left out) when hidden from the caller."""

    id: str
    name: str
    role: Role
    created_at: datetime
    updated_at: datetime
    version: int
    email: str | UnsetType = UNSET


class UserDetail(User):
    """A user with their newest posts and their profile (REST ``GET /api/users/ID``)."""

    posts: list[PostOut] = msgspec.field(default_factory=list)
    profile: ProfileOut | None = None


from gateway.models.posts import PostOut, ProfileOut  # noqa: E402  (after User, no cycle)
