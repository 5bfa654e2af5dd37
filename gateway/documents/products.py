"""``products``: ``createdMs`` is the creation time to sort on (see ``gateway.db``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gateway.documents import creation_stamps

__all__ = ["COLLECTION", "new_product"]

COLLECTION = "products"


def new_product(
    *,
    name: str,
    category: str,
    price: float,
    description: str | None,
    created_at: datetime,
    updated_at: datetime | None = None,
) -> dict[str, Any]:
    """A new product."""
    return {
        "name": name,
        "category": category,
        "price": price,
        "description": description,
        **creation_stamps(created_at, updated_at),
    }
