"""Mutations: what each writes, and that a refused one writes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from bson import ObjectId

from gateway.errors import NotFound
from gateway.models import PostCreate
from gateway.services import Actor
from tests.conftest import USER_PASSWORD
from tests.graphql.support import code, data, error

USER = "id name email role createdAt updatedAt"
PRODUCT = "id name category price description createdAt updatedAt"

LOGIN = f"mutation($e: String!, $p: String!) {{ login(email: $e, password: $p) {{ token user {{ {USER} }} }} }}"
CREATE_USER = f"mutation($i: CreateUserInput!) {{ createUser(input: $i) {{ {USER} }} }}"
UPDATE_USER = (
    f"mutation($id: ID!, $i: UpdateUserInput!) {{ updateUser(id: $id, input: $i) {{ {USER} }} }}"
)
DELETE_USER = "mutation($id: ID!) { deleteUser(id: $id) }"
CREATE_PRODUCT = f"mutation($i: CreateProductInput!) {{ createProduct(input: $i) {{ {PRODUCT} }} }}"
UPDATE_PRODUCT = f"mutation($id: ID!, $i: UpdateProductInput!) {{ updateProduct(id: $id, input: $i) {{ {PRODUCT} }} }}"
DELETE_PRODUCT = "mutation($id: ID!) { deleteProduct(id: $id) }"
CREATE_POST = "mutation($i: CreatePostInput!) { createPost(input: $i) { id title content createdAt author { id name } } }"
UPDATE_PROFILE = "mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { bio avatarUrl } }"
DELETE_FILE = "mutation($p: String!) { deleteFile(path: $p) }"
CONTACT = "mutation($i: ContactInput!) { submitContact(input: $i) { success message } }"

NEW_USER = {"name": "Carol", "email": "Carol@Example.com", "password": "long-password"}
LAMP = {"name": "Lamp", "category": "home", "price": 12.5, "description": "Bright"}


def actor(user: dict[str, Any]) -> Actor:
    return Actor(id=user["id"], role=user["role"], email=user["email"], name=user["name"])


async def stored_user(db, user_id: str) -> dict[str, Any] | None:
    found: dict[str, Any] | None = await db["users"].find_one({"_id": ObjectId(user_id)})
    return found


# login


async def test_login_gives_a_token_that_works(client, alice):
    login = (await data(client, LOGIN, {"e": alice["email"].upper(), "p": USER_PASSWORD}))["login"]
    assert login["user"]["id"] == alice["id"]
    assert login["user"]["email"] == alice["email"]
    headers = {"Authorization": f"Bearer {login['token']}"}
    assert (await data(client, "{ me { id } }", headers=headers))["me"]["id"] == alice["id"]


async def test_login_refuses_unknown_email_and_wrong_password_alike(client, alice):
    unknown = await error(client, LOGIN, {"e": "nobody@example.com", "p": USER_PASSWORD})
    wrong = await error(client, LOGIN, {"e": alice["email"], "p": "not the password"})
    for err in (unknown, wrong):
        assert (code(err), err["message"]) == ("UNAUTHENTICATED", "Invalid credentials")
    err = await error(client, LOGIN, {"e": "x" * 400, "p": "whatever"})
    assert code(err) == "BAD_USER_INPUT"


# createUser


async def test_sign_up(client, db):
    user = (await data(client, CREATE_USER, {"i": NEW_USER}))["createUser"]
    assert (user["name"], user["email"], user["role"]) == ("Carol", "carol@example.com", "user")
    assert user["createdAt"] == user["updatedAt"]
    doc = await stored_user(db, user["id"])
    assert doc is not None and doc["email"] == "carol@example.com"
    assert doc["passwordHash"] != NEW_USER["password"]
    login = await data(client, LOGIN, {"e": "carol@example.com", "p": "long-password"})
    assert login["login"]["user"]["id"] == user["id"]


@pytest.mark.parametrize(
    ("changes", "detail"),
    [
        ({"name": " A "}, "name: must be at least 2 characters after trimming"),
        ({"email": "not-an-email"}, "email: must be a valid email address"),
        ({"password": "short"}, "password"),
        ({"role": "superuser"}, "role"),
    ],
)
async def test_sign_up_refuses_bad_input_and_writes_nothing(client, db, changes, detail):
    err = await error(client, CREATE_USER, {"i": {**NEW_USER, **changes}})
    assert (code(err), err["message"]) == ("BAD_USER_INPUT", "Validation failed")
    assert any(line.startswith(detail) for line in err["extensions"]["details"])
    assert await db["users"].count_documents({}) == 0


async def test_sign_up_refuses_unknown_fields_before_running(client, db):
    for bad in ({**NEW_USER, "isAdmin": True}, {**NEW_USER, "email": {"$gt": ""}}):
        err = await error(client, CREATE_USER, {"i": bad})
        assert code(err) == "BAD_USER_INPUT"
        assert "path" not in err  # refused while checking variables, nothing ran
    assert await db["users"].count_documents({}) == 0


async def test_sign_up_with_a_taken_email_is_a_conflict(client, db, alice):
    err = await error(client, CREATE_USER, {"i": {**NEW_USER, "email": alice["email"].upper()}})
    assert (code(err), err["message"]) == ("CONFLICT", "Email already registered")
    assert await db["users"].count_documents({}) == 1


async def test_only_an_admin_sets_role_on_create(client, db, alice, admin):
    for headers in ({}, alice["headers"]):
        err = await error(client, CREATE_USER, {"i": {**NEW_USER, "role": "admin"}}, headers)
        assert (code(err), err["message"]) == ("FORBIDDEN", "Only an admin can set role")
        assert await db["users"].count_documents({"email": "carol@example.com"}) == 0
    made = await data(client, CREATE_USER, {"i": {**NEW_USER, "role": "admin"}}, admin["headers"])
    assert made["createUser"]["role"] == "admin"


# updateUser


async def test_partial_update_changes_only_what_was_sent(client, db, alice):
    before = await stored_user(db, alice["id"])
    user = (
        await data(
            client, UPDATE_USER, {"id": alice["id"], "i": {"name": "Alicia"}}, alice["headers"]
        )
    )["updateUser"]
    assert (user["name"], user["email"], user["role"]) == ("Alicia", alice["email"], "user")
    after = await stored_user(db, alice["id"])
    assert before is not None and after is not None
    assert after["passwordHash"] == before["passwordHash"]
    assert after["passwordVersion"] == before["passwordVersion"]
    assert user["updatedAt"] > alice["updatedAt"]


async def test_an_empty_update_changes_nothing(client, db, alice):
    before = await stored_user(db, alice["id"])
    user = await data(client, UPDATE_USER, {"id": alice["id"], "i": {}}, alice["headers"])
    assert user["updateUser"]["updatedAt"] == alice["updatedAt"]
    assert await stored_user(db, alice["id"]) == before


async def test_changing_the_password_revokes_older_tokens(client, alice):
    changed = {"id": alice["id"], "i": {"password": "a-new-password"}}
    await data(client, UPDATE_USER, changed, alice["headers"])
    err = await error(client, "{ me { id } }", headers=alice["headers"])
    assert (code(err), err["message"]) == ("UNAUTHENTICATED", "Invalid token")
    login = await data(client, LOGIN, {"e": alice["email"], "p": "a-new-password"})
    assert login["login"]["user"]["id"] == alice["id"]


async def test_users_change_only_themselves(client, db, alice, bob, admin):
    before = await stored_user(db, bob["id"])
    err = await error(
        client, UPDATE_USER, {"id": bob["id"], "i": {"name": "Hacked"}}, alice["headers"]
    )
    assert (code(err), err["message"]) == ("FORBIDDEN", "You may only change your own account")
    assert await stored_user(db, bob["id"]) == before
    err = await error(client, UPDATE_USER, {"id": bob["id"], "i": {"name": "Hacked"}})
    assert code(err) == "UNAUTHENTICATED"
    by_admin = await data(
        client, UPDATE_USER, {"id": bob["id"], "i": {"name": "Robert"}}, admin["headers"]
    )
    assert by_admin["updateUser"]["name"] == "Robert"
    assert by_admin["updateUser"]["email"] == bob["email"]


async def test_role_escalation_is_forbidden_and_changes_nothing(client, db, alice):
    before = await stored_user(db, alice["id"])
    for changes in ({"role": "admin"}, {"role": "admin", "name": "Boss"}, {"role": "user"}):
        err = await error(client, UPDATE_USER, {"id": alice["id"], "i": changes}, alice["headers"])
        assert (code(err), err["message"]) == ("FORBIDDEN", "Only an admin can set role")
    assert await stored_user(db, alice["id"]) == before
    me = await data(client, "{ me { role name } }", headers=alice["headers"])
    assert me["me"] == {"role": "user", "name": "Alice"}


async def test_an_admin_changes_roles(client, alice, admin):
    user = await data(
        client, UPDATE_USER, {"id": alice["id"], "i": {"role": "admin"}}, admin["headers"]
    )
    assert user["updateUser"]["role"] == "admin"


async def test_update_errors(client, db, alice, bob):
    err = await error(
        client,
        UPDATE_USER,
        {"id": "0123456789abcdef01234567", "i": {"name": "X y"}},
        alice["headers"],
    )
    assert (code(err), err["message"]) == ("NOT_FOUND", "User not found")
    err = await error(
        client, UPDATE_USER, {"id": alice["id"], "i": {"email": bob["email"]}}, alice["headers"]
    )
    assert (code(err), err["message"]) == ("CONFLICT", "Email already registered")
    err = await error(
        client, UPDATE_USER, {"id": alice["id"], "i": {"name": None}}, alice["headers"]
    )
    assert code(err) == "BAD_USER_INPUT"
    assert (await stored_user(db, alice["id"]) or {})["name"] == "Alice"


# deleteUser


async def test_delete_user_removes_posts_and_profile(client, db, services, alice, bob):
    await services.posts.create(actor(alice), PostCreate(title="mine"))
    await data(client, UPDATE_PROFILE, {"i": {"bio": "hi"}}, alice["headers"])
    err = await error(client, DELETE_USER, {"id": alice["id"]}, bob["headers"])
    assert (code(err), err["message"]) == ("FORBIDDEN", "You may only change your own account")
    assert await stored_user(db, alice["id"]) is not None
    assert await data(client, DELETE_USER, {"id": alice["id"]}, alice["headers"]) == {
        "deleteUser": True
    }
    assert await stored_user(db, alice["id"]) is None
    assert await db["posts"].count_documents({"authorId": {"$in": [alice["id"]]}}) == 0
    assert await db["profiles"].count_documents({"userId": {"$in": [alice["id"]]}}) == 0
    err = await error(client, DELETE_USER, {"id": alice["id"]}, bob["headers"])
    assert (code(err), err["message"]) == ("NOT_FOUND", "User not found")


async def test_an_admin_deletes_anyone(client, db, admin, bob):
    assert (await data(client, DELETE_USER, {"id": bob["id"]}, admin["headers"]))["deleteUser"]
    assert await stored_user(db, bob["id"]) is None


# products


async def test_admin_creates_updates_and_deletes_a_product(client, db, admin):
    made = (await data(client, CREATE_PRODUCT, {"i": LAMP}, admin["headers"]))["createProduct"]
    assert {key: made[key] for key in LAMP} == LAMP
    changed = await data(
        client, UPDATE_PRODUCT, {"id": made["id"], "i": {"price": 9}}, admin["headers"]
    )
    product = changed["updateProduct"]
    assert (product["price"], product["name"], product["description"]) == (9.0, "Lamp", "Bright")
    assert product["createdAt"] == made["createdAt"]
    assert product["updatedAt"] > made["updatedAt"]
    cleared = await data(
        client, UPDATE_PRODUCT, {"id": made["id"], "i": {"description": None}}, admin["headers"]
    )
    assert cleared["updateProduct"]["description"] is None
    assert (await data(client, DELETE_PRODUCT, {"id": made["id"]}, admin["headers"]))[
        "deleteProduct"
    ]
    assert await db["products"].count_documents({}) == 0
    err = await error(client, DELETE_PRODUCT, {"id": made["id"]}, admin["headers"])
    assert (code(err), err["message"]) == ("NOT_FOUND", "Product not found")


async def test_product_writes_need_an_admin(client, db, services, alice, admin):
    made = (await data(client, CREATE_PRODUCT, {"i": LAMP}, admin["headers"]))["createProduct"]
    before = await db["products"].find().to_list(None)
    for headers, expected in ((alice["headers"], "FORBIDDEN"), ({}, "UNAUTHENTICATED")):
        for query, variables in (
            (CREATE_PRODUCT, {"i": LAMP}),
            (UPDATE_PRODUCT, {"id": made["id"], "i": {"price": 1}}),
            (DELETE_PRODUCT, {"id": made["id"]}),
        ):
            err = await error(client, query, variables, headers)
            assert code(err) == expected
    assert await db["products"].find().to_list(None) == before


async def test_product_input_is_validated(client, db, admin):
    for bad in ({**LAMP, "price": -1}, {**LAMP, "name": "  "}, {**LAMP, "category": "x" * 201}):
        err = await error(client, CREATE_PRODUCT, {"i": bad}, admin["headers"])
        assert (code(err), err["message"]) == ("BAD_USER_INPUT", "Validation failed")
        assert err["extensions"]["details"]
    err = await error(client, CREATE_PRODUCT, {"i": {**LAMP, "price": "cheap"}}, admin["headers"])
    assert code(err) == "BAD_USER_INPUT"
    err = await error(client, UPDATE_PRODUCT, {"id": "nope", "i": {"price": 1}}, admin["headers"])
    assert (code(err), err["message"]) == ("NOT_FOUND", "Product not found")
    assert await db["products"].count_documents({}) == 0


@pytest.mark.parametrize("number", [b"NaN", b"Infinity", b"-Infinity", b"1e400"])
async def test_non_finite_numbers_are_refused(client, db, admin, number):
    # Python's JSON parser reads these; the GraphQL Float (and the model) refuse them.
    variables = b'{"i": {"name": "x", "category": "y", "price": ' + number + b"}}"
    body = (
        b'{"query": ' + json.dumps(CREATE_PRODUCT).encode() + b', "variables": ' + variables + b"}"
    )
    response = await client.post(
        "/graphql", content=body, headers={**admin["headers"], "content-type": "application/json"}
    )
    err = response.json()["errors"][0]
    assert code(err) == "BAD_USER_INPUT"
    assert await db["products"].count_documents({}) == 0


# posts and profiles


async def test_create_post_as_the_caller(client, db, alice):
    post = (await data(client, CREATE_POST, {"i": {"title": "  Hello  "}}, alice["headers"]))[
        "createPost"
    ]
    assert (post["title"], post["content"]) == ("Hello", "")
    assert post["author"] == {"id": alice["id"], "name": "Alice"}
    mine = await data(client, "{ me { posts { id } } }", headers=alice["headers"])
    assert mine["me"]["posts"] == [{"id": post["id"]}]
    err = await error(client, CREATE_POST, {"i": {"title": "anon"}})
    assert (code(err), err["message"]) == ("UNAUTHENTICATED", "No token provided")
    err = await error(client, CREATE_POST, {"i": {"title": ""}}, alice["headers"])
    assert code(err) == "BAD_USER_INPUT"
    assert await db["posts"].count_documents({}) == 1


async def test_update_profile_is_partial_and_null_clears(client, db, alice):
    first = await data(
        client, UPDATE_PROFILE, {"i": {"bio": "Hi", "avatarUrl": "/me.png"}}, alice["headers"]
    )
    assert first["updateProfile"] == {"bio": "Hi", "avatarUrl": "/me.png"}
    second = await data(client, UPDATE_PROFILE, {"i": {"bio": None}}, alice["headers"])
    assert second["updateProfile"] == {"bio": None, "avatarUrl": "/me.png"}
    err = await error(
        client, UPDATE_PROFILE, {"i": {"avatarUrl": "javascript:alert(1)"}}, alice["headers"]
    )
    assert code(err) == "BAD_USER_INPUT"
    err = await error(client, UPDATE_PROFILE, {"i": {"bio": "anon"}})
    assert code(err) == "UNAUTHENTICATED"
    doc = await db["profiles"].find_one({"userId": alice["id"]})
    assert doc is not None and (doc["bio"], doc["avatarUrl"]) == (None, "/me.png")


# files


async def _store(services, owner: dict[str, Any], path: str) -> None:
    async def chunks():
        yield b"GIF89a tiny"

    await services.files.save(actor(owner), path, chunks(), content_type="image/gif")


async def test_delete_file_by_owner_or_admin_only(client, services, alice, bob, admin):
    await _store(services, alice, "a/one.gif")
    await _store(services, alice, "a/two.gif")
    err = await error(client, DELETE_FILE, {"p": "a/one.gif"}, bob["headers"])
    assert (code(err), err["message"]) == ("FORBIDDEN", "You may only delete your own files")
    err = await error(client, DELETE_FILE, {"p": "a/one.gif"})
    assert code(err) == "UNAUTHENTICATED"
    assert await services.files.meta("a/one.gif")
    assert (await data(client, DELETE_FILE, {"p": "a/one.gif"}, alice["headers"]))["deleteFile"]
    assert (await data(client, DELETE_FILE, {"p": "a/two.gif"}, admin["headers"]))["deleteFile"]
    for path in ("a/one.gif", "a/two.gif"):
        with pytest.raises(NotFound):
            await services.files.meta(path)
    err = await error(client, DELETE_FILE, {"p": "a/one.gif"}, alice["headers"])
    assert (code(err), err["message"]) == ("NOT_FOUND", "File not found")
    err = await error(client, DELETE_FILE, {"p": "../x"}, alice["headers"])
    assert (code(err), err["message"]) == ("BAD_USER_INPUT", "Invalid file path")


async def test_delete_file_with_an_expected_version(client, services, alice):
    await _store(services, alice, "v/one.gif")
    file = "query($p: String!) { file(path: $p) { version } }"
    version = (await data(client, file, {"p": "v/one.gif"}))["file"]["version"]
    assert (await client.get("/api/files/v/one.gif")).headers["etag"] == f'"{version}"'
    delete = "mutation($p: String!, $v: String) { deleteFile(path: $p, expectedVersion: $v) }"
    err = await error(client, delete, {"p": "v/one.gif", "v": "0" * 24}, alice["headers"])
    assert code(err) == "CONFLICT"
    assert err["message"].startswith("The file is not the version named")
    assert await services.files.meta("v/one.gif")  # nothing deleted
    mine = {"p": "v/one.gif", "v": version}
    assert (await data(client, delete, mine, alice["headers"]))["deleteFile"] is True
    with pytest.raises(NotFound):
        await services.files.meta("v/one.gif")
    await _store(services, alice, "v/one.gif")  # the path again, other bytes: another version
    assert code(await error(client, delete, mine, alice["headers"])) == "CONFLICT"
    assert await services.files.meta("v/one.gif")


# contact


async def test_submit_contact_stores_the_message_with_its_origin(client, db):
    form = {"name": " Dana ", "email": "Dana@Example.com", "message": "Hello there, gateway!"}
    response = await client.post(
        "/graphql?source=footer",
        json={"query": CONTACT, "variables": {"i": form}},
        headers={"User-Agent": "tests/1.0", "Cookie": "sessionId=s-42"},
    )
    assert response.json()["data"] == {
        "submitContact": {"success": True, "message": "Contact form submitted successfully"}
    }
    doc = await db["contact_messages"].find_one({})
    assert doc is not None
    assert (doc["name"], doc["email"], doc["message"]) == (
        "Dana",
        "dana@example.com",
        "Hello there, gateway!",
    )
    assert (doc["source"], doc["userAgent"], doc["sessionId"]) == ("footer", "tests/1.0", "s-42")


async def test_submit_contact_gives_every_legacy_message_and_stores_nothing(client, db):
    err = await error(client, CONTACT, {"i": {"name": "D", "email": "nope", "message": "short"}})
    assert (code(err), err["message"]) == ("BAD_USER_INPUT", "Validation failed")
    assert err["extensions"]["details"] == [
        "Name must be at least 2 characters long",
        "Valid email is required",
        "Message must be at least 10 characters long",
    ]
    assert await db["contact_messages"].count_documents({}) == 0
