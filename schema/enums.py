"""GraphQL enums: how product lists are sorted, and what a live change did."""

from __future__ import annotations

import enum

import strawberry

__all__ = ["ChangeType", "ProductSortField", "SortDirection"]


@strawberry.enum(description="The product field a list is sorted by; ties are broken by id.")
class ProductSortField(enum.Enum):
    CREATED_AT = "createdAt"
    PRICE = "price"
    NAME = "name"


@strawberry.enum(description="Sort direction.")
class SortDirection(enum.Enum):
    ASC = "asc"
    DESC = "desc"


@strawberry.enum(description="What a change did to a record (subscriptions).")
class ChangeType(enum.Enum):
    CREATED = "created"
    UPDATED = "updated"
    DELETED = "deleted"
