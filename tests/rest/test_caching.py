"""Validators, 304, ``Cache-Control`` and ``Vary`` on the REST data and auth routes."""

from __future__ import annotations

from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime

from gateway.models import PostCreate, ProfileUpdate
from gateway.services import Actor
from tests.conftest import USER_PASSWORD

PRODUCT = {"name": "Lamp", "category": "home", "price": 19.5, "description": "Bright"}
# What a browser sends on a reload: revalidate, do not reuse. It must still get a 304.
NO_CACHE = {"Cache-Control": "no-cache"}
VALIDATORS = ("etag", "last-modified", "cache-control")


async def _product(client, admin, **change) -> dict:
    response = await client.post(
        "/api/products", json={**PRODUCT, **change}, headers=admin["headers"]
    )
    assert response.status_code == 201
    return response.json()


def _actor(user: dict) -> Actor:
    return Actor(id=user["id"], role=user["role"], email=user["email"], name=user["name"])


def _varies_by_authorization(response) -> bool:
    return "authorization" in {v.strip().lower() for v in response.headers["vary"].split(",")}


def _same_validators(first, second) -> None:
    for name in VALIDATORS:
        assert second.headers[name] == first.headers[name], name
    assert second.headers.get("vary") == first.headers.get("vary")


async def test_a_product_has_validators_and_answers_304(client, admin):
    product = await _product(client, admin)
    url = f"/api/products/{product['id']}"
    first = await client.get(url)
    assert first.status_code == 200
    assert first.headers["etag"] == '"v1"'
    assert parsedate_to_datetime(first.headers["last-modified"]).tzinfo is not None
    # The same for every caller: any cache may keep it, a short while.
    assert first.headers["cache-control"] == "public, max-age=10"

    for conditions in (
        {"If-None-Match": first.headers["etag"]},
        {"If-None-Match": f'"other", W/{first.headers["etag"]}'},  # weak comparison
        {"If-Modified-Since": first.headers["last-modified"]},
    ):
        again = await client.get(url, headers={**conditions, **NO_CACHE})
        assert again.status_code == 304, conditions
        assert again.content == b""
        _same_validators(first, again)

    stale = await client.get(url, headers={"If-None-Match": '"v0"'})
    assert stale.status_code == 200 and stale.json() == first.json()
    modified = parsedate_to_datetime(first.headers["last-modified"])
    older = format_datetime(modified - timedelta(seconds=1), usegmt=True)
    assert (await client.get(url, headers={"If-Modified-Since": older})).status_code == 200


async def test_a_changed_product_has_new_validators(client, admin):
    product = await _product(client, admin)
    url = f"/api/products/{product['id']}"
    first = await client.get(url)
    put = await client.put(url, json={"price": 5}, headers=admin["headers"])
    assert put.status_code == 200
    assert put.json()["version"] == 2 and put.headers["etag"] == '"v2"'
    assert put.headers["last-modified"]
    again = await client.get(url, headers={"If-None-Match": first.headers["etag"], **NO_CACHE})
    assert again.status_code == 200
    assert again.headers["etag"] == '"v2"' and again.json()["price"] == 5


async def test_a_product_page_has_validators_from_its_records(client, admin):
    ids = [(await _product(client, admin, name=f"P{n}"))["id"] for n in range(3)]
    url = "/api/products?page=1&limit=2"
    first = await client.get(url)
    assert first.status_code == 200 and first.headers["cache-control"] == "public, max-age=10"
    etag = first.headers["etag"]
    assert etag.startswith('"p')
    again = await client.get(url, headers={"If-None-Match": etag, **NO_CACHE})
    assert again.status_code == 304 and again.content == b""
    _same_validators(first, again)
    # Another page, another filter: other tags.
    assert (await client.get("/api/products?page=2&limit=2")).headers["etag"] != etag
    assert (await client.get(f"{url}&category=home")).headers["etag"] != etag

    # A change to a record on the page, or to the total, changes the tag.
    await client.put(f"/api/products/{ids[0]}", json={"price": 1}, headers=admin["headers"])
    changed = await client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    etag = changed.headers["etag"]
    await client.delete(f"/api/products/{ids[2]}", headers=admin["headers"])
    fewer = await client.get(url, headers={"If-None-Match": etag})
    assert fewer.status_code == 200 and fewer.json()["pagination"]["total"] == 2
    # A record leaving a page does not make its newest date newer: the date alone
    # never answers 304 for a page.
    since = {"If-Modified-Since": fewer.headers["last-modified"]}
    assert (await client.get(url, headers=since)).status_code == 200


