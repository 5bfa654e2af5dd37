"""Input types. Each converts to its msgspec model, so REST and GraphQL share every rule.

Only the fields a client sent reach the model: an omitted optional field stays
UNSET (a partial update leaves it alone; ``role`` left out is not "sending role"),
while an explicit ``null`` is passed on for the model to accept or refuse.

A field the model requires is nullable here, with no default: left out, it
reaches the model as missing, which lists it (``"price: required"``) with every
other failing field in one ``BAD_USER_INPUT`` error, with REST's messages; were
it ``String!``, GraphQL would refuse the document first, one field at a time and
in its own words. Widening an input type this way breaks no client.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Final, TypeVar

import strawberry

from gateway import models
from gateway.services.products import SortField
from gateway.validation import convert_input
from schema.enums import ProductSortField, SortDirection

__all__ = [
    "ContactInput",
    "CreatePostInput",
    "CreateProductInput",
    "CreateUserInput",
    "ProductOrder",
    "UpdateProductInput",
    "UpdateProfileInput",
    "UpdateUserInput",
    "as_model",
]

M = TypeVar("M", bound=models.Input)


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def required() -> Any:
    """A field the model requires: nullable, absent by default; the model names it missing."""
    return strawberry.field(default=strawberry.UNSET, description="Required.")


def as_model(value: Any, model: type[M]) -> M:
    """Validate the fields the client sent as ``model`` (camelCase keys, as the models read).

    Raises:
        ValidationFailed: the values break the model's rules (same details as REST).
    """
    sent = {
        _camel(field.name): getattr(value, field.name)
        for field in dataclasses.fields(value)
        if getattr(value, field.name) is not strawberry.UNSET
    }
    return convert_input(sent, model)


@strawberry.input(description="Sign-up. Only an admin may set `role`.")
class CreateUserInput:
    name: str | None = required()
    email: str | None = required()
    password: str | None = required()
    role: str | None = strawberry.UNSET

    def to_model(self) -> models.UserCreate:
        return as_model(self, models.UserCreate)


@strawberry.input(description="The fields to change; those left out stay as they are.")
class UpdateUserInput:
    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    password: str | None = strawberry.UNSET
    role: str | None = strawberry.UNSET

    def to_model(self) -> models.UserUpdate:
        return as_model(self, models.UserUpdate)


@strawberry.input
class CreateProductInput:
    name: str | None = required()
    category: str | None = required()
    price: float | None = required()
    description: str | None = strawberry.UNSET

    def to_model(self) -> models.ProductCreate:
        return as_model(self, models.ProductCreate)


@strawberry.input(description="The fields to change; those left out stay as they are.")
class UpdateProductInput:
    name: str | None = strawberry.UNSET
    category: str | None = strawberry.UNSET
    price: float | None = strawberry.UNSET
    description: str | None = strawberry.UNSET

    def to_model(self) -> models.ProductUpdate:
        return as_model(self, models.ProductUpdate)


@strawberry.input
class CreatePostInput:
    title: str | None = required()
    content: str = ""

    def to_model(self) -> models.PostCreate:
        return as_model(self, models.PostCreate)


@strawberry.input(description="The fields to change; null clears a field.")
class UpdateProfileInput:
    bio: str | None = strawberry.UNSET
    avatar_url: str | None = strawberry.UNSET

    def to_model(self) -> models.ProfileUpdate:
        return as_model(self, models.ProfileUpdate)


@strawberry.input(description="The contact form.")
class ContactInput:
    # Left out, a field is empty: the model gives its legacy message.
    name: str | None = strawberry.UNSET
    email: str | None = strawberry.UNSET
    message: str | None = strawberry.UNSET

    def to_model(self) -> models.ContactSubmission:
        return as_model(self, models.ContactSubmission)


_SORT_FIELDS: Final[dict[ProductSortField, SortField]] = {
    ProductSortField.CREATED_AT: "createdAt",
    ProductSortField.PRICE: "price",
    ProductSortField.NAME: "name",
}


@strawberry.input(description="How to sort products.")
class ProductOrder:
    field: ProductSortField = ProductSortField.CREATED_AT
    direction: SortDirection = SortDirection.ASC

    @property
    def sort_field(self) -> SortField:
        return _SORT_FIELDS[self.field]

    @property
    def descending(self) -> bool:
        return self.direction is SortDirection.DESC
