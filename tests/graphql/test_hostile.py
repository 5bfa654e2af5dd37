"""Single hostile requests: costly shapes, validation bombs, malformed multipart, ambiguous
documents, production defaults. Each is refused as a client error before anything runs."""

from __future__ import annotations

import json
import time

import msgspec
import pytest

from gateway.config import Settings
from resolvers import graphql_schema
from schema.documents import DocumentCache
from tests.graphql.support import code, data, gql, serving

GRAPHQL_RESPONSE = "application/graphql-response+json"
SIGN_UP = 'createUser(input: {name: "Eve", email: "eve@x.io", password: "password-1"})'


async def refused(client, query, headers=None, variables=None):
    """The only error of a request refused before it ran (no ``data``)."""
    response = await client.post(
        "/graphql", json={"query": query, "variables": variables or {}}, headers=headers or {}
    )
    assert response.status_code == 200, response.text  # application/json: a 200
    body = response.json()
    assert "data" not in body, body
    assert {code(err) for err in body["errors"]} == {"BAD_USER_INPUT"}, body
    return body["errors"][0]


# -- cost ------------------------------------------------------------------------------------

INTROSPECTION = (
    "__schema { types { name kind description fields(includeDeprecated: true) { name "
    "description args { name description type { kind name ofType { kind name ofType { kind "
    "name } } } defaultValue } type { kind name ofType { kind name ofType { kind name } } } "
    "isDeprecated deprecationReason } } }"
)
POSTS_OF_POSTS = "{ user(id: $id) { posts { author { posts { author { posts { id } } } } } } }"


@pytest.mark.parametrize(
    "query",
    [
        "query($id: ID!) " + POSTS_OF_POSTS,
        "{ users(first: 100) { nodes { posts { author { posts { id } } } } } }",
        "{ users { nodes { posts { id title content createdAt } } } }",  # no first: 100
        "{ a: users(first: 100) { nodes { posts { id } } } b: users(first: 100) { nodes { posts "
        "{ id } } } }",  # aliases each count
        "{ ...F ...G } fragment F on Query { users(first: 100) { nodes { posts { id } } } } "
        "fragment G on Query { other: users(first: 100) { nodes { posts { id } } } }",
        "{ "
        + " ".join(f"a{n}: {INTROSPECTION}" for n in range(12))
        + " }",  # each 1,717: aliased introspections
    ],
)
async def test_costly_shapes_are_refused_before_they_run(client, alice, query):
    err = await refused(client, query, alice["headers"], {"id": alice["id"]})
    assert err["extensions"]["cost"] > err["extensions"]["maxCost"] == 20_000
    assert "costs" in err["message"]


async def test_introspection_cycles_are_refused(client):
    cycle = "{ __schema { types { fields { type { ofType { fields { type { ofType { fields "
    cycle += "{ name } } } } } } } } } }"
    err = await refused(client, cycle)
    assert "introspection depth" in err["message"]


async def test_a_costly_mutation_writes_nothing(client, db):
    query = f"mutation {{ {SIGN_UP} {{ id posts {{ author {{ posts {{ author {{ posts {{ id }} }} }} }} }} }} }}"
    await refused(client, query)
    assert await db["users"].count_documents({}) == 0


async def test_every_answer_reports_its_cost(client, alice):
    body = await gql(client, "{ products(first: 10) { nodes { id name category price } } }")
    # products 1, nodes 1 + 10 products x 4 fields
    assert body["extensions"]["cost"] == 42
    body = await gql(
        client,
        "query($n: Int) { products(first: $n) { totalCount nodes { id } } }",
        {"n": 3},
    )
    assert body["extensions"]["cost"] == 1 + 1 + 1 + 3
    fragment = "{ ...P ...P } fragment P on Query { me { id posts { id } } }"
    body = await gql(client, fragment, headers=alice["headers"])
    assert body["extensions"]["cost"] == 2 * (1 + 1 + 1 + 100)  # each spread counts


async def test_the_readme_queries_fit(client, alice):
    readme = (
        '{ products(first: 10, category: "home", orderBy: {field: PRICE, direction: ASC}) {'
        " totalCount pageInfo { hasNextPage endCursor } nodes { id name price } } }",
        "{ users(first: 50) { nodes { name email posts { title createdAt }"
        " profile { bio avatarUrl } } } }",
    )
    for query in readme:
        await data(client, query, headers=alice["headers"])


async def test_the_graphql_rate_limit_counts_cost(settings, mongo, db):
    tight = msgspec.structs.replace(settings, rate_graphql_ip="100/60")
    async with serving(tight, mongo) as http:
        cheap = await http.post("/graphql", json={"query": "{ hello }"})
        assert cheap.status_code == 200
        costly = "{ products(first: 40) { nodes { id name price } } }"  # 122 points
        assert (await http.post("/graphql", json={"query": costly})).status_code == 200
        limited = await http.post("/graphql", json={"query": "{ hello }"})
        assert limited.status_code == 429
        assert int(limited.headers["retry-after"]) >= 1
        assert code(limited.json()["errors"][0]) == "RATE_LIMITED"


