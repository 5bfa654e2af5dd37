"""Connections: paging both ways under every sort, with no gaps and no repeats."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson import ObjectId

from gateway.db import created_ms
from tests.conftest import make_user
from tests.graphql.support import code, data, error

PRODUCTS = """query($first: Int, $after: String, $last: Int, $before: String,
                    $category: String, $order: ProductOrder) {
  products(first: $first, after: $after, last: $last, before: $before,
           category: $category, orderBy: $order) {
    edges { cursor node { id name price createdAt } }
    nodes { id }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}"""

USERS = """query($first: Int, $after: String, $last: Int, $before: String) {
  users(first: $first, after: $after, last: $last, before: $before) {
    edges { cursor node { id } }
    nodes { id }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
  }
}"""

# Ties on every sort key: names, prices and creation times repeat.
ROWS = [
    ("Lamp", 5.0),
    ("Desk", 5.0),
    ("Lamp", 1.5),
    ("Chair", 10.0),
    ("Bowl", 5.0),
    ("Desk", 0.0),
    ("Mug", 10.0),
    ("Lamp", 5.0),
    ("Vase", 2.25),
    ("Chair", 0.0),
    ("Rug", 5.0),
    ("Mug", 7.0),
    ("Bowl", 1.5),
]
SAME_TIME = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def products(client, db) -> list[dict[str, Any]]:
    """The products as stored; every third shares one creation time."""
    created = [
        SAME_TIME if n % 3 == 0 else SAME_TIME + timedelta(minutes=n % 5) for n in range(len(ROWS))
    ]
    await db["products"].insert_many(
        [
            {
                "name": name,
                "category": "even" if price in (0.0, 10.0) else "odd",
                "price": price,
                "description": None,
                "createdAt": created[n],
                "createdMs": created_ms(created[n]),  # the stored sort key (gateway.db)
                "updatedAt": SAME_TIME,
            }
            for n, (name, price) in enumerate(ROWS)
        ]
    )
    return await db["products"].find().to_list(None)


def expected(docs: list[dict[str, Any]], field: str, descending: bool) -> list[str]:
    # The documented order: by the field, then by id, both in the asked direction.
    ordered = sorted(docs, key=lambda doc: (doc[field], doc["_id"]), reverse=descending)
    return [str(doc["_id"]) for doc in ordered]


async def walk(client, query, key, size, headers=None, forward=True, **args) -> list[str]:
    """Every id, page by page, checking each page's shape on the way."""
    seen: list[str] = []
    cursor = None
    while True:
        page_args = (
            {"first": size, "after": cursor} if forward else {"last": size, "before": cursor}
        )
        conn = (await data(client, query, {**args, **page_args}, headers))[key]
        ids = [edge["node"]["id"] for edge in conn["edges"]]
        info = conn["pageInfo"]
        assert [node["id"] for node in conn["nodes"]] == ids
        assert len(ids) <= size
        assert info["startCursor"] == (conn["edges"][0]["cursor"] if ids else None)
        assert info["endCursor"] == (conn["edges"][-1]["cursor"] if ids else None)
        more = info["hasNextPage"] if forward else info["hasPreviousPage"]
        # The other direction has more exactly when this walk has left something behind.
        assert (info["hasPreviousPage"] if forward else info["hasNextPage"]) == (cursor is not None)
        seen = seen + ids if forward else ids + seen
        if not more:
            return seen
        cursor = info["endCursor"] if forward else info["startCursor"]


@pytest.mark.parametrize("field", ["CREATED_AT", "PRICE", "NAME"])
@pytest.mark.parametrize("direction", ["ASC", "DESC"])
async def test_products_page_forward_and_back_under_each_sort(client, products, field, direction):
    stored = {"CREATED_AT": "createdAt", "PRICE": "price", "NAME": "name"}[field]
    order = {"field": field, "direction": direction}
    want = expected(products, stored, descending=direction == "DESC")
    for size in (1, 3, 5):
        assert await walk(client, PRODUCTS, "products", size, order=order) == want
        assert await walk(client, PRODUCTS, "products", size, forward=False, order=order) == want


async def test_products_default_order_is_oldest_first(client, products):
    conn = (await data(client, PRODUCTS, {"first": 100}))["products"]
    assert [node["id"] for node in conn["nodes"]] == expected(products, "createdAt", False)
    assert conn["totalCount"] == len(ROWS)
    assert conn["pageInfo"] == {
        "hasNextPage": False,
        "hasPreviousPage": False,
        "startCursor": conn["edges"][0]["cursor"],
        "endCursor": conn["edges"][-1]["cursor"],
    }


async def test_products_filter_by_category_while_paging(client, products):
    even = [doc for doc in products if doc["category"] == "even"]
    order = {"field": "PRICE", "direction": "DESC"}
    assert await walk(client, PRODUCTS, "products", 2, category="even", order=order) == expected(
        even, "price", descending=True
    )
    conn = (await data(client, PRODUCTS, {"first": 1, "category": "even"}))["products"]
    assert conn["totalCount"] == len(even)
    literal = (await data(client, PRODUCTS, {"first": 5, "category": '{"$ne": "x"}'}))["products"]
    assert literal["totalCount"] == 0  # an operator-looking category is a plain string


async def test_a_cursor_only_works_under_its_own_sort(client, products):
    first = (await data(client, PRODUCTS, {"first": 1, "order": {"field": "PRICE"}}))["products"]
    cursor = first["pageInfo"]["endCursor"]
    err = await error(client, PRODUCTS, {"first": 1, "after": cursor, "order": {"field": "NAME"}})
    assert (code(err), err["message"]) == ("BAD_USER_INPUT", "Invalid cursor")
    assert err["extensions"]["details"] == ["after: invalid cursor"]
    for bad in ("garbage", "", "%%%", str(ObjectId())):
        err = await error(client, PRODUCTS, {"first": 1, "before": bad})
        assert (code(err), err["message"]) == ("BAD_USER_INPUT", "Invalid cursor")
        assert err["extensions"]["details"] == ["before: invalid cursor"]


async def test_page_sizes_above_100_or_negative_are_bad_input(client, alice):
    for args in ({"first": 101}, {"last": 101}, {"first": -1}, {"first": 1, "last": 1}):
        err = await error(client, PRODUCTS, args)
        assert code(err) == "BAD_USER_INPUT", args
        assert err["extensions"]["details"]
        err = await error(client, USERS, args, alice["headers"])
        assert code(err) == "BAD_USER_INPUT", args
    assert (await data(client, PRODUCTS, {"first": 100}))["products"]["edges"] == []


async def test_first_zero_gives_an_empty_page_that_knows_there_is_more(client, products):
    conn = (await data(client, PRODUCTS, {"first": 0}))["products"]
    assert conn["edges"] == []
    assert conn["pageInfo"]["hasNextPage"] is True
    assert conn["totalCount"] == len(ROWS)


async def test_users_page_forward_and_back(client, services, admin, alice, bob):
    for n in range(4):
        await make_user(services, name=f"User {n}")
    everyone = (await data(client, USERS, {"first": 100}, admin["headers"]))["users"]
    ids = [node["id"] for node in everyone["nodes"]]
    assert len(ids) == everyone["totalCount"] == 7
    assert ids == sorted(ids)  # oldest (smallest id) first
    for size in (1, 2, 3, 7):
        assert await walk(client, USERS, "users", size, alice["headers"]) == ids
        assert await walk(client, USERS, "users", size, alice["headers"], forward=False) == ids


async def test_users_need_a_signed_in_caller(client, alice):
    err = await error(client, USERS, {"first": 5})
    assert (code(err), err["message"]) == ("UNAUTHENTICATED", "No token provided")
