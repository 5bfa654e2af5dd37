"""Queries: each one's answer, and its errors with their codes and REST's messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec

from gateway.models import PostCreate, ProductCreate, ProfileUpdate
from gateway.services import Actor
from tests.conftest import OPERATOR
from tests.graphql.support import code, data, error

USER_FIELDS = "id name email role createdAt updatedAt"


def as_actor(user: dict) -> Actor:
    return Actor(id=user["id"], role=user["role"], email=user["email"], name=user["name"])


async def test_hello_answers_anyone(client):
    assert await data(client, "{ hello }") == {"hello": "Hello from the gateway"}


async def test_me_is_null_when_anonymous(client):
    assert await data(client, "{ me { id } }") == {"me": None}


async def test_me_is_the_caller_with_their_email(client, alice):
    me = (await data(client, f"{{ me {{ {USER_FIELDS} }} }}", headers=alice["headers"]))["me"]
    assert me == {
        key: alice[key] for key in ("id", "name", "email", "role", "createdAt", "updatedAt")
    }


async def test_user_by_id(client, alice, bob):
    query = f'{{ user(id: "{bob["id"]}") {{ {USER_FIELDS} }} }}'
    user = (await data(client, query, headers=alice["headers"]))["user"]
    assert user["id"] == bob["id"]
    assert user["name"] == "Bob"
    assert user["email"] is None  # another user's email is hidden


async def test_user_needs_a_signed_in_caller(client, bob):
    err = await error(client, f'{{ user(id: "{bob["id"]}") {{ id }} }}')
    assert code(err) == "UNAUTHENTICATED"
    assert err["message"] == "No token provided"


async def test_missing_and_malformed_user_ids_are_not_found(client, alice):
    for user_id in ("0123456789abcdef01234567", "not-an-id", '{"$gt": ""}'):
        err = await error(
            client,
            "query($id: ID!) { user(id: $id) { id } }",
            {"id": user_id},
            headers=alice["headers"],
        )
        assert (code(err), err["message"]) == ("NOT_FOUND", "User not found")
        assert err["path"] == ["user"]


async def test_user_posts_newest_first_and_profile(client, services, alice):
    author = as_actor(alice)
    for title in ("first", "second", "third"):
        await services.posts.create(author, PostCreate(title=title, content=f"{title} text"))
    await services.profiles.update(author, ProfileUpdate(bio="Hi", avatar_url="/a.png"))
    query = """query($id: ID!) { user(id: $id) {
        posts { id title content createdAt author { id name } }
        profile { bio avatarUrl } } }"""
    user = (await data(client, query, {"id": alice["id"]}, alice["headers"]))["user"]
    assert [post["title"] for post in user["posts"]] == ["third", "second", "first"]
    assert user["posts"][0]["content"] == "third text"
    assert {post["author"]["id"] for post in user["posts"]} == {alice["id"]}
    assert user["profile"] == {"bio": "Hi", "avatarUrl": "/a.png"}


async def test_user_without_posts_or_profile(client, alice, bob):
    query = "query($id: ID!) { user(id: $id) { posts { id } profile { bio } } }"
    user = (await data(client, query, {"id": bob["id"]}, alice["headers"]))["user"]
    assert user == {"posts": [], "profile": None}


async def test_user_posts_stop_at_100(client, db, alice):
    start = datetime(2026, 1, 1, tzinfo=UTC)
    await db["posts"].insert_many(
        [
            {
                "title": f"p{n}",
                "content": "",
                "authorId": alice["id"],
                "createdAt": start + timedelta(seconds=n),
            }
            for n in range(105)
        ]
    )
    query = "query($id: ID!) { user(id: $id) { posts { title } } }"
    posts = (await data(client, query, {"id": alice["id"]}, alice["headers"]))["user"]["posts"]
    assert len(posts) == 100
    assert posts[0]["title"] == "p104"  # the newest
    assert posts[-1]["title"] == "p5"


async def test_email_visibility_per_field(client, alice, bob, admin):
    query = "{ users(first: 10) { nodes { id email } } }"
    as_alice = (await data(client, query, headers=alice["headers"]))["users"]["nodes"]
    emails = {node["id"]: node["email"] for node in as_alice}
    assert emails == {alice["id"]: alice["email"], bob["id"]: None, admin["id"]: None}
    as_admin = (await data(client, query, headers=admin["headers"]))["users"]["nodes"]
    assert {node["id"]: node["email"] for node in as_admin} == {
        alice["id"]: alice["email"],
        bob["id"]: bob["email"],
        admin["id"]: admin["email"],
    }


async def test_email_of_a_post_author_follows_the_caller(client, services, alice, bob, admin):
    # The author is loaded through a DataLoader: what an admin saw must not reach Bob.
    await services.posts.create(as_actor(alice), PostCreate(title="hello"))
    query = "query($id: ID!) { user(id: $id) { posts { author { email } } } }"
    seen_by_admin = await data(client, query, {"id": alice["id"]}, admin["headers"])
    seen_by_bob = await data(client, query, {"id": alice["id"]}, bob["headers"])
    assert seen_by_admin["user"]["posts"][0]["author"]["email"] == alice["email"]
    assert seen_by_bob["user"]["posts"][0]["author"]["email"] is None


async def test_product_by_id(client, services):
    made = await services.products.create(
        OPERATOR, ProductCreate(name="Lamp", category="home", price=12.5, description="Bright")
    )
    query = "query($id: ID!) { product(id: $id) { id name category price description createdAt updatedAt version } }"
    product = (await data(client, query, {"id": made.id}))["product"]
    assert product == msgspec.to_builtins(made)


async def test_missing_product_is_not_found(client):
    for product_id in ("0123456789abcdef01234567", "nope"):
        err = await error(client, "query($id: ID!) { product(id: $id) { id } }", {"id": product_id})
        assert (code(err), err["message"]) == ("NOT_FOUND", "Product not found")


async def test_file_metadata(client, services, alice):
    async def chunks():
        yield b"hello world"

    stored = await services.files.save(
        as_actor(alice), "docs/hello world.txt", chunks(), content_type="text/plain"
    )
    query = (
        '{ file(path: "docs/hello world.txt") '
        "{ path name size contentType url createdAt version } }"
    )
    # The service gives the stored path; the door renders the REST URL it downloads from.
    url = "/api/files/docs/hello%20world.txt"
    assert (await data(client, query))["file"] == {**msgspec.to_builtins(stored), "url": url}


async def test_missing_file_is_not_found_and_bad_paths_are_bad_input(client):
    err = await error(client, '{ file(path: "nothing/here.txt") { path } }')
    assert (code(err), err["message"]) == ("NOT_FOUND", "File not found")
    for path in ("../etc/passwd", "a//b", "a\\\\b", ""):
        err = await error(client, "query($p: String!) { file(path: $p) { path } }", {"p": path})
        assert (code(err), err["message"]) == ("BAD_USER_INPUT", "Invalid file path")
        assert err["extensions"]["details"]
