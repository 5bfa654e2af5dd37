"""The root ``Query`` type: each resolver calls one service and converts what it returns."""

from __future__ import annotations

import strawberry

from gateway.pagination import CursorArgs
from resolvers.context import Info
from schema import (
    Connection,
    FileType,
    ProductOrder,
    ProductType,
    UserType,
    connection,
    user_of,
    users_of,
    wants_total,
)
from schema.fields import field

__all__ = ["HELLO", "Query"]

HELLO = "Hello from the gateway"


@strawberry.type
class Query:
    @field("A greeting, to check the endpoint answers.")
    def hello(self) -> str:
        return HELLO

    @field("The signed-in caller; null when anonymous.")
    async def me(self, info: Info) -> UserType | None:
        actor = info.context.actor
        if actor is None:
            return None
        return await user_of(info, await info.context.services.users.get(actor, actor.id))

    @field("A user, by id (signed in).")
    async def user(self, info: Info, id: strawberry.ID) -> UserType:
        user = await info.context.services.users.get(info.context.actor, id)
        return await user_of(info, user)

    @field("All users, oldest first (signed in; pages of at most 100).")
    async def users(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
    ) -> Connection[UserType]:
        args = CursorArgs(first=first, after=after, last=last, before=before)
        page = await info.context.services.users.connection(
            info.context.actor, args, with_total=wants_total(info)
        )
        users = [edge.node for edge in page.edges]
        return connection(page, await users_of(info, users, ("nodes",), ("edges", "node")))

    @field("A product, by id.")
    async def product(self, info: Info, id: strawberry.ID) -> ProductType:
        return ProductType.from_model(await info.context.services.products.get(id))

    @field("Products, optionally of one category (pages of at most 100).")
    async def products(
        self,
        info: Info,
        first: int | None = None,
        after: str | None = None,
        last: int | None = None,
        before: str | None = None,
        category: str | None = None,
        order_by: ProductOrder | None = None,
    ) -> Connection[ProductType]:
        order = order_by or ProductOrder()
        page = await info.context.services.products.connection(
            CursorArgs(first=first, after=after, last=last, before=before),
            category=category,
            sort_field=order.sort_field,
            descending=order.descending,
            with_total=wants_total(info),
        )
        return connection(page, [ProductType.from_model(edge.node) for edge in page.edges])

    @field("A stored file's metadata, by path.")
    async def file(self, info: Info, path: str) -> FileType:
        return FileType.from_model(await info.context.services.files.meta(path))
