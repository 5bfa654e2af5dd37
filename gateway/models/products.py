"""Product shapes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, ClassVar

import msgspec
from msgspec import UNSET, UnsetType

from gateway.models.base import Input, Output, Rule, finite, free_text, line

__all__ = ["Product", "ProductCreate", "ProductUpdate"]

Price = Annotated[float, msgspec.Meta(ge=0, le=1e12)]
Text = Annotated[str, msgspec.Meta(max_length=200)]
Description = Annotated[str, msgspec.Meta(max_length=5000)]

# A product's name is shown as its identity (no bidi tricks); a category is a label.
_PRODUCT_RULES: Mapping[str, Rule] = {
    "name": line(1, 200),
    "category": line(1, 100, bidi=True),
    "price": finite,
    "description": free_text,
}


class ProductCreate(Input):
    name: Text
    category: Text
    price: Price
    description: Description | None = None

    rules: ClassVar[Mapping[str, Rule]] = _PRODUCT_RULES


class ProductUpdate(Input):
    name: Text | UnsetType = UNSET
    category: Text | UnsetType = UNSET
    price: Price | UnsetType = UNSET
    description: Description | UnsetType | None = UNSET

    rules: ClassVar[Mapping[str, Rule]] = _PRODUCT_RULES


class Product(Output):
    id: str
    name: str
    category: str
    price: float
    description: str | None
    created_at: datetime
    updated_at: datetime
