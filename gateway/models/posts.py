"""Posts and profiles: the records hanging off a user."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from gateway.models.base import Input, Output, trimmed

__all__ = ["PostCreate", "PostOut", "ProfileOut", "ProfileUpdate"]

MAX_POSTS_PER_USER = 100


class PostCreate(Input):
    title: Annotated[str, msgspec.Meta(max_length=400)]
    content: Annotated[str, msgspec.Meta(max_length=20_000)] = ""

    def __post_init__(self) -> None:
        self.title = trimmed("title", self.title, 1, 200)


class PostOut(Output):
    id: str
    title: str
    content: str
    author_id: str
    created_at: datetime


class ProfileUpdate(Input):
    bio: Annotated[str, msgspec.Meta(max_length=2000)] | UnsetType | None = UNSET
    avatar_url: Annotated[str, msgspec.Meta(max_length=2048)] | UnsetType | None = UNSET

    def __post_init__(self) -> None:
        if isinstance(self.avatar_url, str) and not self.avatar_url.startswith(
            ("https://", "http://", "/")
        ):
            raise ValueError("avatarUrl: must be an http(s) URL or a path")


class ProfileOut(Output):
    bio: str | None = None
    avatar_url: str | None = None
    user_id: str | UnsetType = UNSET
