"""REST and GraphQL side by side: the same data, the same decisions, matching errors.

An HTTP status and a GraphQL ``extensions.code`` match as the contract pairs
them; the message (and any ``details``) must be the same words.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import USER_PASSWORD, make_user
from tests.graphql.support import both_executions, code, data, error

# Every test here runs with the fast execution on and off.
settings = both_executions

CODES = {
    400: "BAD_USER_INPUT",
    401: "UNAUTHENTICATED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    409: "CONFLICT",
    413: "BAD_USER_INPUT",
    415: "BAD_USER_INPUT",
}
USER = "id name email role createdAt updatedAt version"
PRODUCT = "id name category price description createdAt updatedAt version"
FILE = "path name size contentType url createdAt version"
MISSING_ID = "0123456789abcdef01234567"
GIF = b"GIF89a" + b"\x01" * 40


def assert_same_refusal(rest: httpx.Response, err: dict[str, Any]) -> None:
    assert code(err) == CODES[rest.status_code], (rest.status_code, err)
    body = rest.json()
    assert err["message"] == body["error"]
    assert err["extensions"].get("details") == body.get("details")


def as_graphql(user: dict[str, Any]) -> dict[str, Any]:
    """A REST user as GraphQL shows it: a hidden email is null rather than absent."""
    return {
        "email": None,
        **{key: value for key, value in user.items() if key not in ("posts", "profile")},
    }


# users


async def test_users_list_and_get_match(client, services, alice, bob, admin):
    await data(
        client,
        'mutation { createPost(input: {title: "Hi", content: "there"}) { id } }',
        headers=alice["headers"],
    )
    await data(
        client, 'mutation { updateProfile(input: {bio: "Me"}) { bio } }', headers=alice["headers"]
    )
    for viewer in (bob, admin):
        rest = await client.get("/api/users?limit=100", headers=viewer["headers"])
        nodes = await data(
            client, f"{{ users(first: 100) {{ nodes {{ {USER} }} }} }}", headers=viewer["headers"]
        )
        assert [as_graphql(user) for user in rest.json()] == nodes["users"]["nodes"]
        assert int(rest.headers["x-total-count"]) == 3
        detail = (await client.get(f"/api/users/{alice['id']}", headers=viewer["headers"])).json()
        query = f"""query($id: ID!) {{ user(id: $id) {{ {USER}
            posts {{ id title content createdAt }} profile {{ bio avatarUrl }} }} }}"""
        user = (await data(client, query, {"id": alice["id"]}, viewer["headers"]))["user"]
        assert {key: user[key] for key in USER.split()} == as_graphql(detail)
        assert user["posts"] == [
            {key: post[key] for key in ("id", "title", "content", "createdAt")}
            for post in detail["posts"]
        ]
        assert user["profile"] == detail["profile"]


async def test_user_created_over_rest_reads_the_same_over_graphql_and_back(client, alice):
    made = await client.post(
        "/api/users", json={"name": "Rest Made", "email": "r@example.com", "password": "password-1"}
    )
    assert made.status_code == 201
    query = f"query($id: ID!) {{ user(id: $id) {{ {USER} }} }}"
    seen = (await data(client, query, {"id": made.json()["id"]}, alice["headers"]))["user"]
    assert seen == {**made.json(), "email": None}  # alice may not see another's email
    created = await data(
        client,
        f"mutation($i: CreateUserInput!) {{ createUser(input: $i) {{ {USER} }} }}",
        {"i": {"name": "Graph Made", "email": "g@example.com", "password": "password-1"}},
    )
    user = created["createUser"]
    rest = await client.get(f"/api/users/{user['id']}", headers=alice["headers"])
    assert as_graphql(rest.json()) == {**user, "email": None}


@pytest.mark.parametrize(
    ("who", "body"),
    [
        ("anonymous", {"name": "New"}),
        ("bob", {"name": "New"}),
        ("alice", {"role": "admin"}),
        ("alice", {"name": "x"}),
        ("alice", {"email": "bob"}),
        ("alice", {"password": None}),
        ("alice", {"nickname": "al"}),
    ],
)
async def test_user_update_decisions_match(client, db, alice, bob, who, body):
    headers = {"anonymous": {}, "bob": bob["headers"], "alice": alice["headers"]}[who]
    if body == {"email": "bob"}:
        body = {"email": bob["email"]}  # taken: a conflict
    before = await db["users"].find().to_list(None)
    rest = await client.put(f"/api/users/{alice['id']}", json=body, headers=headers)
    query = "mutation($id: ID!, $i: UpdateUserInput!) { updateUser(id: $id, input: $i) { id } }"
    err = await error(client, query, {"id": alice["id"], "i": body}, headers)
    assert rest.status_code >= 400
    if "nickname" in body:  # GraphQL refuses the unknown field while checking the variables
        assert (rest.status_code, code(err)) == (400, "BAD_USER_INPUT")
    else:
        assert_same_refusal(rest, err)
    assert await db["users"].find().to_list(None) == before


async def test_user_create_and_read_refusals_match(client, db, alice):
    taken = {"name": "Dup", "email": alice["email"], "password": "password-1"}
    short = {"name": "D", "email": "d@example.com", "password": "password-1"}
    escalate = {
        "name": "Sneaky",
        "email": "s@example.com",
        "password": "password-1",
        "role": "admin",
    }
    create = "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }"
    for body, headers in ((taken, {}), (short, {}), (escalate, alice["headers"])):
        rest = await client.post("/api/users", json=body, headers=headers)
        assert_same_refusal(rest, await error(client, create, {"i": body}, headers))
    assert await db["users"].count_documents({}) == 1
    for user_id, headers in (
        (MISSING_ID, alice["headers"]),
        ("bad-id", alice["headers"]),
        (alice["id"], {}),
    ):
        rest = await client.get(f"/api/users/{user_id}", headers=headers)
        query = "query($id: ID!) { user(id: $id) { id } }"
        assert_same_refusal(rest, await error(client, query, {"id": user_id}, headers))
    rest = await client.get("/api/users")
    assert_same_refusal(rest, await error(client, "{ users { totalCount } }"))


async def test_user_delete_decisions_match(client, db, services, alice, bob, admin):
    carol, dave = await make_user(services, name="Carol"), await make_user(services, name="Dave")
    delete = "mutation($id: ID!) { deleteUser(id: $id) }"
    for target, headers in ((carol, bob["headers"]), (carol, {})):
        rest = await client.delete(f"/api/users/{target['id']}", headers=headers)
        assert_same_refusal(rest, await error(client, delete, {"id": target["id"]}, headers))
    assert await db["users"].count_documents({}) == 5
    assert (
        await client.delete(f"/api/users/{carol['id']}", headers=admin["headers"])
    ).status_code == 204
    assert (await data(client, delete, {"id": dave["id"]}, admin["headers"]))["deleteUser"]
    for gone in (carol, dave):
        rest = await client.delete(f"/api/users/{gone['id']}", headers=admin["headers"])
        assert_same_refusal(rest, await error(client, delete, {"id": gone["id"]}, admin["headers"]))


# products


async def test_products_match(client, admin):
    lamp = {"name": "Lamp", "category": "home", "price": 12.5, "description": "Bright"}
    made_rest = (await client.post("/api/products", json=lamp, headers=admin["headers"])).json()
    create = f"mutation($i: CreateProductInput!) {{ createProduct(input: $i) {{ {PRODUCT} }} }}"
    made_gql = (await data(client, create, {"i": {**lamp, "name": "Desk"}}, admin["headers"]))[
        "createProduct"
    ]
    get = f"query($id: ID!) {{ product(id: $id) {{ {PRODUCT} }} }}"
    assert (await data(client, get, {"id": made_rest["id"]}))["product"] == made_rest
    assert (await client.get(f"/api/products/{made_gql['id']}")).json() == made_gql
    listed = (await client.get("/api/products?category=home&limit=100")).json()["products"]
    page = await data(
        client, f'{{ products(first: 100, category: "home") {{ nodes {{ {PRODUCT} }} }} }}'
    )
    assert sorted(listed, key=lambda p: p["id"]) == sorted(
        page["products"]["nodes"], key=lambda p: p["id"]
    )
    update = f"mutation($id: ID!, $i: UpdateProductInput!) {{ updateProduct(id: $id, input: $i) {{ {PRODUCT} }} }}"
    by_rest = await client.put(
        f"/api/products/{made_rest['id']}", json={"price": 3}, headers=admin["headers"]
    )
    by_gql = await data(client, update, {"id": made_gql["id"], "i": {"price": 3}}, admin["headers"])
    assert by_rest.json()["price"] == by_gql["updateProduct"]["price"] == 3.0


async def test_product_refusals_match(client, db, alice, admin):
    lamp = {"name": "Lamp", "category": "home", "price": 1}
    create = "mutation($i: CreateProductInput!) { createProduct(input: $i) { id } }"
    cases = [
        (lamp, {}),
        (lamp, alice["headers"]),
        ({**lamp, "price": -1}, admin["headers"]),
        ({**lamp, "name": " "}, admin["headers"]),
        ({**lamp, "description": "x" * 5001}, admin["headers"]),
    ]
    for body, headers in cases:
        rest = await client.post("/api/products", json=body, headers=headers)
        assert_same_refusal(rest, await error(client, create, {"i": body}, headers))
    assert await db["products"].count_documents({}) == 0
    for product_id in (MISSING_ID, "nope"):
        rest = await client.get(f"/api/products/{product_id}")
        query = "query($id: ID!) { product(id: $id) { id } }"
        assert_same_refusal(rest, await error(client, query, {"id": product_id}))
        rest = await client.delete(f"/api/products/{product_id}", headers=admin["headers"])
        delete = "mutation($id: ID!) { deleteProduct(id: $id) }"
        assert_same_refusal(rest, await error(client, delete, {"id": product_id}, admin["headers"]))
    # REST pages by offset (``limit``), GraphQL by cursor (``first``): both cap pages at 100.
    rest = await client.get("/api/products?limit=101")
    assert rest.status_code == 400
    assert code(await error(client, "{ products(first: 101) { totalCount } }")) == "BAD_USER_INPUT"


# files


async def test_files_match(client, alice):
    stored = await client.post(
        "/api/files/shared/rest.gif",
        content=GIF,
        headers={**alice["headers"], "content-type": "image/gif"},
    )
    assert stored.status_code == 201
    query = f"query($p: String!) {{ file(path: $p) {{ {FILE} }} }}"
    assert (await data(client, query, {"p": "shared/rest.gif"}))["file"] == stored.json()
    operations = {
        "query": f'mutation($f: Upload!) {{ uploadFile(file: $f, path: "shared/gql.gif") {{ {FILE} }} }}',
        "variables": {"f": None},
    }
    uploaded = await client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.f"]})},
        files={"0": ("gql.gif", GIF, "image/gif")},
        headers={**alice["headers"], "Apollo-Require-Preflight": "true"},
    )
    meta = uploaded.json()["data"]["uploadFile"]
    download = await client.get(meta["url"])
    assert download.content == GIF
    assert download.headers["content-type"] == meta["contentType"] == "image/gif"
    assert int(download.headers["content-length"]) == meta["size"]
    legacy = (
        await client.post(
            "/api/upload", files={"file": ("x.gif", GIF, "image/gif")}, headers=alice["headers"]
        )
    ).json()
    path = legacy["url"].removeprefix("/api/files/")
    seen = (await data(client, query, {"p": path}))["file"]
    assert (seen["name"], seen["size"], seen["contentType"], seen["url"]) == (
        legacy["fileName"],
        legacy["size"],
        legacy["type"],
        legacy["url"],
    )


async def test_file_refusals_match(client, services, db, alice, bob):
    await client.post(
        "/api/files/mine/a.gif",
        content=GIF,
        headers={**alice["headers"], "content-type": "image/gif"},
    )
    delete = "mutation($p: String!) { deleteFile(path: $p) }"
    for path, headers in (
        ("mine/a.gif", bob["headers"]),
        ("mine/a.gif", {}),
        ("mine/none.gif", alice["headers"]),
        ("mine/a\\b.gif", alice["headers"]),
    ):
        rest = await client.delete(f"/api/files/{path.replace(chr(92), '%5C')}", headers=headers)
        assert_same_refusal(rest, await error(client, delete, {"p": path}, headers))
    assert (await client.get("/api/files/mine/a.gif")).content == GIF
    rest = await client.get("/api/files/mine/none.gif")
    query = "query($p: String!) { file(path: $p) { path } }"
    assert_same_refusal(rest, await error(client, query, {"p": "mine/none.gif"}))
    operations = {
        "query": 'mutation($f: Upload!) { uploadFile(file: $f, path: "mine/a.gif") { path } }',
        "variables": {"f": None},
    }
    rest = await client.post(
        "/api/files/mine/a.gif",
        content=GIF,
        headers={**bob["headers"], "content-type": "image/gif"},
    )
    uploaded = await client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.f"]})},
        files={"0": ("a.gif", GIF, "image/gif")},
        headers={**bob["headers"], "Apollo-Require-Preflight": "true"},
    )
    assert_same_refusal(rest, uploaded.json()["errors"][0])


# contact


async def test_contact_matches(client, db):
    form = {"name": "Dana", "email": "dana@example.com", "message": "Hello from both doors"}
    rest = await client.post("/api/contact?source=rest", json=form)
    query = "mutation($i: ContactInput!) { submitContact(input: $i) { success message } }"
    response = await client.post(
        "/graphql?source=graphql", json={"query": query, "variables": {"i": form}}
    )
    assert response.json()["data"]["submitContact"] == rest.json()
    stored = await db["contact_messages"].find({}, {"_id": 0, "createdAt": 0}).to_list(None)
    assert sorted(stored, key=lambda doc: doc["source"]) == [
        {**form, "source": source, "userAgent": stored[0]["userAgent"], "sessionId": None}
        for source in ("graphql", "rest")
    ]
    bad = {"name": "D", "email": "dana", "message": "short"}
    rest = await client.post("/api/contact", json=bad)
    err = await error(client, query, {"i": bad})
    assert (rest.status_code, code(err)) == (400, "BAD_USER_INPUT")
    assert err["extensions"]["details"] == rest.json()["errors"]
    assert await db["contact_messages"].count_documents({}) == 2


# login


async def test_login_matches_and_tokens_work_on_both_doors(client, alice):
    credentials = {"email": alice["email"], "password": USER_PASSWORD}
    rest = (await client.post("/api/auth/login", json=credentials)).json()
    query = "mutation($e: String!, $p: String!) { login(email: $e, password: $p) { token user { id email name } } }"
    login = (await data(client, query, {"e": alice["email"], "p": USER_PASSWORD}))["login"]
    assert login["user"] == rest["user"]
    rest_token = {"Authorization": f"Bearer {rest['token']}"}
    gql_token = {"Authorization": f"Bearer {login['token']}"}
    assert (await data(client, "{ me { id } }", headers=rest_token))["me"]["id"] == alice["id"]
    protected = await client.get("/api/protected", headers=gql_token)
    assert protected.json()["user"]["sub"] == alice["id"]
    for email, password in ((alice["email"], "wrong-password"), ("nobody@example.com", "x")):
        rest_refusal = await client.post(
            "/api/auth/login", json={"email": email, "password": password}
        )
        assert_same_refusal(rest_refusal, await error(client, query, {"e": email, "p": password}))
    junk = {"Authorization": "Bearer junk"}
    assert_same_refusal(
        await client.get("/api/protected", headers=junk),
        await error(client, "{ hello }", headers=junk),
    )
