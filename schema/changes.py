"""What GraphQL subscriptions send: one change of a record, with the record as it is now.

A change is resolved like a query's answer, per event, with the subscriber's own
rights: the nested fields of a post's author, for instance, follow the same rules
(another user's email is null).
"""

from __future__ import annotations

import strawberry

from schema.enums import ChangeType
from schema.types import PostType, ProductType

__all__ = ["PostChange", "ProductChange"]

_EVENT_ID = (
    "The event's id, the same in every gateway process (a REST event stream's "
    "`Last-Event-ID` takes it)."
)


@strawberry.type(description="A product created, updated or deleted, by anyone.")
class ProductChange:
    type: ChangeType
    id: strawberry.ID = strawberry.field(description="The product's id.")
    product: ProductType | None = strawberry.field(
        description="The product as it is now; null when deleted."
    )
    event_id: str = strawberry.field(description=_EVENT_ID)


@strawberry.type(description="A post created, updated or deleted.")
class PostChange:
    type: ChangeType
    id: strawberry.ID = strawberry.field(description="The post's id.")
    post: PostType | None = strawberry.field(
        description="The post as it is now; null when deleted."
    )
    event_id: str = strawberry.field(description=_EVENT_ID)
