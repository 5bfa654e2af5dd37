"""Nested lists are batched: the database commands a query costs do not grow with its parents."""

from __future__ import annotations

from collections import Counter

import pytest
from pymongo import monitoring

from schema.types import NOT_LOADED
from tests.conftest import listened_app, make_user
from tests.graphql.support import data

NESTED = """query($n: Int!) {
  users(first: $n) {
    totalCount
    nodes { name posts { title author { name } } profile { bio } }
  }
}"""


class CommandRecorder(monitoring.CommandListener):
    """Every command the driver sends, as (command, collection)."""

    def __init__(self) -> None:
        self.commands: list[tuple[str, object]] = []

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        self.commands.append((event.command_name, event.command.get(event.command_name)))

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        pass

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


@pytest.fixture
async def recorded(settings, mongo_uri, db):
    """An HTTP client on an app whose database commands are recorded, and the recorder."""
    recorder = CommandRecorder()
    async with listened_app(settings, mongo_uri, recorder) as (app, http):
        yield app, http, recorder


async def test_nested_lists_cost_the_same_for_1_and_50_users(recorded):
    app, http, recorder = recorded
    services = app.state.services
    await services.seed.seed(
        users=50, posts_per_user=3, products=0, categories=1, progress=lambda *_: None
    )
    viewer = await make_user(services, name="Viewer")
    costs: dict[int, Counter[tuple[str, object]]] = {}
    for size in (1, 50, 1):
        recorder.commands.clear()
        result = (await data(http, NESTED, {"n": size}, viewer["headers"]))["users"]
        costs[size] = Counter(recorder.commands)
        assert len(result["nodes"]) == size
        assert all(len(node["posts"]) == 3 for node in result["nodes"])
        assert all(node["profile"]["bio"] == "Demo account." for node in result["nodes"])
        assert {post["author"]["name"] for node in result["nodes"] for post in node["posts"]} <= {
            node["name"] for node in result["nodes"]
        }
    assert costs[1] == costs[50]
    # The caller, the page and its count, then one query for both relations.
    assert costs[50][("aggregate", "posts")] == 1
    assert costs[50][("aggregate", "profiles")] == 0
    assert costs[50][("find", "users")] == 3  # caller, page, post authors
    assert sum(costs[50].values()) <= 6


async def test_total_and_cursors_cost_only_when_selected(recorded):
    app, http, recorder = recorded
    await app.state.services.seed.seed(
        users=0, posts_per_user=0, products=5, categories=1, progress=lambda *_: None
    )
    recorder.commands.clear()
    plain = await data(http, "{ products(first: 2) { nodes { name } } }")
    without = Counter(recorder.commands)
    recorder.commands.clear()
    counted = await data(
        http,
        "query { products(first: 2) { ...Total edges { cursor } } }"
        " fragment Total on ProductConnection { totalCount }",
    )
    with_total = Counter(recorder.commands)
    recorder.commands.clear()
    inline = await data(
        http, "{ products(first: 2) { ... on ProductConnection { n: totalCount } } }"
    )
    assert inline["products"]["n"] == 5  # an alias in an inline fragment is seen through
    assert Counter(recorder.commands)[("aggregate", "products")] == 1
    assert len(plain["products"]["nodes"]) == 2
    assert counted["products"]["totalCount"] == 5
    assert all(edge["cursor"] for edge in counted["products"]["edges"])
    assert without == Counter({("find", "products"): 1})
    assert with_total == Counter({("find", "products"): 1, ("aggregate", "products"): 1})


EVERY_PATH = """query($id: ID!) {
  users(first: 2) {
    edges { node { ...Rel } }
    nodes { writings: posts { title } }
  }
  me { ... on User { profile { bio } posts { title } } }
  user(id: $id) { posts { author { profile { bio } posts { title } } } }
}
fragment Rel on User { profile { bio } }"""


async def test_relations_are_loaded_wherever_users_are_returned(recorded):
    app, http, recorder = recorded
    await app.state.services.seed.seed(
        users=2, posts_per_user=2, products=0, categories=1, progress=lambda *_: None
    )
    viewer = await make_user(app.state.services, name="Viewer")
    first = await data(http, "{ users(first: 1) { nodes { id } } }", None, viewer["headers"])
    demo_id = first["users"]["nodes"][0]["id"]

    recorder.commands.clear()
    result = await data(http, EVERY_PATH, {"id": demo_id}, viewer["headers"])

    users = result["users"]
    # Through a named fragment under edges, and through an alias under nodes.
    assert [edge["node"]["profile"] for edge in users["edges"]] == [{"bio": "Demo account."}] * 2
    assert [len(node["writings"]) for node in users["nodes"]] == [2, 2]
    # Through an inline fragment: the viewer has neither posts nor a profile.
    assert result["me"] == {"profile": None, "posts": []}
    # Under a post's author, itself under a user.
    authors = [post["author"] for post in result["user"]["posts"]]
    assert authors == [{"profile": {"bio": "Demo account."}, "posts": authors[0]["posts"]}] * 2
    assert len(authors[0]["posts"]) == 2
    # Each relation still costs one query per level, however it was reached.
    assert Counter(recorder.commands)[("aggregate", "profiles")] <= 3


async def test_relations_not_selected_are_not_loaded(recorded):
    app, http, recorder = recorded
    await app.state.services.seed.seed(
        users=3, posts_per_user=2, products=0, categories=1, progress=lambda *_: None
    )
    viewer = await make_user(app.state.services, name="Viewer")
    recorder.commands.clear()
    result = await data(http, "{ users(first: 3) { nodes { name } } }", None, viewer["headers"])
    assert len(result["users"]["nodes"]) == 3
    assert Counter(recorder.commands) == Counter({("find", "users"): 2})  # the caller, the page


async def test_login_and_sign_up_return_users_with_their_relations(recorded):
    app, http, _ = recorded
    await app.state.services.seed.seed(
        users=1, posts_per_user=3, products=0, categories=1, progress=lambda *_: None
    )
    login = await data(
        http,
        'mutation { login(email: "demo1@example.com", password: "demo-password")'
        " { user { name posts { title } profile { bio } } } }",
    )
    user = login["login"]["user"]
    assert len(user["posts"]) == 3
    assert user["profile"] == {"bio": "Demo account."}
    created = await data(
        http,
        'mutation { createUser(input: {name: "New One", email: "new@example.com",'
        ' password: "long-enough-password"}) { name posts { title } profile { bio } } }',
    )
    assert created["createUser"] == {"name": "New One", "posts": [], "profile": None}


def test_a_relation_not_loaded_fails_loudly_if_read():
    # A selection users_of missed must be an error, never an empty list or a null.
    with pytest.raises(RuntimeError):
        list(NOT_LOADED)
    with pytest.raises(RuntimeError):
        _ = NOT_LOADED.bio