# -- validation at a bounded price -----------------------------------------------------------

BOMBS = [
    ("{" + " me { id name }" * 300 + "}", "selected over 3 times"),
    ("{" + " me { id name } me { name }" * 150 + "}", "selected over 3 times"),
    ("{" + " ... on Query { me { id } }" * 200 + "}", "selected over 3 times"),
    (
        "{ " + " ".join(f"...F{i}" for i in range(150)) + " } "
        + " ".join(f"fragment F{i} on Query {{ me {{ id }} }}" for i in range(150)),
        "fragments",
    ),
    (
        "{ me { ...F0 } } "
        + " ".join(f"fragment F{i} on User {{ posts {{ id }} ...F{i + 1} ...F{i + 2} }}" for i in range(9))
        + " fragment F9 on User { id } fragment F10 on User { id }",
        "fragments",
    ),
    ("{ hello " + "@include(if: true) " * 200 + "}", "directives"),
    ("query(" + " ".join(f"$v{i}: Int" for i in range(400)) + ") { hello }", "variables"),
    ('{ product(' + 'id: "1" ' * 600 + ") { id } }", "arguments"),
    ('{ product(id: "' + "a" * 200_000 + '") { id } }', "larger than"),
    ("# " + "x" * 200_000 + "\n{ hello }", "larger than"),
]  # fmt: skip


@pytest.mark.parametrize(("query", "message"), BOMBS)
async def test_validation_bombs_are_refused_cheaply(client, query, message):
    started = time.perf_counter()
    err = await refused(client, query)
    assert time.perf_counter() - started < 1  # each took 0.5 to 1.5 s of the loop before
    assert message in err["message"]


def test_a_document_at_the_caps_is_accepted(settings):
    """The caps refuse only what no sane query needs: a name repeated as often as allowed,
    and aliases up to their limit, pass."""
    cache = graphql_schema(settings).documents
    near = "{" + " me { id name }" * 3 + " ".join(f" a{i}: hello" for i in range(25)) + "}"
    assert cache.prepare(near).errors == []


# -- memory ----------------------------------------------------------------------------------


def test_the_document_cache_is_bounded_in_bytes(settings: Settings):
    schema = graphql_schema(settings)
    assert schema.documents.prepare("{ hello }") is schema.documents.prepare("{ hello }")
    budget = 1024 * 1024
    cache = DocumentCache(
        schema._schema, [], max_bytes=32768, max_tokens=2000, suggestions=False,
        budget_bytes=budget,
    )  # fmt: skip
    big = '{ hello product(id: "%s") { id } }'
    for n in range(50):  # large documents are never kept
        cache.prepare(big % (str(n) * 9000))
    assert len(cache) == 0
    for n in range(500):  # small ones within the budget, the oldest dropped
        cache.prepare(f'query Q{n} {{ hello product(id: "{"x" * 900}") {{ id }} }}')
    assert 0 < cache.weight <= budget
    assert 0 < len(cache) < 500


# -- malformed multipart ---------------------------------------------------------------------

UPLOAD = 'mutation($f: Upload!) { uploadFile(file: $f, path: "x/y.png") { path } }'
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.mark.parametrize(
    ("operations", "files_map"),
    [
        ({"query": UPLOAD, "variables": {"f": None}}, {"0": ["variables.f.x.y"]}),
        ({"query": UPLOAD, "variables": {"f": None}}, {"0": [1]}),
        ({"query": UPLOAD, "variables": {"f": None}}, {"0": [None]}),
        ({"query": UPLOAD, "variables": {"f": None}}, []),
        ({"query": UPLOAD, "variables": {"f": None}}, "variables.f"),
        ({"query": UPLOAD, "variables": None}, {"0": ["variables.f"]}),
        ({"query": UPLOAD, "variables": {"f": [None]}}, {"0": ["variables.f.3"]}),
        ({"query": UPLOAD, "variables": {"f": [None]}}, {"0": ["variables.f.-1"]}),
        ({"query": UPLOAD, "variables": {"f": "taken"}}, {"0": ["variables.f"]}),
        ({"query": UPLOAD, "variables": {"f": None}}, {"0": ["query"]}),
        ({"query": UPLOAD, "variables": {"f": None}}, {"0": []}),
        ({"query": UPLOAD, "variables": {"f": None}}, {"1": ["variables.f"]}),  # not sent
        ({"query": UPLOAD, "variables": {"f": None}}, {}),  # sent, not mapped
        ([{"query": UPLOAD}], {"0": ["variables.f"]}),
        ("not an object", {"0": ["variables.f"]}),
    ],
)
async def test_malformed_multipart_is_a_400(client, alice, stored_files, operations, files_map):
    response = await client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps(files_map)},
        files={"0": ("p.png", PNG, "image/png")},
        headers={**alice["headers"], "Apollo-Require-Preflight": "true"},
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert "data" not in body
    assert code(body["errors"][0]) == "BAD_USER_INPUT"
    assert body["errors"][0]["message"]
    assert await stored_files() == (0, 0)


