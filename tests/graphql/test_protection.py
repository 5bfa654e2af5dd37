"""What is refused before anything runs: deep queries, alias floods, mutations by GET, bad requests."""

from __future__ import annotations

import time

import msgspec
import pytest

from tests.graphql.support import code, data, error, serving

CREATE_USER = """mutation { createUser(input: {name: "Eve", email: "eve@example.com",
                                              password: "password-1"}) { id } }"""


def nested(depth: int) -> str:
    """A query whose deepest field sits ``depth`` levels below the top one (``me``)."""
    hops = ["posts", "author"] * depth
    return (
        "{ me { " + "".join(f"{hop} {{ " for hop in hops[: depth - 1]) + "id" + " }" * depth + " }"
    )


async def assert_refused(client, query, headers, fragment_of_message):
    body = await client.post("/graphql", json={"query": query}, headers=headers)
    assert body.status_code == 200
    result = body.json()
    assert "data" not in result  # refused whole, as a request error: not one field ran
    assert any(fragment_of_message in err["message"] for err in result["errors"]), result
    assert {code(err) for err in result["errors"]} == {"BAD_USER_INPUT"}


async def test_queries_up_to_the_depth_limit_run(alice, settings, mongo):
    assert settings.graphql_max_depth == 10
    # Ten levels of lists would cost far past the default limit: lift it to see depth alone.
    lifted = msgspec.structs.replace(settings, graphql_max_cost=10**12)
    async with serving(lifted, mongo) as http:
        result = await data(http, nested(10), headers=alice["headers"])
    assert result == {"me": {"posts": []}}


async def test_a_too_deep_query_is_refused(client, alice):
    await assert_refused(client, nested(11), alice["headers"], "exceeds maximum operation depth")


async def test_depth_counts_through_fragments_and_inline_fragments(client, alice):
    through_fragments = (
        "query Deep { me { ...A } } "
        "fragment A on User { posts { author { ...B } } } "
        "fragment B on User { posts { author { ...C } } } "
        "fragment C on User { posts { author { ... on User { posts { author { "
        "posts { author { posts { id } } } } } } } } }"
    )
    await assert_refused(client, through_fragments, alice["headers"], "'Deep' exceeds")
    inline = "{ me { " + "... on User { posts { author { " * 6 + "id" + " } } }" * 6 + " } }"
    await assert_refused(client, inline, alice["headers"], "exceeds maximum operation depth")


async def test_introspection_is_not_limited_by_depth(client):
    query = (
        "{ __schema { types { fields { type { ofType { ofType { ofType { ofType { "
        "ofType { ofType { ofType { name } } } } } } } } } } } }"
    )
    result = await data(client, query)
    assert result["__schema"]["types"]


async def test_an_alias_flood_is_refused(client, settings):
    allowed = " ".join(f"a{n}: hello" for n in range(settings.graphql_max_aliases))
    assert len(await data(client, f"{{ {allowed} }}")) == settings.graphql_max_aliases
    flood = " ".join(f"a{n}: hello" for n in range(settings.graphql_max_aliases + 1))
    await assert_refused(client, f"{{ {flood} }}", {}, "aliases")


async def test_aliases_count_through_fragments_each_time_they_are_spread(client):
    # 4 aliases in a fragment spread 8 times: 32 aliases, though the text holds 4.
    query = (
        "{ " + "...F " * 7 + "... on Query { ...G } } "
        "fragment F on Query { ...G } "
        "fragment G on Query { a: hello b: hello c: hello d: hello }"
    )
    await assert_refused(client, query, {}, "aliases")


async def test_aliases_count_over_the_whole_document(client, settings):
    half = settings.graphql_max_aliases // 2 + 1
    first = " ".join(f"a{n}: hello" for n in range(half))
    second = " ".join(f"b{n}: hello" for n in range(half))
    body = {"query": f"query A {{ {first} }} query B {{ {second} }}", "operationName": "A"}
    result = (await client.post("/graphql", json=body)).json()
    assert "data" not in result
    assert "aliases found" in result["errors"][0]["message"]


