"""``/api/products``: public reads with filter and pages, admin-only writes."""

from __future__ import annotations

import msgspec
import pytest

from gateway.db import utcnow
from gateway.documents.products import new_product
from tests.conftest import listened_app
from tests.graphql.support import data
from tests.graphql.test_batching import CommandRecorder

PRODUCT = {"name": "Lamp", "category": "home", "price": 19.5, "description": "Bright"}


async def _create(client, admin, **change):
    response = await client.post(
        "/api/products", json={**PRODUCT, **change}, headers=admin["headers"]
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_create_and_read(client, admin):
    product = await _create(client, admin)
    assert set(product) == {
        "id", "name", "category", "price", "description", "createdAt", "updatedAt", "version",
    }  # fmt: skip
    assert product["version"] == 1
    assert product["createdAt"] == product["updatedAt"]
    response = await client.get(f"/api/products/{product['id']}")
    assert response.status_code == 200
    assert response.json() == product


async def test_description_is_optional(client, admin):
    product = await _create(client, admin, description=None)
    assert product["description"] is None
    body = {k: v for k, v in PRODUCT.items() if k != "description"}
    response = await client.post("/api/products", json=body, headers=admin["headers"])
    assert response.status_code == 201


async def test_writes_are_admin_only(client, db, admin, alice):
    product = await _create(client, admin)
    path = f"/api/products/{product['id']}"
    assert (await client.post("/api/products", json=PRODUCT)).status_code == 401
    response = await client.post("/api/products", json=PRODUCT, headers=alice["headers"])
    assert response.status_code == 403
    assert (await client.put(path, json={"price": 1}, headers=alice["headers"])).status_code == 403
    assert (await client.delete(path, headers=alice["headers"])).status_code == 403
    assert (await client.delete(path)).status_code == 401
    stored = await db["products"].find({}).to_list(None)
    assert len(stored) == 1
    assert stored[0]["price"] == 19.5


@pytest.mark.parametrize(
    "change",
    [
        {"name": ""},
        {"name": "   "},
        {"category": ""},
        {"price": -1},
        {"price": "12"},
        {"price": True},
        {"price": 1e13},
        {"unknown": 1},
        {"name": {"$ne": None}},
    ],
)
async def test_create_validation(client, db, admin, change):
    response = await client.post(
        "/api/products", json={**PRODUCT, **change}, headers=admin["headers"]
    )
    assert response.status_code == 400
    assert response.json()["details"]
    assert await db["products"].count_documents({}) == 0


async def test_nan_and_infinity_are_refused(client, db, admin):
    for price in (b"NaN", b"Infinity", b"-Infinity", b"1e400"):
        raw = b'{"name":"a","category":"b","price":' + price + b"}"
        response = await client.post(
            "/api/products",
            content=raw,
            headers={**admin["headers"], "Content-Type": "application/json"},
        )
        assert response.status_code == 400
    assert await db["products"].count_documents({}) == 0


async def test_update_and_delete(client, admin):
    product = await _create(client, admin)
    path = f"/api/products/{product['id']}"
    response = await client.put(
        path, json={"price": 25, "description": None}, headers=admin["headers"]
    )
    assert response.status_code == 200
    updated = response.json()
    assert (updated["price"], updated["description"], updated["name"]) == (25, None, "Lamp")
    assert updated["updatedAt"] > product["updatedAt"]
    response = await client.put(path, json={"price": -5}, headers=admin["headers"])
    assert response.status_code == 400
    assert (await client.get(path)).json()["price"] == 25
    assert (await client.delete(path, headers=admin["headers"])).status_code == 204
    assert (await client.get(path)).status_code == 404
    assert (await client.delete(path, headers=admin["headers"])).status_code == 404


@pytest.mark.parametrize("product_id", ["0" * 24, "xyz", "%24ne"])
async def test_not_found(client, admin, product_id):
    response = await client.get(f"/api/products/{product_id}")
    assert response.status_code == 404
    assert response.json() == {"error": "Product not found"}
    response = await client.put(
        f"/api/products/{product_id}", json={"price": 1}, headers=admin["headers"]
    )
    assert response.status_code == 404


async def test_list_filter_and_pages(client, admin):
    for i in range(7):
        await _create(client, admin, name=f"P{i}", category="a" if i < 5 else "b")
    body = (await client.get("/api/products?category=a&page=2&limit=2")).json()
    assert body["pagination"] == {"page": 2, "limit": 2, "total": 5, "pages": 3}
    assert [p["name"] for p in body["products"]] == ["P2", "P3"]
    body = (await client.get("/api/products")).json()
    assert body["pagination"] == {"page": 1, "limit": 10, "total": 7, "pages": 1}
    body = (await client.get("/api/products?category=none")).json()
    assert body == {"products": [], "pagination": {"page": 1, "limit": 10, "total": 0, "pages": 0}}


@pytest.mark.parametrize(
    "query",
    ["page=0", "page=-1", "limit=0", "limit=101", "page=abc", "limit=1&limit=2"],
)
async def test_bad_paging_is_400(client, query):
    response = await client.get(f"/api/products?{query}")
    assert response.status_code == 400
    assert response.json()["error"]


@pytest.mark.parametrize(
    "query",
    ["category[$ne]=x", "category[$gt]=", "$where=1", "category%5B%24ne%5D=x"],
)
async def test_operator_injection_in_query_is_refused(client, admin, query):
    await _create(client, admin)
    response = await client.get(f"/api/products?{query}")
    assert response.status_code == 400


async def test_operator_like_values_are_literal(client, admin):
    await _create(client, admin)
    body = (await client.get("/api/products?category=%7B%22%24ne%22%3A%22x%22%7D")).json()
    assert body["pagination"]["total"] == 0


@pytest.mark.parametrize("query", ["page=%C2%B2", "limit=%C2%B9", "page=%D9%A3"])
async def test_non_ascii_digits_are_400(client, query):
    response = await client.get(f"/api/products?{query}")
    assert response.status_code == 400


# --- totals kept between requests (gateway/totals.py) ---

TOTALS = "query($c: String) { products(first: 1, category: $c) { totalCount } }"


def _trusted() -> bool:
    return True


async def _totals(client) -> tuple[int, ...]:
    """Totals of all products, of category a and of b, by REST and by GraphQL (all must agree)."""
    found = []
    for category in (None, "a", "b"):
        query = "" if category is None else f"&category={category}"
        rest = (await client.get(f"/api/products?limit=1{query}")).json()["pagination"]["total"]
        graphql = (await data(client, TOTALS, {"c": category}))["products"]["totalCount"]
        assert rest == graphql
        found.append(rest)
    return tuple(found)


async def test_totals_are_exact_after_every_write_through_either_door(client, services, admin):
    services.products.totals.trust(_trusted)
    assert await _totals(client) == (0, 0, 0)
    first = await _create(client, admin, category="a")
    assert await _totals(client) == (1, 1, 0)
    create = "mutation($i: CreateProductInput!) { createProduct(input: $i) { id } }"
    i = {"name": "Mug", "category": "a", "price": 3}
    second = (await data(client, create, {"i": i}, admin["headers"]))["createProduct"]
    assert await _totals(client) == (2, 2, 0)
    path = f"/api/products/{first['id']}"
    response = await client.put(path, json={"category": "b"}, headers=admin["headers"])
    assert response.status_code == 200
    assert await _totals(client) == (2, 1, 1)
    update = (
        "mutation($id: ID!, $i: UpdateProductInput!) { updateProduct(id: $id, input: $i) { id } }"
    )
    await data(client, update, {"id": second["id"], "i": {"category": "b"}}, admin["headers"])
    assert await _totals(client) == (2, 0, 2)
    assert (await client.delete(path, headers=admin["headers"])).status_code == 204
    assert await _totals(client) == (1, 0, 1)
    delete = "mutation($id: ID!) { deleteProduct(id: $id) }"
    await data(client, delete, {"id": second["id"]}, admin["headers"])
    assert await _totals(client) == (0, 0, 0)


@pytest.mark.parametrize(
    ("ttl", "trusted", "commands"),
    [(5.0, True, 1), (5.0, False, 2), (0.0, True, 2)],
)
async def test_a_kept_total_leaves_one_command_per_page(
    settings, mongo_uri, db, ttl, trusted, commands
):
    """Kept, a total costs no command; untrusted (no change feed) or with a TTL of 0,
    every page counts."""
    recorder = CommandRecorder()
    settings = msgspec.structs.replace(settings, totals_cache_seconds=ttl)
    async with listened_app(settings, mongo_uri, recorder) as (app, http):
        now = utcnow()
        await db["products"].insert_many(
            [new_product(name=f"P{i}", category="a", price=1, description=None, created_at=now)
             for i in range(15)]
        )  # fmt: skip
        if trusted:  # after the direct writes, which only a change feed would report
            app.state.services.products.totals.trust(_trusted)
        for _ in range(2):
            recorder.commands.clear()
            body = (await http.get("/api/products?page=2&limit=10")).json()
            assert body["pagination"]["total"] == 15
            assert len(body["products"]) == 5
        # The page (a find), and the count (an aggregation) unless it is kept.
        names = [name for name, collection in recorder.commands if collection == "products"]
        assert sorted(names) == sorted(["find"] + ["aggregate"] * (commands - 1))
