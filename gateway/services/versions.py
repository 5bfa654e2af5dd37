"""Writes that expect a version of the record (``If-Match``, GraphQL ``expectedVersion``).

The expected versions go into the write's own filter, so the check and the write are
one atomic operation on the server (no read-then-write window); only when the write
matched nothing is the record read again, to tell a missing record (404) from one
that moved on (412, or ``CONFLICT`` in GraphQL).
"""

from __future__ import annotations

from typing import Any

from gateway.db import Collection
from gateway.errors import GatewayError, NotFound, PreconditionFailed

__all__ = ["Expected", "mismatch", "refusal", "version_filter"]

Expected = frozenset[int] | None
"""The versions a write accepts; None when it sets no condition (today's behaviour)."""


def version_filter(expected: Expected) -> dict[str, Any]:
    """The part of a write's filter that holds it to ``expected`` (an empty set: to none).

    One version, the usual case, is matched by equality: the embedded server evaluates
    ``$in`` on a field other than ``_id`` by scanning the collection (``gateway.db``).
    """
    if expected is None:
        return {}
    if len(expected) == 1:
        return {"version": next(iter(expected))}
    return {"version": {"$in": sorted(expected)}}


def mismatch(expected: frozenset[int]) -> str:
    """What a write expecting ``expected`` is told when the record is at none of them."""
    if not expected:
        return "Version mismatch: no version of the record was named"
    names = ", ".join(map(str, sorted(expected)))
    return f"Version mismatch: the record changed since version{'s' * (len(expected) > 1)} {names}"


async def refusal(
    collection: Collection, id_query: dict[str, Any], expected: Expected, not_found: str
) -> GatewayError:
    """Why a write filtered on ``id_query`` and ``expected`` matched nothing."""
    if expected is None or await collection.find_one(id_query, {"_id": 1}) is None:
        return NotFound(not_found)
    return PreconditionFailed(mismatch(expected))
