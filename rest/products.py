"""``/api/products``: listing with category filter and pages, admin writes."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import FromPath

from gateway.models import Product, ProductCreate, ProductUpdate
from gateway.pagination import page_params
from rest._http import ActorDep, ServicesDep, plain_query, read_json

__all__ = ["ProductController"]

AnyRequest = Request[Any, Any, Any]
DEFAULT_LIMIT = 10


class ProductController(Controller):
    path = "/api/products"

    @get("/")
    async def list_products(self, request: AnyRequest, services: ServicesDep) -> dict[str, Any]:
        query = plain_query(request, "category", "page", "limit")
        page = await services.products.page(
            query["category"], page_params(query["page"], query["limit"], DEFAULT_LIMIT)
        )
        return {
            "products": page.items,
            "pagination": {
                "page": page.page,
                "limit": page.limit,
                "total": page.total,
                "pages": page.pages,
            },
        }

    @post("/")
    async def create_product(
        self, request: AnyRequest, services: ServicesDep, actor: ActorDep
    ) -> Response[Product]:
        product = await services.products.create(actor, await read_json(request, ProductCreate))
        return Response(product, status_code=201, headers={"Location": f"{self.path}/{product.id}"})

    @get("/{product_id:str}")
    async def get_product(self, services: ServicesDep, product_id: FromPath[str]) -> Product:
        return await services.products.get(product_id)

    @put("/{product_id:str}")
    async def update_product(
        self, request: AnyRequest, services: ServicesDep, actor: ActorDep, product_id: FromPath[str]
    ) -> Product:
        data = await read_json(request, ProductUpdate)
        return await services.products.update(actor, product_id, data)

    @delete("/{product_id:str}")
    async def delete_product(
        self, services: ServicesDep, actor: ActorDep, product_id: FromPath[str]
    ) -> None:
        await services.products.delete(actor, product_id)
