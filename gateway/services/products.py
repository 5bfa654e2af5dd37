"""Products: anyone reads, admins write."""

from __future__ import annotations

import contextlib
from typing import Any, Literal

from msgspec import UNSET
from pymongo import ReturnDocument

from gateway.db import Database, id_filter, stamped, utcnow
from gateway.documents import FIRST_VERSION, products
from gateway.documents.products import new_product
from gateway.errors import NotFound
from gateway.models import Product, ProductCreate, ProductUpdate
from gateway.pagination import (
    CursorArgs,
    CursorCodec,
    CursorPage,
    OffsetPage,
    PageParams,
    SortKey,
    cursor_page,
    offset_page,
)
from gateway.services.policy import Actor, require_admin
from gateway.services.versions import Expected, refusal, version_filter
from gateway.totals import TotalsCache

__all__ = ["PRODUCT_NOT_FOUND", "ProductService", "SortField"]

PRODUCT_NOT_FOUND = "Product not found"
SortField = Literal["createdAt", "price", "name"]
# What each sort reads in the database (creation time as a number, see gateway.db),
# and the types stored there.
_SORT_KEYS: dict[SortField, tuple[str, type | tuple[type, ...]]] = {
    "createdAt": ("createdMs", int),
    "price": ("price", (int, float)),
    "name": ("name", str),
}


def to_product(doc: dict[str, Any]) -> Product:
    return Product(
        id=str(doc["_id"]),
        name=doc["name"],
        category=doc["category"],
        price=float(doc["price"]),
        description=doc.get("description"),
        created_at=doc["createdAt"],
        updated_at=doc["updatedAt"],
        version=doc.get("version", FIRST_VERSION),
    )


def _filter(category: str | None) -> dict[str, Any]:
    # The category is always a plain string here, so it matches literally. Totals are
    # kept per filter (``totals``): a write that changes what a filter matches forgets them.
    return {"category": category} if category else {}


class ProductService:
    def __init__(self, db: Database, cursors: CursorCodec, totals: TotalsCache) -> None:
        self._products = db[products.COLLECTION]
        self._cursors = cursors
        self._totals = totals

    @property
    def totals(self) -> TotalsCache:
        """The kept totals of product lists: to trust a change feed and invalidate on its events."""
        return self._totals

    async def page(self, category: str | None, params: PageParams) -> OffsetPage[Product]:
        return await offset_page(
            self._products, _filter(category), [("_id", 1)], params, to_product, self._totals
        )

    async def connection(
        self,
        args: CursorArgs,
        *,
        category: str | None = None,
        sort_field: SortField = "createdAt",
        descending: bool = False,
        with_total: bool = True,
    ) -> CursorPage[Product]:
        """Raises: ValidationFailed: bad paging arguments or cursor."""
        stored, kind = _SORT_KEYS[sort_field]
        sort = SortKey(stored, -1 if descending else 1, kind)
        return await cursor_page(
            self._products,
            _filter(category),
            sort,
            args,
            to_product,
            self._cursors,
            with_total=with_total,
            totals=self._totals,
        )

    async def get(self, product_id: str) -> Product:
        """Raises: NotFound."""
        doc = await self._products.find_one(id_filter(product_id, "Product"))
        if doc is None:
            raise NotFound(PRODUCT_NOT_FOUND)
        return to_product(doc)

    async def create(self, actor: Actor | None, data: ProductCreate) -> Product:
        """Raises: Unauthenticated, Forbidden (not an admin)."""
        require_admin(actor)
        doc = new_product(
            name=data.name,
            category=data.category,
            price=data.price,
            description=data.description,
            created_at=utcnow(),
        )
        with self._totals.writing():
            doc["_id"] = (await self._products.insert_one(doc)).inserted_id
        return to_product(doc)

    async def update(
        self,
        actor: Actor | None,
        product_id: str,
        data: ProductUpdate,
        expected: Expected = None,
    ) -> Product:
        """Change the product if it is at one of the ``expected`` versions (any, if None).

        Raises: Unauthenticated, Forbidden (not an admin), NotFound, PreconditionFailed.
        """
        require_admin(actor)
        by_id = id_filter(product_id, "Product")
        query = {**by_id, **version_filter(expected)}
        changes = {
            field: getattr(data, field)
            for field in ("name", "category", "price", "description")
            if getattr(data, field) is not UNSET
        }
        if changes:
            # Only the category decides what a filter matches; other changes keep the totals.
            with self._totals.writing() if "category" in changes else contextlib.nullcontext():
                doc = await self._products.find_one_and_update(
                    query, stamped({"$set": changes}), return_document=ReturnDocument.AFTER
                )
        else:
            doc = await self._products.find_one(query)
        if doc is None:
            raise await refusal(self._products, by_id, expected, PRODUCT_NOT_FOUND)
        return to_product(doc)

    async def delete(self, actor: Actor | None, product_id: str, expected: Expected = None) -> None:
        """Delete the product if it is at one of the ``expected`` versions (any, if None).

        Raises: Unauthenticated, Forbidden (not an admin), NotFound, PreconditionFailed.
        """
        require_admin(actor)
        by_id = id_filter(product_id, "Product")
        with self._totals.writing():
            result = await self._products.delete_one({**by_id, **version_filter(expected)})
        if result.deleted_count == 0:
            raise await refusal(self._products, by_id, expected, PRODUCT_NOT_FOUND)
