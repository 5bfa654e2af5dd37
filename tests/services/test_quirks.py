"""Pins the embedded server's known quirks and the one place each is handled.

If a future nx-27017 fixes a quirk the first assertion of its test fails,
which is the signal to revisit the helper.
"""

from __future__ import annotations

import os
from datetime import datetime

import pytest
from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError, OperationFailure

from gateway.db import PerKey, count, created_ms, is_embedded, per_key, stamped, utcnow
from gateway.documents.file_paths import COLLECTION as CLAIMS
from gateway.models import PostCreate, ProductCreate, ProductUpdate, UserCreate
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
    user = await core.users.create(
        OPERATOR, UserCreate(name="Author", email="a@x.io", password="quirk-password-1")
    )
    author = Actor(id=user.id, role="user", email="a@x.io", name="Author")
    await core.posts.create(author, PostCreate(title="Hello"))
    posts, _ = await core.users.relations([author.id], posts=True, profile=False)
    assert [p.title for p in posts[author.id]] == ["Hello"]


@pytest.mark.skipif(not EMBEDDED, reason="a quirk of the embedded server only")
async def test_in_on_a_field_scans_the_collection_so_relations_load_per_key(driver_db):
    probe = driver_db["probe"]
    await probe.create_index([("ref", 1)])
    await probe.insert_many([{"ref": f"r{i % 50}"} for i in range(200)])
    in_plan = (await probe.find({"ref": {"$in": ["r1", "r2"]}}).explain())["queryPlanner"]
    eq_plan = (await probe.find({"ref": "r1"}).explain())["queryPlanner"]
    assert "SCAN probe" in str(in_plan["winningPlan"])  # a real MongoDB uses the index
    assert "USING INDEX" in str(eq_plan["winningPlan"])
    # Under a compound index, a find tests each document in turn (find_page's offset pages
    # are aggregations for that).
    await probe.create_index([("tag", 1), ("n", 1)])
    compound_plan = (await probe.find({"tag": "t"}).explain())["queryPlanner"]
    assert "CORRELATED" in str(compound_plan["winningPlan"])


async def test_per_key_runs_the_stages_for_each_key_in_one_command(driver_db):
    things = driver_db["things"]
    await things.insert_many([{"k": f"k{i % 3}", "n": i} for i in range(300)])
    newest = PerKey(things, "k", ({"$sort": {"n": -1}}, {"$limit": 40}), most_per_key=40)
    (docs,) = await per_key(["k2", "missing", "k0"], newest)
    assert [doc["k"] for doc in docs] == ["k2"] * 40 + ["k0"] * 40  # key by key, in order
    assert [doc["n"] for doc in docs[:3]] == [299, 296, 293]  # each key's own sort and limit
    assert [doc["n"] for doc in docs[40:43]] == [297, 294, 291]
    assert await per_key([], newest) == [[]]


async def test_per_key_answers_several_collections_in_one_command(driver_db):
    things, labels = driver_db["things"], driver_db["labels"]
    await things.insert_many([{"k": f"k{i % 3}", "n": i} for i in range(30)])
    await labels.insert_many([{"thing": "k0", "text": "zero"}, {"thing": "k1", "text": "one"}])
    newest = PerKey(things, "k", ({"$sort": {"n": -1}}, {"$limit": 2}), most_per_key=2)
    label = PerKey(labels, "thing")
    found_things, found_labels = await per_key(["k0", "k1", "k5"], newest, label)
    assert [(d["k"], d["n"]) for d in found_things] == [
        ("k0", 27),
        ("k0", 24),
        ("k1", 28),
        ("k1", 25),
    ]
    assert [(d["thing"], d["text"]) for d in found_labels] == [("k0", "zero"), ("k1", "one")]
    assert await per_key([], newest, label) == [[], []]


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


@pytest.mark.skipif(not EMBEDDED, reason="a quirk of the embedded server only")
async def test_find_and_modify_breaking_a_unique_index_answers_null_so_updates_use_update_one(
    driver_db,
):
    users = driver_db["users"]  # ensure_indexes made its email index unique
    await users.insert_many([{"email": "a@x.io"}, {"email": "b@x.io"}])
    changed = await users.find_one_and_update(
        {"email": "b@x.io"}, {"$set": {"email": "a@x.io"}}, return_document=ReturnDocument.AFTER
    )
    assert changed is None  # a real MongoDB raises DuplicateKeyError
    assert await users.count_documents({"email": "b@x.io"}) == 1  # and nothing changed
    with pytest.raises(DuplicateKeyError):
        await users.update_one({"email": "b@x.io"}, {"$set": {"email": "a@x.io"}})
    # Handled once, in UserService.update, which uses update_one (the race is in
    # tests/rest/test_user_races.py).


@pytest.mark.skipif(not EMBEDDED, reason="a quirk of the embedded server only")
async def test_gridfs_filename_index_is_not_enforced_so_paths_are_claimed_by_id(driver_db):
    # ensure_indexes asked for a unique index on fs.files.filename; the emulation keeps
    # an index of that name but lets duplicates in.
    indexes = await driver_db["fs.files"].index_information()
    assert any(dict(spec["key"]) == {"filename": 1} for spec in indexes.values())
    for file_id in ("f1", "f2"):  # a real MongoDB refuses the second
        await driver_db["fs.files"].insert_one(
            {
                "_id": file_id,
                "filename": "same",
                "length": 0,
                "chunkSize": 1,
                "uploadDate": utcnow(),
            }
        )
    assert len(await driver_db["fs.files"].find({"filename": "same"}).to_list(None)) == 2


async def test_a_duplicate_id_is_refused_on_insert_which_claims_file_paths(driver_db):
    # Everywhere, embedded included: what FileStore relies on for one file per path.
    await driver_db[CLAIMS].insert_one({"_id": "a/b.txt", "state": "uploading"})
    with pytest.raises(DuplicateKeyError):
        await driver_db[CLAIMS].insert_one({"_id": "a/b.txt", "state": "uploading"})
    assert await driver_db[CLAIMS].count_documents({}) == 1


@pytest.mark.skipif(not EMBEDDED, reason="a quirk of the embedded server only")
async def test_set_on_insert_quirk_is_still_there(driver_db):
    # Handled in gateway/ratelimit.py (DatabaseLimiter): it writes with $set instead.
    document = await driver_db["probe"].find_one_and_update(
        {"_id": "window"},
        {"$inc": {"hits": 1}, "$setOnInsert": {"ends": 5}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
    )
    assert document is not None and document["hits"] == 1
    assert "ends" not in document  # a real MongoDB sets it on the insert
