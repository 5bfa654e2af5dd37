"""What a user writes (posts, their profile) goes when the user is deleted, even a write
that races the deletion.

A deletion first marks the account (``gateway.documents.users.DELETING``), then deletes
the account's posts and profile, then the account. A write of the user's checks, once
it is made, that the account is still there and not marked, and takes itself back
otherwise: a check before the mark means the write came before it too, so the deletion
sweeps it; a check after the mark sees it. Either way nothing written is left without
its author. (Checking before writing would not do: the deletion could sweep between
the check and the write.)
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from gateway.credentials import INVALID_TOKEN
from gateway.db import Collection, parse_oid
from gateway.documents.users import REMAINING
from gateway.errors import Unauthenticated

__all__ = ["keep_if_author_remains"]


async def keep_if_author_remains(
    users: Collection, author_id: str, take_back: Callable[[], Awaitable[Any]]
) -> None:
    """After a write of ``author_id``'s: if their account is gone or being deleted,
    ``take_back`` the write and refuse it.

    Raises:
        Unauthenticated: the author was deleted meanwhile (as their token now is).
    """
    oid = parse_oid(author_id)
    if oid is None or await users.find_one({"_id": oid, **REMAINING}, {"_id": 1}) is None:
        await take_back()
        raise Unauthenticated(INVALID_TOKEN)
