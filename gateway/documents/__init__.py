"""The shape of the stored documents: one module per collection.

Each module names its collection and builds the documents a create writes
(the services' creates and the seed call the same builders), so a stored
field's name is spelled once for writing; queries and updates still name
the fields they match or change.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.db import created_ms

__all__ = ["FIRST_VERSION", "creation_stamps"]

# A versioned record's ``version`` when created; every write that changes it adds one
# (``gateway.db.stamped``), which is what its entity tag names (``gateway.conditional``).
FIRST_VERSION = 1


def creation_stamps(created_at: datetime, updated_at: datetime | None = None) -> dict[str, Any]:
    """The stamps of a versioned record listed by creation time: its first version, when
    it was created, the same as epoch milliseconds to sort and page on (see
    ``gateway.db``), and when it was last updated (when created, unless given)."""
    return {
        "version": FIRST_VERSION,
        "createdAt": created_at,
        "createdMs": created_ms(created_at),
        "updatedAt": created_at if updated_at is None else updated_at,
    }