@pytest.mark.parametrize("missing", ["operations", "map"])
async def test_multipart_without_its_fields_is_a_400(client, alice, missing):
    fields = {"operations": json.dumps({"query": UPLOAD, "variables": {"f": None}})}
    fields["map"] = json.dumps({"0": ["variables.f"]})
    del fields[missing]
    response = await client.post(
        "/graphql",
        data=fields,
        files={"0": ("p.png", PNG, "image/png")},
        headers={**alice["headers"], "Apollo-Require-Preflight": "true"},
    )
    assert response.status_code == 400
    assert missing in response.json()["errors"][0]["message"]


# -- which operation -------------------------------------------------------------------------


async def test_several_operations_need_an_operation_name(client, db):
    query = f"mutation A {{ {SIGN_UP} {{ id }} }} query B {{ hello }}"
    err = await refused(client, query)
    assert "Must provide operation name" in err["message"]
    err = await refused(client, query.replace("query B", "query C"), variables=None)
    assert await db["users"].count_documents({}) == 0
    body = (await client.post("/graphql", json={"query": query, "operationName": "Z"})).json()
    assert "Unknown operation named 'Z'" in body["errors"][0]["message"]
    ran = (await client.post("/graphql", json={"query": query, "operationName": "B"})).json()
    assert ran["data"] == {"hello": "Hello from the gateway"}
    assert await db["users"].count_documents({}) == 0


# -- GraphQL over HTTP -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "{ hello",  # syntax
        "{ nothing }",  # validation
        "{ users { nodes { posts { author { posts { id } } } } } }",  # cost
        "query A { hello } query B { hello }",  # which operation
    ],
)
async def test_request_errors_are_400_in_the_graphql_response_type(client, query):
    response = await client.post(
        "/graphql", json={"query": query}, headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    body = response.json()
    assert "data" not in body
    assert code(body["errors"][0]) == "BAD_USER_INPUT"
    legacy = await client.post("/graphql", json={"query": query})
    assert legacy.status_code == 200
    assert legacy.headers["content-type"].startswith("application/json")


async def test_field_errors_stay_200_in_the_graphql_response_type(client):
    response = await client.post(
        "/graphql",
        json={"query": '{ hello file(path: "no/such") { path } }'},
        headers={"Accept": f"{GRAPHQL_RESPONSE}, application/json;q=0.9"},
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(GRAPHQL_RESPONSE)
    assert code(response.json()["errors"][0]) == "NOT_FOUND"


@pytest.mark.parametrize(
    ("accept", "media_type"),
    [
        (None, "application/json"),
        ("*/*", "application/json"),
        ("application/json", "application/json"),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"application/json, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE};q=0.5, application/json", "application/json"),
    ],
)
async def test_the_response_media_type_follows_accept(client, accept, media_type):
    headers = {"Accept": accept} if accept else {}
    response = await client.post("/graphql", json={"query": "{ hello }"}, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)


# -- production defaults ---------------------------------------------------------------------


@pytest.fixture
def production(settings):
    return msgspec.structs.replace(settings, env="production")


async def test_production_turns_off_introspection_graphiql_and_suggestions(production, mongo, db):
    async with serving(production, mongo) as http:
        body = await http.post("/graphql", json={"query": "{ __schema { types { name } } }"})
        assert "introspection" in body.json()["errors"][0]["message"].lower()
        assert (await http.get("/graphql", headers={"Accept": "text/html"})).status_code == 404
        typo = (await http.post("/graphql", json={"query": "{ helo }"})).json()
        assert "Cannot query field 'helo'" in typo["errors"][0]["message"]
        assert "Did you mean" not in json.dumps(typo)
        enum = await http.post(
            "/graphql",
            json={
                "query": "query($o: ProductOrder) { products(orderBy: $o) { totalCount } }",
                "variables": {"o": {"field": "PRICEE"}},
            },
        )
        assert "Did you mean" not in enum.text
        assert (await http.post("/graphql", json={"query": "{ __typename }"})).status_code == 200


async def test_production_can_turn_them_back_on(production, mongo, db):
    opened = msgspec.structs.replace(
        production, graphql_introspection=True, graphiql=True, graphql_suggestions=True
    )
    async with serving(opened, mongo) as http:
        body = await http.post("/graphql", json={"query": "{ __schema { types { name } } }"})
        assert body.json()["data"]["__schema"]["types"]
        assert (await http.get("/graphql", headers={"Accept": "text/html"})).status_code == 200
        typo = (await http.post("/graphql", json={"query": "{ helo }"})).json()
        assert "Did you mean 'hello'?" in typo["errors"][0]["message"]


async def test_development_keeps_them_on(client):
    typo = (await client.post("/graphql", json={"query": "{ helo }"})).json()
    assert "Did you mean 'hello'?" in typo["errors"][0]["message"]
