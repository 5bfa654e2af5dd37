"""GraphQL enums: how product lists are sorted."""

from __future__ import annotations

import enum

import strawberry

__all__ = ["ProductSortField", "SortDirection"]


@strawberry.enum(description="The product field a list is sorted by; ties are broken by id.")
class ProductSortField(enum.Enum):
    CREATED_AT = "createdAt"
    PRICE = "price"
    NAME = "name"


@strawberry.enum(description="Sort direction.")
class SortDirection(enum.Enum):
    ASC = "asc"
    DESC = "desc"
