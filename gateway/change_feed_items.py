"""What the change feed hands out (``gateway.change_feed`` re-exports these)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Change", "ChangeKind", "Converter", "Gap", "Item"]

ChangeKind = Literal["created", "updated", "deleted"]


@dataclass(frozen=True, slots=True)
class Change:
    """A document created, updated or deleted, whoever wrote it."""

    # Opaque, URL- and SSE-safe, the same in every process for the same event
    # (made from the change stream's resume token).
    event_id: str
    collection: str  # "products", "posts", ...
    kind: ChangeKind
    document_id: str  # str(_id)
    # The service model as it is now (gateway.models.Product, ...); None when
    # deleted or already gone. Users are seen by nobody in particular (no email).
    document: Any


@dataclass(frozen=True, slots=True)
class Gap:
    """History lost: the subscriber must re-fetch (unknown or too old Last-Event-ID,
    a stream that could not resume, a dropped collection)."""

    reason: str


Item = Change | Gap
# Converts a stored document to its service model (gateway.services' to_product, ...).
Converter = Callable[[dict[str, Any]], Any]