async def test_a_user_is_private_and_varies_by_caller(client, alice, bob, admin):
    url = f"/api/users/{alice['id']}"
    own = await client.get(url, headers=alice["headers"])
    other = await client.get(url, headers=bob["headers"])
    by_admin = await client.get(url, headers=admin["headers"])
    assert "email" in own.json() and "email" not in other.json()
    for response in (own, other, by_admin):
        assert response.status_code == 200
        assert response.headers["cache-control"] == "private, no-cache"
        assert _varies_by_authorization(response)
        assert response.headers["etag"].startswith('"v1.')
    # Two bodies, two tags: no cache can hand one caller's copy to the other.
    assert own.headers["etag"] != other.headers["etag"]
    assert own.headers["etag"] == by_admin.headers["etag"]  # the same representation
    stale = await client.get(url, headers={**bob["headers"], "If-None-Match": own.headers["etag"]})
    assert stale.status_code == 200 and "email" not in stale.json()
    # Anonymous: refused, and nothing to keep.
    anonymous = await client.get(url)
    assert anonymous.status_code == 401
    assert anonymous.headers["cache-control"] == "no-store" and "etag" not in anonymous.headers


async def test_a_user_answers_304_until_their_posts_or_profile_change(client, services, alice, bob):
    url = f"/api/users/{alice['id']}"
    first = await client.get(url, headers=bob["headers"])
    tags = {first.headers["etag"]}
    for conditions in (
        {"If-None-Match": first.headers["etag"]},
        {"If-Modified-Since": first.headers["last-modified"]},
    ):
        again = await client.get(url, headers={**bob["headers"], **conditions, **NO_CACHE})
        assert again.status_code == 304 and again.content == b"", conditions
        _same_validators(first, again)

    async def changed() -> str:
        response = await client.get(
            url, headers={**bob["headers"], "If-None-Match": ", ".join(sorted(tags))}
        )
        assert response.status_code == 200
        assert response.headers["etag"] not in tags
        assert response.headers["etag"].startswith('"v1.')  # the user record did not change
        tags.add(response.headers["etag"])
        return response.headers["last-modified"]

    await services.posts.create(_actor(alice), PostCreate(title="news"))
    await changed()
    await services.profiles.update(_actor(alice), ProfileUpdate(bio="Hi"))
    await changed()
    await services.profiles.update(_actor(alice), ProfileUpdate(bio="Hello"))
    await changed()
    put = await client.put(url, json={"name": "Alicia"}, headers=alice["headers"])
    assert put.headers["etag"].startswith('"v2.')
    assert put.headers["cache-control"] == "private, no-cache"


async def test_a_user_page_has_validators(client, alice, bob):
    url = "/api/users?page=1&limit=10"
    first = await client.get(url, headers=alice["headers"])
    assert first.status_code == 200
    assert first.headers["cache-control"] == "private, no-cache"
    assert _varies_by_authorization(first)
    again = await client.get(
        url, headers={**alice["headers"], "If-None-Match": first.headers["etag"], **NO_CACHE}
    )
    assert again.status_code == 304 and again.content == b""
    _same_validators(first, again)
    # Bob sees Alice's record without her email (and his own with his): another body.
    other = await client.get(url, headers=bob["headers"])
    assert other.headers["etag"] != first.headers["etag"]


async def test_tokens_and_errors_are_never_stored(client, alice):
    login = await client.post(
        "/api/auth/login", json={"email": alice["email"], "password": USER_PASSWORD}
    )
    assert login.status_code == 200 and login.headers["cache-control"] == "no-store"
    protected = await client.get("/api/protected", headers=alice["headers"])
    assert protected.status_code == 200 and protected.headers["cache-control"] == "no-store"
    for refused in (
        await client.post("/api/auth/login", json={"email": alice["email"], "password": "x" * 9}),
        await client.get("/api/protected"),
        await client.get("/api/products/000000000000000000000000"),
        await client.get("/api/products?limit=0"),
    ):
        assert refused.status_code >= 400
        assert refused.headers["cache-control"] == "no-store"
