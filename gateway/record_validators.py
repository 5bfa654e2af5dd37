"""The validators (``ETag``, ``Last-Modified``) of users, products and pages of them.

Each is derived from what is stored: a record's ``version`` and ``updatedAt``
(``gateway.conditional.Validators.of_record``), never from a rendered body. A user
is seen with or without the email, so each of the two representations of one version
has a tag of its own; a user with their posts and profile also names what those are;
a page names the records on it, their versions, how many there are in all, and the
parameters that chose it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Final

from msgspec import UNSET

from gateway.conditional import Validators
from gateway.models import Product, User

__all__ = ["of_detail", "of_page", "of_product", "of_user"]

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


def _digest(parts: Iterable[object]) -> str:
    return hashlib.sha256(repr(tuple(parts)).encode()).hexdigest()[:24]


def _variant(record: User | Product) -> str:
    """Which representation of the version: a user's with the email (``e``) or without (``n``)."""
    if isinstance(record, Product):
        return ""
    return "n" if record.email is UNSET else "e"


def of_product(product: Product) -> Validators:
    return Validators.of_record(product.version, product.updated_at)


def of_user(user: User) -> Validators:
    return Validators.of_record(user.version, user.updated_at, _variant(user))


def of_detail(
    user: User,
    post_ids: Sequence[str],
    newest_post: datetime | None,
    profile_stamp: tuple[int, datetime] | None,
) -> Validators:
    """A user with their newest posts (ids, newest first; posts are never edited) and
    their profile's (version, updatedAt), if any: the tag still starts with the user's
    version (an ``If-Match`` of it names that), and changes with the posts and profile."""
    profile_version = None if profile_stamp is None else profile_stamp[0]
    variant = f"{_variant(user)}.{_digest([*post_ids, profile_version])}"
    moments = [user.updated_at, newest_post, None if profile_stamp is None else profile_stamp[1]]
    return Validators.of_record(user.version, max(m for m in moments if m is not None), variant)


def of_page(records: Sequence[User | Product], *params: object) -> Validators:
    """A page of records, chosen by ``params`` (page, limit, filter, total): its tag changes
    when any of them does; its date is the newest ``updatedAt`` on the page."""
    tag = "p" + _digest([(r.id, r.version, _variant(r)) for r in records] + list(params))
    return Validators(tag, max((r.updated_at for r in records), default=_EPOCH))
