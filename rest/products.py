"""``/api/products``: listing with category filter and pages, admin writes."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import JSONBody, PathParameter

from gateway.http import ActorDep, ServicesDep
from gateway.models import Product, ProductCreate, ProductUpdate
from gateway.pagination import PageNumber, PageParams, PageSize
from gateway.record_validators import of_page, of_product
from rest._http import StrictBody, check_request, query
from rest.caching import conditional, expected, shared
from rest.openapi import (
    CONDITIONAL_GET,
    IF_MATCH,
    LOCATION,
    NOT_MODIFIED,
    SIGNED_IN,
    VALIDATORS,
    operation,
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
ProductId = Annotated[str, PathParameter(description="The product's id.")]
_NEW_VALIDATORS = {name: VALIDATORS[name] for name in ("ETag", "Last-Modified")}


class ProductController(Controller):
    path = "/api/products"
    tags = ("products",)
    before_request = staticmethod(check_request)

    @get(
        "/",
        summary="List products",
        operation_class=operation(
            parameters=CONDITIONAL_GET,
            headers=VALIDATORS,
            others=NOT_MODIFIED,
            errors=(503,),
        ),
    )
    async def list_products(
        self,
        request: AnyRequest,
        services: ServicesDep,
        category: Annotated[
            str | None, query(description="Only products of this category (matched as is).")
        ] = None,
        page: Annotated[int, query(PageNumber)] = 1,
        limit: Annotated[int, query(PageSize)] = DEFAULT_LIMIT,
    ) -> Response[ProductPage]:
        found = await services.products.page(category, PageParams(page, limit))
        body: ProductPage = {
            "products": found.items,
            "pagination": {
                "page": found.page,
                "limit": found.limit,
                "total": found.total,
                "pages": found.pages,
            },
        }
        validators = of_page(found.items, category, found.page, found.limit, found.total)
        return conditional(request, body, validators, shared(request), by_date=False)

    @post(
        "/",
        summary="Create a product",
        description="Admins only.",
        security=SIGNED_IN,
        dto=StrictBody[ProductCreate],
        operation_class=operation(headers={"Location": LOCATION}, errors=(403, 503)),
    )
    async def create_product(
        self, data: JSONBody[ProductCreate], services: ServicesDep, actor: ActorDep
    ) -> Response[Product]:
        product = await services.products.create(actor, data)
        return Response(product, status_code=201, headers={"Location": f"{self.path}/{product.id}"})

    @get(
        "/{product_id:str}",
        summary="Read a product",
        operation_class=operation(
            parameters=CONDITIONAL_GET,
            headers=VALIDATORS,
            others=NOT_MODIFIED,
            errors=(404, 503),
        ),
    )
    async def get_product(
        self, request: AnyRequest, services: ServicesDep, product_id: ProductId
    ) -> Response[Product]:
        product = await services.products.get(product_id)
        return conditional(request, product, of_product(product), shared(request))

    @put(
        "/{product_id:str}",
        summary="Update a product",
        description="Admins only; the fields left out are kept.",
        security=SIGNED_IN,
        dto=StrictBody[ProductUpdate],
        operation_class=operation(
            parameters=[IF_MATCH], headers=_NEW_VALIDATORS, errors=(403, 404, 412, 503)
        ),
    )
    async def update_product(
        self,
        request: AnyRequest,
        data: JSONBody[ProductUpdate],
        services: ServicesDep,
        actor: ActorDep,
        product_id: ProductId,
    ) -> Response[Product]:
        product = await services.products.update(actor, product_id, data, expected(request))
        return Response(product, headers=of_product(product).headers())

    @delete(
        "/{product_id:str}",
        summary="Delete a product",
        description="Admins only.",
        security=SIGNED_IN,
        operation_class=operation(parameters=[IF_MATCH], errors=(403, 404, 412, 503)),
    )
    async def delete_product(
        self, request: AnyRequest, services: ServicesDep, actor: ActorDep, product_id: ProductId
    ) -> None:
        await services.products.delete(actor, product_id, expected(request))
