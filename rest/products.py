"""``/api/products``: listing with category filter and pages, admin writes."""

from __future__ import annotations

from typing import Any, TypedDict

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import FromPath

from gateway.http import ActorDep, ServicesDep
from gateway.models import Product, ProductCreate, ProductUpdate
from gateway.pagination import page_params
from gateway.record_validators import of_page, of_product
from rest._http import plain_query, read_json
from rest.caching import conditional, expected, shared
from rest.openapi import (
    CONDITIONAL_GET,
    IF_MATCH,
    LOCATION,
    PAGE,
    SIGNED_IN,
    VALIDATORS,
    json_body,
    limit_parameter,
    operation,
    parameter,
)

__all__ = ["ProductController"]

AnyRequest = Request[Any, Any, Any]
DEFAULT_LIMIT = 10


class Pagination(TypedDict):
    page: int
    limit: int
    total: int
    pages: int


class ProductPage(TypedDict):
    products: list[Product]
    pagination: Pagination


# --- the OpenAPI document (rest/openapi.py) ---
_NEW_PRODUCT = json_body(ProductCreate, "The new product.")
_CHANGES = json_body(ProductUpdate, "The fields to change (those left out are kept).")
_PRODUCT_ID = parameter("product_id", "path", "The product's id.")
_NEW_VALIDATORS = {name: VALIDATORS[name] for name in ("ETag", "Last-Modified")}
_CATEGORY = parameter("category", "query", "Only products of this category (matched as is).")


class ProductController(Controller):
    path = "/api/products"
    tags = ("products",)

    @get(
        "/",
        summary="List products",
        operation_class=operation(
            parameters=[_CATEGORY, PAGE, limit_parameter(DEFAULT_LIMIT), *CONDITIONAL_GET],
            headers=VALIDATORS,
            errors=(304, 400, 503),
        ),
    )
    async def list_products(
        self, request: AnyRequest, services: ServicesDep
    ) -> Response[ProductPage]:
        query = plain_query(request, "category", "page", "limit")
        page = await services.products.page(
            query["category"], page_params(query["page"], query["limit"], DEFAULT_LIMIT)
        )
        body: ProductPage = {
            "products": page.items,
            "pagination": {
                "page": page.page,
                "limit": page.limit,
                "total": page.total,
                "pages": page.pages,
            },
        }
        validators = of_page(page.items, query["category"], page.page, page.limit, page.total)
        return conditional(request, body, validators, shared(request), by_date=False)

    @post(
        "/",
        summary="Create a product",
        description="Admins only.",
        security=SIGNED_IN,
        operation_class=operation(
            body=_NEW_PRODUCT,
            headers={"Location": LOCATION},
            errors=(400, 401, 403, 408, 413, 415, 503),
        ),
    )
    async def create_product(
        self, request: AnyRequest, services: ServicesDep, actor: ActorDep
    ) -> Response[Product]:
        product = await services.products.create(actor, await read_json(request, ProductCreate))
        return Response(product, status_code=201, headers={"Location": f"{self.path}/{product.id}"})

    @get(
        "/{product_id:str}",
        summary="Read a product",
        operation_class=operation(
            parameters=[_PRODUCT_ID, *CONDITIONAL_GET], headers=VALIDATORS, errors=(304, 404, 503)
        ),
    )
    async def get_product(
        self, request: AnyRequest, services: ServicesDep, product_id: FromPath[str]
    ) -> Response[Product]:
        product = await services.products.get(product_id)
        return conditional(request, product, of_product(product), shared(request))

    @put(
        "/{product_id:str}",
        summary="Update a product",
        description="Admins only.",
        security=SIGNED_IN,
        operation_class=operation(
            body=_CHANGES,
            parameters=[_PRODUCT_ID, IF_MATCH],
            headers=_NEW_VALIDATORS,
            errors=(400, 401, 403, 404, 408, 412, 413, 415, 503),
        ),
    )
    async def update_product(
        self, request: AnyRequest, services: ServicesDep, actor: ActorDep, product_id: FromPath[str]
    ) -> Response[Product]:
        data = await read_json(request, ProductUpdate)
        product = await services.products.update(actor, product_id, data, expected(request))
        return Response(product, headers=of_product(product).headers())

    @delete(
        "/{product_id:str}",
        summary="Delete a product",
        description="Admins only.",
        security=SIGNED_IN,
        operation_class=operation(
            parameters=[_PRODUCT_ID, IF_MATCH], errors=(401, 403, 404, 412, 503)
        ),
    )
    async def delete_product(
        self, request: AnyRequest, services: ServicesDep, actor: ActorDep, product_id: FromPath[str]
    ) -> None:
        await services.products.delete(actor, product_id, expected(request))
