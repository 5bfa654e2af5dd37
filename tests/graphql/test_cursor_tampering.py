"""A forged or damaged cursor is bad input ("Invalid cursor"), never an internal error."""

from __future__ import annotations

import base64
import logging
from datetime import UTC, datetime
from typing import Any

import bson
import pytest
from bson import ObjectId

from gateway.config import Settings
from gateway.models import ProductCreate
from gateway.pagination import MAX_CURSOR_LENGTH, CursorCodec, SortKey
from tests.conftest import OPERATOR
from tests.graphql.support import code, data, error

PRODUCTS = """query($c: String, $b: String, $field: ProductSortField!) {
  products(first: 2, after: $c, before: $b, orderBy: {field: $field, direction: ASC}) {
    edges { cursor node { id name price } }
    pageInfo { hasNextPage endCursor }
  }
}"""

USERS = """query($c: String, $b: String) {
  users(first: 2, after: $c, before: $b) {
    edges { cursor node { id } }
    pageInfo { hasNextPage endCursor }
  }
}"""

STORED = {"PRICE": "price", "NAME": "name", "CREATED_AT": "createdMs"}
WRONG: dict[str, list[Any]] = {
    "PRICE": ["cheap", True, None, datetime(2026, 1, 1, tzinfo=UTC), {"$gt": 0}, ObjectId()],
    "NAME": [2.5, 7, None, datetime(2026, 1, 1, tzinfo=UTC), ["a"], ObjectId()],
    "CREATED_AT": [datetime(2026, 1, 1, tzinfo=UTC), 1.5, "1767225600000", False, None],
}


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.fixture
def codec(settings: Settings) -> CursorCodec:
    """Signs as the test app does: its cursors carry a valid signature."""
    return CursorCodec(settings.jwt_secret)


@pytest.fixture
async def products(services) -> None:
    for n, (name, price) in enumerate([("Lamp", 5.0), ("Desk", 1.5), ("Mug", 3.0), ("Vase", 2)]):
        await services.products.create(
            OPERATOR, ProductCreate(name=f"{name} {n}", category="c", price=price)
        )


@pytest.fixture
def no_unexpected_errors(caplog: pytest.LogCaptureFixture):
    """Nothing here is logged as an unexpected error."""
    with caplog.at_level(logging.WARNING, logger="gateway"):
        yield
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text


async def refused(client, query, variables, headers=None, argument="after") -> None:
    err = await error(client, query, variables, headers)
    assert (code(err), err["message"]) == ("BAD_USER_INPUT", "Invalid cursor"), err
    assert err["extensions"]["details"] == [f"{argument}: invalid cursor"]


def damaged(cursor: str) -> list[str]:
    """A real cursor, damaged every way a client could."""
    raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    flips = [b64(raw[:at] + bytes([raw[at] ^ 0x10]) + raw[at + 1 :]) for at in range(len(raw))]
    return [
        *flips,
        cursor[:-1],
        cursor[:-4],
        cursor[:10],
        b64(raw[:-16]),  # no signature
        cursor + "A",
        cursor + "=",
        cursor[:10] + "é" + cursor[11:],
        cursor + "\U0001f642",
    ]


NOT_CURSORS = [
    "",
    "garbage",
    "%%%",
    str(ObjectId()),
    "\uff43\uff55\uff52\uff53\uff4f\uff52",
    "A" * (MAX_CURSOR_LENGTH + 1),
    "A" * 200_000,
]


@pytest.mark.usefixtures("products", "no_unexpected_errors")
@pytest.mark.parametrize("field", ["PRICE", "NAME", "CREATED_AT"])
async def test_a_signed_cursor_of_the_wrong_type_is_bad_input(client, codec, field):
    sort = SortKey(STORED[field], 1, object)
    for value in WRONG[field]:
        forged = codec.encode("products", sort, {"_id": ObjectId(), STORED[field]: value})
        await refused(client, PRODUCTS, {"c": forged, "field": field})
        await refused(client, PRODUCTS, {"b": forged, "field": field}, argument="before")


@pytest.mark.usefixtures("products", "no_unexpected_errors")
async def test_unsigned_cursors_of_the_old_format_are_bad_input(client):
    for value in ("cheap", 2.0, datetime(2026, 1, 1, tzinfo=UTC)):
        old = b64(bson.encode({"k": "price:1", "v": value, "i": ObjectId()}))
        await refused(client, PRODUCTS, {"c": old, "field": "PRICE"})


@pytest.mark.usefixtures("products", "no_unexpected_errors")
async def test_a_cursor_of_another_key_is_bad_input(client, codec):
    first = (await data(client, PRODUCTS, {"field": "PRICE"}))["products"]
    node = first["edges"][1]["node"]
    doc = {"_id": ObjectId(node["id"]), "price": float(node["price"])}
    sort = SortKey("price", 1, float)
    assert codec.encode("products", sort, doc) == first["pageInfo"]["endCursor"]
    other = CursorCodec("some other deployment's secret, long enough")
    await refused(client, PRODUCTS, {"c": other.encode("products", sort, doc), "field": "PRICE"})


@pytest.mark.usefixtures("products", "no_unexpected_errors")
async def test_damaged_and_foreign_cursors_are_bad_input(client):
    first = (await data(client, PRODUCTS, {"field": "PRICE"}))["products"]
    real = first["pageInfo"]["endCursor"]
    for bad in [*damaged(real), *NOT_CURSORS]:
        await refused(client, PRODUCTS, {"c": bad, "field": "PRICE"})
    for other in ("NAME", "CREATED_AT"):  # a cursor from one sort under another
        await refused(client, PRODUCTS, {"c": real, "field": other})
    # The real one still pages on.
    second = (await data(client, PRODUCTS, {"c": real, "field": "PRICE"}))["products"]
    prices = [e["node"]["price"] for e in first["edges"] + second["edges"]]
    assert prices == [1.5, 2.0, 3.0, 5.0]
    assert not second["pageInfo"]["hasNextPage"]


@pytest.mark.usefixtures("products", "no_unexpected_errors")
async def test_users_refuse_forged_cursors(client, codec, alice, bob, admin):
    headers = alice["headers"]
    first = (await data(client, USERS, {}, headers))["users"]
    real = first["pageInfo"]["endCursor"]
    for bad in [*damaged(real), *NOT_CURSORS]:
        await refused(client, USERS, {"c": bad}, headers)
        await refused(client, USERS, {"b": bad}, headers, argument="before")
    sort = SortKey("createdMs", 1, object)
    for value in WRONG["CREATED_AT"]:
        forged = codec.encode("users", sort, {"_id": ObjectId(), "createdMs": value})
        await refused(client, USERS, {"c": forged}, headers)
    # A products cursor under the same sort (createdMs ascending) is not a users cursor.
    products = (await data(client, PRODUCTS, {"field": "CREATED_AT"}))["products"]
    await refused(client, USERS, {"c": products["pageInfo"]["endCursor"]}, headers)
    rest = (await data(client, USERS, {"c": real}, headers))["users"]
    assert [e["node"]["id"] for e in first["edges"] + rest["edges"]] == [
        alice["id"],
        bob["id"],
        admin["id"],
    ]
