"""``/api/users``: sign-up, listing, detail, updates, deletion, and who may do what."""

from __future__ import annotations

import pytest

from gateway.models import PostCreate, ProfileUpdate
from gateway.services import Actor
from tests.conftest import make_user

SIGNUP = {"name": "  Carol  ", "email": "Carol@Example.COM", "password": "carol-pass-1"}


async def _count(db, **query) -> int:
    return await db["users"].count_documents(query)


async def test_signup(client, db):
    response = await client.post("/api/users", json=SIGNUP)
    assert response.status_code == 201
    user = response.json()
    assert user["name"] == "Carol" and user["email"] == "carol@example.com"
    assert user["role"] == "user"
    assert set(user) == {"id", "name", "email", "role", "createdAt", "updatedAt", "version"}
    assert user["version"] == 1
    assert user["createdAt"].endswith("Z")
    assert response.headers["location"] == f"/api/users/{user['id']}"
    stored = await db["users"].find_one({"email": "carol@example.com"})
    assert stored["passwordHash"].startswith("$argon2id$")
    assert "carol-pass-1" not in str(stored)


async def test_duplicate_email_is_409_whatever_the_case(client, db):
    assert (await client.post("/api/users", json=SIGNUP)).status_code == 201
    again = {**SIGNUP, "email": "CAROL@example.com"}
    response = await client.post("/api/users", json=again)
    assert response.status_code == 409
    assert response.json()["error"]
    assert await _count(db) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": " a "}, "name"),
        ({"name": "x" * 51}, "name"),
        ({"email": "not-an-email"}, "email"),
        ({"password": "short"}, "password"),
        ({"password": "x" * 129}, "password"),
        ({"name": 42}, "name"),
        ({"email": {"$gt": ""}}, "email"),
        ({"extra": True}, "extra"),
    ],
)
async def test_signup_validation(client, db, change, field):
    response = await client.post("/api/users", json={**SIGNUP, **change})
    assert response.status_code == 400
    body = response.json()
    assert body["error"] and any(field in d for d in body["details"])
    assert await _count(db) == 0


async def test_signup_cannot_set_role(client, db, alice):
    for headers in ({}, alice["headers"]):
        for role in ("admin", "user"):
            response = await client.post(
                "/api/users", json={**SIGNUP, "role": role}, headers=headers
            )
            assert response.status_code == 403
    assert await _count(db, email="carol@example.com") == 0


async def test_admin_creates_admin(client, admin):
    response = await client.post(
        "/api/users", json={**SIGNUP, "role": "admin"}, headers=admin["headers"]
    )
    assert response.status_code == 201
    assert response.json()["role"] == "admin"


async def test_list_requires_sign_in_and_pages(client, services, alice):
    assert (await client.get("/api/users")).status_code == 401
    for i in range(4):
        await make_user(services, name=f"User {i}")
    response = await client.get("/api/users?page=2&limit=2", headers=alice["headers"])
    assert response.status_code == 200
    assert len(response.json()) == 2
    assert response.headers["x-total-count"] == "5"
    links = response.headers["link"]
    for rel, page in (("first", 1), ("prev", 1), ("next", 3), ("last", 3)):
        assert f'</api/users?page={page}&limit=2>; rel="{rel}"' in links
    last = await client.get("/api/users?page=3&limit=2", headers=alice["headers"])
    assert len(last.json()) == 1 and 'rel="next"' not in last.headers["link"]


async def test_list_hides_other_emails(client, alice, bob, admin):
    users = (await client.get("/api/users", headers=alice["headers"])).json()
    by_id = {u["id"]: u for u in users}
    assert by_id[alice["id"]]["email"] == alice["email"]
    assert "email" not in by_id[bob["id"]]
    users = (await client.get("/api/users", headers=admin["headers"])).json()
    assert all("email" in u for u in users)


@pytest.mark.parametrize("query", ["page=0", "limit=101", "limit=0", "page=x", "limit=1.5"])
async def test_bad_paging_is_400(client, alice, query):
    response = await client.get(f"/api/users?{query}", headers=alice["headers"])
    assert response.status_code == 400
    assert response.json()["details"]


async def test_detail_with_posts_and_profile(client, services, alice, bob):
    actor = Actor(id=alice["id"], role="user", email=alice["email"], name="Alice")
    for title in ("first", "second"):
        await services.posts.create(actor, PostCreate(title=title, content="..."))
    await services.profiles.update(actor, ProfileUpdate(bio="Hi", avatar_url="/a.png"))
    response = await client.get(f"/api/users/{alice['id']}", headers=bob["headers"])
    assert response.status_code == 200
    user = response.json()
    assert [p["title"] for p in user["posts"]] == ["second", "first"]
    assert user["profile"] == {"bio": "Hi", "avatarUrl": "/a.png"}
    assert "email" not in user
    own = (await client.get(f"/api/users/{bob['id']}", headers=bob["headers"])).json()
    assert own["posts"] == [] and own["profile"] is None and own["email"] == bob["email"]


