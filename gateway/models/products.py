"""Product shapes."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, ClassVar

import msgspec
from msgspec import UNSET, UnsetType

from gateway.models.base import Input, Output, Rule, finite, free_text, line, text_meta

__all__ = ["Product", "ProductCreate", "ProductUpdate"]

Price = Annotated[
    float, msgspec.Meta(ge=0, le=1e12, description="A finite number, from 0 to 10^12.")
]
Name = Annotated[
    str,
    text_meta(
        200,
        "1 to 200 characters after trimming; no control characters or bidi overrides and isolates.",
        1,
    ),
]
Category = Annotated[
    str,
    text_meta(200, "1 to 100 characters after trimming; no control characters.", 1, 100, bidi=True),
]
Description = Annotated[
    str,
    text_meta(
        5000,
        "Free text: tabs and line breaks are kept, other control characters refused.",
        free=True,
        bidi=True,
    ),
]

# A product's name is shown as its identity (no bidi tricks); a category is a label.
_PRODUCT_RULES: Mapping[str, Rule] = {
    "name": line(1, 200),
    "category": line(1, 100, bidi=True),
    "price": finite,
    "description": free_text,
}


class ProductCreate(Input):
    name: Name
    category: Category
    price: Price
    description: Description | None = None

    rules: ClassVar[Mapping[str, Rule]] = _PRODUCT_RULES


class ProductUpdate(Input):
    name: Name | UnsetType = UNSET
    category: Category | UnsetType = UNSET
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
    version: int
