"""``If-Match`` on ``PUT`` and ``DELETE`` of users and products: 412 when the record
changed since, checked in the write itself; no ``If-Match``: no check."""

from __future__ import annotations

import asyncio

from bson import ObjectId

from gateway.db import created_ms, ensure_indexes, utcnow
from gateway.models import PostCreate, ProfileUpdate
from gateway.services import Actor

PRODUCT = {"name": "Lamp", "category": "home", "price": 19.5, "description": "Bright"}
WRITERS = 12


async def _product(client, admin) -> tuple[str, str]:
    created = await client.post("/api/products", json=PRODUCT, headers=admin["headers"])
    url = f"/api/products/{created.json()['id']}"
    return url, (await client.get(url)).headers["etag"]


def _refused(response, why: str = "Version mismatch: the record changed since") -> None:
    assert response.status_code == 412, response.text
    assert response.json()["error"].startswith(why)
    assert response.headers["cache-control"] == "no-store"


async def test_put_with_the_current_tag_writes_and_a_stale_one_is_412(client, db, admin):
    url, etag = await _product(client, admin)
    headers = {**admin["headers"], "If-Match": etag}
    first = await client.put(url, json={"price": 1}, headers=headers)
    assert first.status_code == 200 and first.headers["etag"] == '"v2"'
    # The same tag again: the product moved on; nothing is written.
    _refused(await client.put(url, json={"price": 2}, headers=headers))
    stored = await db["products"].find_one({"_id": ObjectId(url.rsplit("/", 1)[1])})
    assert stored["price"] == 1 and stored["version"] == 2
    # A list naming the current tag, and `*`, match; a weak tag never does (strong comparison).
    listed = {**admin["headers"], "If-Match": f'"v1", {first.headers["etag"]}'}
    assert (await client.put(url, json={"price": 3}, headers=listed)).status_code == 200
    anything = {**admin["headers"], "If-Match": "*"}
    assert (await client.put(url, json={"price": 4}, headers=anything)).status_code == 200
    weak = {**admin["headers"], "If-Match": 'W/"v4"'}
    _refused(
        await client.put(url, json={"price": 5}, headers=weak),
        "Version mismatch: no version of the record was named",
    )
    # An empty change still checks the precondition.
    _refused(await client.put(url, json={}, headers=headers))
    # No If-Match: today's behaviour, whatever changed.
    assert (await client.put(url, json={"price": 6}, headers=admin["headers"])).status_code == 200


async def test_delete_with_a_stale_tag_is_412_and_deletes_nothing(client, db, admin):
    url, etag = await _product(client, admin)
    await client.put(url, json={"price": 1}, headers=admin["headers"])
    _refused(await client.delete(url, headers={**admin["headers"], "If-Match": etag}))
    assert (await client.get(url)).status_code == 200
    current = (await client.get(url)).headers["etag"]
    deleted = await client.delete(url, headers={**admin["headers"], "If-Match": current})
    assert deleted.status_code == 204
    # Gone: 404, whatever the precondition (`*` included).
    for tag in (current, "*"):
        missing = await client.delete(url, headers={**admin["headers"], "If-Match": tag})
        assert missing.status_code == 404
        put = await client.put(
            url, json={"price": 1}, headers={**admin["headers"], "If-Match": tag}
        )
        assert put.status_code == 404


async def test_of_many_writers_with_one_tag_exactly_one_wins(client, db, admin):
    url, etag = await _product(client, admin)
    headers = {**admin["headers"], "If-Match": etag}
    answers = await asyncio.gather(
        *(client.put(url, json={"name": f"Lamp {n}"}, headers=headers) for n in range(WRITERS))
    )
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [412] * (WRITERS - 1)
    winner = next(a for a in answers if a.status_code == 200).json()
    stored = await db["products"].find_one({"_id": ObjectId(winner["id"])})
    assert stored["name"] == winner["name"] and stored["version"] == 2


async def test_of_many_user_writers_with_one_tag_exactly_one_wins(client, db, alice):
    url = f"/api/users/{alice['id']}"
    etag = (await client.get(url, headers=alice["headers"])).headers["etag"]
    assert etag.startswith('"v1.')  # a detail's tag names the user's version
    headers = {**alice["headers"], "If-Match": etag}
    answers = await asyncio.gather(
        *(client.put(url, json={"name": f"Alice {n}"}, headers=headers) for n in range(WRITERS))
    )
    assert sorted(a.status_code for a in answers) == [200] + [412] * (WRITERS - 1)
    winner = next(a for a in answers if a.status_code == 200)
    assert winner.headers["etag"].startswith('"v2.')
    stored = await db["users"].find_one({"_id": ObjectId(alice["id"])})
    assert stored["name"] == winner.json()["name"] and stored["version"] == 2


async def test_a_refused_user_delete_deletes_nothing(client, db, services, alice):
    actor = Actor(id=alice["id"], role="user", email=alice["email"], name=alice["name"])
    await services.posts.create(actor, PostCreate(title="mine"))
    await services.profiles.update(actor, ProfileUpdate(bio="bio"))
    url = f"/api/users/{alice['id']}"
    etag = (await client.get(url, headers=alice["headers"])).headers["etag"]
    await client.put(url, json={"name": "Alicia"}, headers=alice["headers"])
    legacy = f"/api/users?id={alice['id']}"
    for target in (url, legacy):
        _refused(await client.delete(target, headers={**alice["headers"], "If-Match": etag}))
    assert await db["users"].count_documents({}) == 1
    assert await db["posts"].count_documents({}) == 1
    assert await db["profiles"].count_documents({}) == 1
    current = (await client.get(url, headers=alice["headers"])).headers["etag"]
    assert (
        await client.delete(url, headers={**alice["headers"], "If-Match": current})
    ).status_code == 204
    assert await db["posts"].count_documents({}) == 0


async def test_a_user_write_expecting_an_old_version_is_refused_by_every_form(client, alice):
    url = f"/api/users/{alice['id']}"
    stale = {**alice["headers"], "If-Match": '"v7"'}
    _refused(await client.put(url, json={"name": "Alicia"}, headers=stale))
    _refused(await client.put(f"/api/users?id={alice['id']}", json={"name": "X y"}, headers=stale))
    assert (await client.get(url, headers=alice["headers"])).json()["name"] == "Alice"


async def test_records_stored_before_versions_get_version_1(client, db, admin):
    """A record written by an earlier release has no version: start-up gives it 1, once."""
    now = utcnow()
    result = await db["products"].insert_one(
        {**PRODUCT, "createdAt": now, "createdMs": created_ms(now), "updatedAt": now}
    )
    await ensure_indexes(db)
    await ensure_indexes(db)  # idempotent
    stored = await db["products"].find_one({"_id": result.inserted_id})
    assert stored["version"] == 1
    url = f"/api/products/{result.inserted_id}"
    put = await client.put(url, json={"price": 1}, headers={**admin["headers"], "If-Match": '"v1"'})
    assert put.status_code == 200 and put.json()["version"] == 2
