"""Product shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from gateway.models.base import Input, Output, check_finite, trimmed

__all__ = ["Product", "ProductCreate", "ProductUpdate"]

Price = Annotated[float, msgspec.Meta(ge=0, le=1e12)]
Text = Annotated[str, msgspec.Meta(max_length=200)]
Description = Annotated[str, msgspec.Meta(max_length=5000)]


class ProductCreate(Input):
    name: Text
    category: Text
    price: Price
    description: Description | None = None

    def __post_init__(self) -> None:
        self.name = trimmed("name", self.name, 1, 200)
        self.category = trimmed("category", self.category, 1, 100)
        self.price = check_finite("price", float(self.price))


class ProductUpdate(Input):
    name: Text | UnsetType = UNSET
    category: Text | UnsetType = UNSET
    price: Price | UnsetType = UNSET
    description: Description | UnsetType | None = UNSET

    def __post_init__(self) -> None:
        if self.name is not UNSET:
            self.name = trimmed("name", self.name, 1, 200)
        if self.category is not UNSET:
            self.category = trimmed("category", self.category, 1, 100)
        if self.price is not UNSET:
            self.price = check_finite("price", float(self.price))


class Product(Output):
    id: str
    name: str
    category: str
    price: float
    description: str | None
    created_at: datetime
    updated_at: datetime
