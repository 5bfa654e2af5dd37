"""Pins the embedded server's known quirks and the one place each is handled.

If a future nx-27017 fixes a quirk the first assertion of its test fails,
which is the signal to revisit the helper.
"""

from __future__ import annotations

import os
from datetime import datetime

import pytest
from bson import ObjectId
from pymongo.errors import OperationFailure

from gateway.db import count, created_ms, is_embedded, stamped, utcnow
from gateway.models import PostCreate, ProductCreate, ProductUpdate
from gateway.services import Actor
from tests.conftest import OPERATOR

EMBEDDED = not os.environ.get("GATEWAY_TEST_MONGODB_URI")


@pytest.mark.skipif(not EMBEDDED, reason="a quirk of the embedded server only")
async def test_objectid_equality_quirk_is_still_there(driver_db):
    oid = ObjectId()
    await driver_db["probe"].insert_one({"ref": oid})
    assert await driver_db["probe"].find_one({"ref": oid}) is None  # a real MongoDB finds it
    assert await driver_db["probe"].find_one({"ref": {"$in": [oid]}}) is not None


async def test_references_are_stored_as_strings(core, driver_db):
    # The services store references as strings, which match everywhere.
    author = Actor(id=str(ObjectId()), role="user", email="a@x.io", name="A")
    await core.posts.create(author, PostCreate(title="Hello"))
    posts = await core.posts.for_authors([author.id])
    assert [p.title for p in posts[author.id]] == ["Hello"]


async def test_count_uses_match_and_count(driver_db):
    await driver_db["things"].insert_many([{"c": i % 3} for i in range(30)])
    assert await count(driver_db["things"], {"c": 1}) == 10
    assert await count(driver_db["things"], {}) == 30
    assert await count(driver_db["things"], {"c": 9}) == 0


@pytest.mark.skipif(not EMBEDDED, reason="a quirk of the embedded server only")
async def test_an_index_on_id_breaks_inserts_so_sort_indexes_leave_it_out(driver_db):
    await driver_db["probe"].create_index([("k", 1), ("_id", 1)])
    with pytest.raises(OperationFailure):
        await driver_db["probe"].insert_one({"k": 1})
    assert await is_embedded(driver_db)
    indexes = await driver_db["products"].index_information()
    assert all("_id" not in dict(spec["key"]) for name, spec in indexes.items() if name != "_id_")
    await driver_db["products"].insert_one({"name": "ok", "price": 1})


@pytest.mark.skipif(not EMBEDDED, reason="a quirk of the embedded server only")
async def test_set_stores_datetimes_as_strings_so_updates_use_current_date(core, driver_db):
    result = await driver_db["probe"].insert_one({"x": 1})
    await driver_db["probe"].update_one({"_id": result.inserted_id}, {"$set": {"at": utcnow()}})
    assert isinstance((await driver_db["probe"].find_one())["at"], str)
    await driver_db["probe"].update_one({"_id": result.inserted_id}, stamped({"$set": {"x": 2}}))
    assert isinstance((await driver_db["probe"].find_one())["updatedAt"], datetime)


async def test_updates_keep_real_dates(core, driver_db):
    product = await core.products.create(OPERATOR, ProductCreate(name="p", category="c", price=1))
    updated = await core.products.update(OPERATOR, product.id, ProductUpdate(price=2))
    assert updated.updated_at >= updated.created_at
    stored = await driver_db["products"].find_one()
    assert isinstance(stored["updatedAt"], datetime)
    assert isinstance(stored["createdAt"], datetime)


async def test_creation_time_is_kept_as_a_number_to_sort_on(core, driver_db):
    product = await core.products.create(OPERATOR, ProductCreate(name="p", category="c", price=1))
    stored = await driver_db["products"].find_one()
    assert stored["createdMs"] == created_ms(product.created_at)
    indexes = await driver_db["products"].index_information()
    assert any(dict(spec["key"]).get("createdMs") for spec in indexes.values())
