"""``version`` on users and products, and ``expectedVersion`` on their changes and deletions."""

from __future__ import annotations

import asyncio

from bson import ObjectId

from tests.conftest import USER_PASSWORD
from tests.graphql.support import ENDPOINT, code, data, error, gql

PRODUCT = "id name price version"
CREATE_PRODUCT = f"mutation($i: CreateProductInput!) {{ createProduct(input: $i) {{ {PRODUCT} }} }}"
UPDATE_PRODUCT = (
    "mutation($id: ID!, $i: UpdateProductInput!, $v: Int) "
    f"{{ updateProduct(id: $id, input: $i, expectedVersion: $v) {{ {PRODUCT} }} }}"
)
DELETE_PRODUCT = "mutation($id: ID!, $v: Int) { deleteProduct(id: $id, expectedVersion: $v) }"
UPDATE_USER = (
    "mutation($id: ID!, $i: UpdateUserInput!, $v: Int) "
    "{ updateUser(id: $id, input: $i, expectedVersion: $v) { id name version } }"
)
DELETE_USER = "mutation($id: ID!, $v: Int) { deleteUser(id: $id, expectedVersion: $v) }"
USER = "query($id: ID!) { user(id: $id) { version } }"
LAMP = {"name": "Lamp", "category": "home", "price": 12.5}
WRITERS = 12


def _conflict(err: dict, since: int) -> None:
    assert code(err) == "CONFLICT"
    assert err["message"] == f"Version mismatch: the record changed since version {since}"


async def test_a_product_counts_its_versions_and_refuses_a_stale_one(client, db, admin):
    h = admin["headers"]
    product = (await data(client, CREATE_PRODUCT, {"i": LAMP}, h))["createProduct"]
    assert product["version"] == 1
    ref = {"id": product["id"]}
    changed = await data(client, UPDATE_PRODUCT, {**ref, "i": {"price": 1}, "v": 1}, h)
    assert changed["updateProduct"]["version"] == 2
    _conflict(await error(client, UPDATE_PRODUCT, {**ref, "i": {"price": 2}, "v": 1}, h), 1)
    _conflict(await error(client, DELETE_PRODUCT, {**ref, "v": 1}, h), 1)
    stored = await db["products"].find_one({"_id": ObjectId(product["id"])})
    assert stored["price"] == 1 and stored["version"] == 2
    # Left out or null: no check, as before.
    unchecked = await data(client, UPDATE_PRODUCT, {**ref, "i": {"price": 3}}, h)
    assert unchecked["updateProduct"]["version"] == 3
    assert (await data(client, DELETE_PRODUCT, {**ref, "v": 3}, h))["deleteProduct"] is True
    assert code(await error(client, DELETE_PRODUCT, {**ref, "v": 3}, h)) == "NOT_FOUND"


async def test_of_many_product_writers_with_one_version_exactly_one_wins(client, db, admin):
    h = admin["headers"]
    product = (await data(client, CREATE_PRODUCT, {"i": LAMP}, h))["createProduct"]
    answers = await asyncio.gather(
        *(
            gql(client, UPDATE_PRODUCT, {"id": product["id"], "i": {"name": f"L{n}"}, "v": 1}, h)
            for n in range(WRITERS)
        )
    )
    won = [a["data"]["updateProduct"] for a in answers if "errors" not in a]
    assert len(won) == 1 and won[0]["version"] == 2
    for lost in (a for a in answers if "errors" in a):
        _conflict(lost["errors"][0], 1)
    stored = await db["products"].find_one({"_id": ObjectId(product["id"])})
    assert stored["name"] == won[0]["name"] and stored["version"] == 2


async def test_of_many_user_writers_with_one_version_exactly_one_wins(client, db, alice):
    h = alice["headers"]
    assert (await data(client, USER, {"id": alice["id"]}, h))["user"]["version"] == 1
    answers = await asyncio.gather(
        *(
            gql(client, UPDATE_USER, {"id": alice["id"], "i": {"name": f"Al {n}"}, "v": 1}, h)
            for n in range(WRITERS)
        )
    )
    won = [a["data"]["updateUser"] for a in answers if "errors" not in a]
    assert len(won) == 1 and won[0]["version"] == 2
    assert all(code(a["errors"][0]) == "CONFLICT" for a in answers if "errors" in a)
    stored = await db["users"].find_one({"_id": ObjectId(alice["id"])})
    assert stored["name"] == won[0]["name"] and stored["version"] == 2


async def test_a_user_deletion_expecting_an_old_version_deletes_nothing(client, db, alice):
    h = alice["headers"]
    await data(client, UPDATE_USER, {"id": alice["id"], "i": {"name": "Alicia"}}, h)
    _conflict(await error(client, DELETE_USER, {"id": alice["id"], "v": 1}, h), 1)
    assert await db["users"].count_documents({}) == 1
    assert (await data(client, DELETE_USER, {"id": alice["id"], "v": 2}, h))["deleteUser"] is True
    assert await db["users"].count_documents({}) == 0


async def test_no_graphql_answer_is_stored_by_a_cache(client, alice):
    """A login answers a token: neither it nor any other answer may be kept."""
    login = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token } }"
    variables = {"e": alice["email"], "p": USER_PASSWORD}
    response = await client.post(ENDPOINT, json={"query": login, "variables": variables})
    assert response.json()["data"]["login"]["token"]
    assert response.headers["cache-control"] == "no-store"
    query = await client.get(ENDPOINT, params={"query": "{ hello }"})
    assert query.status_code == 200 and query.headers["cache-control"] == "no-store"
