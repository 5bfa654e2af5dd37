"""Posts and profiles: the records hanging off a user."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, ClassVar

import msgspec
from msgspec import UNSET, UnsetType

from gateway.models.base import Input, Output, Rule, free_text, line

__all__ = ["PostCreate", "PostOut", "ProfileOut", "ProfileUpdate"]

MAX_POSTS_PER_USER = 100


class PostCreate(Input):
    title: Annotated[str, msgspec.Meta(max_length=400)]
    content: Annotated[str, msgspec.Meta(max_length=20_000)] = ""

    rules: ClassVar[Mapping[str, Rule]] = {"title": line(1, 200, bidi=True), "content": free_text}


class PostOut(Output):
    id: str
    title: str
    content: str
    author_id: str
    created_at: datetime


def _avatar_url(value: str) -> str:
    if not value.startswith(("https://", "http://", "/")):
        raise ValueError("must be an http(s) URL or a path")
    return value


class ProfileUpdate(Input):
    bio: Annotated[str, msgspec.Meta(max_length=2000)] | UnsetType | None = UNSET
    avatar_url: Annotated[str, msgspec.Meta(max_length=2048)] | UnsetType | None = UNSET

    rules: ClassVar[Mapping[str, Rule]] = {"bio": free_text, "avatar_url": _avatar_url}


class ProfileOut(Output):
    bio: str | None = None
    avatar_url: str | None = None