@pytest.mark.parametrize("user_id", ["0" * 24, "nothex", "abc", "6b0262869605499abc58d8951"])
async def test_detail_not_found(client, alice, user_id):
    response = await client.get(f"/api/users/{user_id}", headers=alice["headers"])
    assert response.status_code == 404
    assert response.json() == {"error": "User not found"}


async def test_self_update(client, db, alice):
    response = await client.put(
        f"/api/users/{alice['id']}",
        json={"name": " Alicia ", "email": "ALICIA@example.com"},
        headers=alice["headers"],
    )
    assert response.status_code == 200
    body = response.json()
    assert (body["name"], body["email"]) == ("Alicia", "alicia@example.com")
    assert body["updatedAt"] >= body["createdAt"]


async def test_update_others_is_403_and_changes_nothing(client, db, alice, bob):
    response = await client.put(
        f"/api/users/{bob['id']}", json={"name": "Hacked"}, headers=alice["headers"]
    )
    assert response.status_code == 403
    assert (await db["users"].find_one({"email": bob["email"]}))["name"] == "Bob"


async def test_self_role_change_is_403(client, db, alice):
    response = await client.put(
        f"/api/users/{alice['id']}", json={"role": "admin", "name": "Al"}, headers=alice["headers"]
    )
    assert response.status_code == 403
    stored = await db["users"].find_one({"email": alice["email"]})
    assert (stored["role"], stored["name"]) == ("user", "Alice")


async def test_admin_changes_role(client, alice, admin):
    response = await client.put(
        f"/api/users/{alice['id']}", json={"role": "admin"}, headers=admin["headers"]
    )
    assert response.status_code == 200 and response.json()["role"] == "admin"


async def test_update_email_conflict(client, db, alice, bob):
    response = await client.put(
        f"/api/users/{alice['id']}", json={"email": bob["email"].upper()}, headers=alice["headers"]
    )
    assert response.status_code == 409
    assert await _count(db, email=bob["email"]) == 1
    assert await _count(db, email=alice["email"]) == 1


async def test_update_validation_and_auth(client, alice):
    path = f"/api/users/{alice['id']}"
    assert (await client.put(path, json={"name": "Zed"})).status_code == 401
    response = await client.put(path, json={"password": "short"}, headers=alice["headers"])
    assert response.status_code == 400
    response = await client.put(path, json={"nope": 1}, headers=alice["headers"])
    assert response.status_code == 400
    missing = await client.put(
        f"/api/users/{'0' * 24}", json={"name": "Zed"}, headers=alice["headers"]
    )
    assert missing.status_code == 404


async def test_legacy_query_forms(client, db, alice, bob):
    response = await client.put(
        f"/api/users?id={alice['id']}", json={"name": "Legacy"}, headers=alice["headers"]
    )
    assert response.status_code == 200 and response.json()["name"] == "Legacy"
    response = await client.put("/api/users", json={"name": "Legacy"}, headers=alice["headers"])
    assert response.status_code == 400
    response = await client.delete("/api/users", headers=alice["headers"])
    assert response.status_code == 400
    response = await client.delete(f"/api/users?id={bob['id']}", headers=alice["headers"])
    assert response.status_code == 403
    response = await client.delete(f"/api/users?id={alice['id']}", headers=alice["headers"])
    assert response.status_code == 204
    assert await _count(db, email=alice["email"]) == 0


async def test_delete_removes_posts_and_profile(client, db, services, alice, bob, admin):
    actor = Actor(id=alice["id"], role="user", email=alice["email"], name="Alice")
    await services.posts.create(actor, PostCreate(title="mine"))
    await services.profiles.update(actor, ProfileUpdate(bio="bio"))
    assert (
        await client.delete(f"/api/users/{alice['id']}", headers=bob["headers"])
    ).status_code == 403
    assert await db["posts"].count_documents({}) == 1
    response = await client.delete(f"/api/users/{alice['id']}", headers=admin["headers"])
    assert response.status_code == 204 and response.content == b""
    assert await db["posts"].count_documents({}) == 0
    assert await db["profiles"].count_documents({}) == 0
    response = await client.delete(f"/api/users/{alice['id']}", headers=admin["headers"])
    assert response.status_code == 404