async def test_fragment_fan_out_is_measured_quickly(client):
    # Each fragment spreads the next four times: 4**12 spreads if walked naively.
    levels = 12
    fragments = " ".join(
        f"fragment F{n} on Query {{ a{n}: hello ...F{n + 1} ...F{n + 1} ...F{n + 1} ...F{n + 1} }}"
        for n in range(levels)
    )
    query = f"{{ ...F0 }} {fragments} fragment F{levels} on Query {{ hello }}"
    started = time.perf_counter()
    await assert_refused(client, query, {}, "fragments")
    assert time.perf_counter() - started < 2


async def test_unknown_and_cyclic_fragments_are_bad_input(client):
    await assert_refused(client, "{ ...Missing }", {}, "Unknown fragment")
    cycle = "{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }"
    await assert_refused(client, cycle, {}, "Cannot spread fragment")


async def test_mutations_by_get_are_refused_and_write_nothing(client, db):
    response = await client.get("/graphql", params={"query": CREATE_USER})
    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    body = response.json()
    assert code(body["errors"][0]) == "BAD_USER_INPUT"
    assert "mutations are not allowed" in body["errors"][0]["message"]
    assert await db["users"].count_documents({}) == 0
    ok = await client.post("/graphql", json={"query": CREATE_USER})
    assert ok.json()["data"]["createUser"]["id"]


async def test_queries_by_get_run(client):
    response = await client.get("/graphql", params={"query": "{ hello }"})
    assert response.status_code == 200
    assert response.json() == {
        "data": {"hello": "Hello from the gateway"},
        "extensions": {"cost": 1},
    }


@pytest.mark.parametrize(
    ("content", "content_type", "status"),
    [
        (b"{not json", "application/json", 400),
        (b'{"query": 42}', "application/json", 400),
        (b'{"variables": {}}', "application/json", 400),
        (b'{"query": "{ hello }", "variables": "x"}', "application/json", 400),
        (b'{"query": "{ hello }", "operationName": {"a": 1}}', "application/json", 400),
        (b'{"query": "{ hello }", "extensions": []}', "application/json", 400),
        (b'[{"query": "{ hello }"}]', "application/json", 400),
        # JSON, but not an object: Strawberry reads it as one (AttributeError: a 500).
        (b"null", "application/json", 400),
        (b" 1", "application/json", 400),
        (b'"{ hello }"', "application/json", 400),
        (b"\n true", "application/json", 400),
        (b"nul", "application/json", 400),
        (b"query=%7B+hello+%7D", "application/x-www-form-urlencoded", 415),
        (b"{ hello }", "text/plain", 415),
        (b"{ hello }", "application/graphql", 415),
    ],
)
async def test_malformed_requests_get_a_graphql_error(client, db, content, content_type, status):
    """A request error is a 4xx in application/graphql-response+json; in application/json,
    the GraphQL over HTTP specification answers a malformed GraphQL request with 200."""
    for accept, expected in (
        ("application/graphql-response+json", status),
        ("application/json", 200 if status == 400 else status),
    ):
        response = await client.post(
            "/graphql", content=content, headers={"content-type": content_type, "accept": accept}
        )
        assert response.status_code == expected, (accept, response.text)
        assert response.headers["content-type"].startswith(accept)
        body = response.json()
        assert "data" not in body
        assert code(body["errors"][0]) == "BAD_USER_INPUT"
        assert body["errors"][0]["message"]


async def test_a_json_body_keeps_the_json_limit(client, settings):
    padding = " " * settings.max_body_bytes
    response = await client.post(
        "/graphql",
        content=b'{"query": "{ hello }"' + padding.encode() + b"}",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 413
    assert code(response.json()["errors"][0]) == "BAD_USER_INPUT"


async def test_syntax_and_validation_errors_are_bad_input(client):
    for query, message in (
        ("{ hello", "Syntax Error"),
        ("{ nothing }", "Cannot query field 'nothing'"),
        ('{ product(id: 1, extra: "x") { id } }', "Unknown argument 'extra'"),
        ("query($n: Int!) { products(first: $n) { totalCount } }", "Variable '$n'"),
    ):
        err = await error(client, query)
        assert code(err) == "BAD_USER_INPUT"
        assert message in err["message"]


async def test_wrong_method_is_405_with_allow(client):
    response = await client.put("/graphql", json={"query": "{ hello }"})
    assert response.status_code == 405
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}
