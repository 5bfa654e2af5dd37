"""What the change feed hands out (``gateway.change_feed`` re-exports these)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from gateway.db import parse_oid
from gateway.errors import ValidationFailed
from gateway.models.products import ProductCreate

__all__ = ["UNREAD", "Change", "ChangeKind", "Converter", "Gap", "Item", "ProductFilter"]

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
    # UNREAD in the feed's history when nobody subscribed to the collection then:
    # a subscription reads it when it hands the change out (a replay).
    document: Any


class _Unread:
    """A changed document not read when its change was heard: nobody was subscribed."""

    def __repr__(self) -> str:
        return "UNREAD"


UNREAD: Any = _Unread()


@dataclass(frozen=True, slots=True)
class Gap:
    """History lost: the subscriber must re-fetch (unknown or too old Last-Event-ID,
    a stream that could not resume, a dropped collection)."""

    reason: str


Item = Change | Gap
# Converts a stored document to its service model (gateway.services' to_product, ...).
Converter = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True, slots=True)
class ProductFilter:
    """The product changes a subscriber asked for (REST ``?category=&id=``, GraphQL
    ``productChanged(category, id)``): one rule for both doors.

    A deleted product's category is no longer known, so deletions reach every
    category filter (a client drops ids it does not hold); an update that moves a
    product to another category reaches the filter of its new category only.
    """

    category: str | None = None
    product_id: str | None = None

    @classmethod
    def parse(cls, category: str | None, product_id: str | None) -> ProductFilter:
        """Raises: ValidationFailed: ``category`` is no product's category (the rule of
        ``ProductCreate``: a subscription holds its filter for as long as it lasts), or
        ``product_id`` is not a product id (24 hex digits)."""
        problems = []
        if category:
            try:
                ProductCreate.rules["category"](category)
            except ValueError as exc:
                problems.append(f"category: {exc}")
        if product_id is not None and parse_oid(product_id) is None:
            problems.append("id: must be a product id")
        if problems:
            raise ValidationFailed("Invalid query parameter", problems)
        return cls(category or None, product_id)

    def matches(self, item: Item) -> bool:
        """Whether ``item`` is for this subscriber (a ``Gap`` always is)."""
        if isinstance(item, Gap):
            return True
        if self.product_id is not None and item.document_id != self.product_id:
            return False
        document = item.document
        return self.category is None or document is None or document.category == self.category
