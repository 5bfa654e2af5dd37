"""Limits on what a request may hold, through both front doors, and the switches."""

from __future__ import annotations

import time

import httpx
import msgspec
import pytest

from gateway.app import create_app
from resolvers.negotiation import GRAPHQL_RESPONSE
from tests.conftest import running

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
DEEP = 200


def _nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


async def test_deep_json_is_400_not_500(client):
    response = await client.post(
        "/api/hello", content=_nested(5000), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["error"] == "JSON nested too deeply"
    response = await client.post(
        "/api/hello", content=_nested(DEEP), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    ok = await client.post(
        "/api/hello", content=_nested(10), headers={"Content-Type": "application/json"}
    )
    assert ok.status_code == 200


async def test_deep_json_in_graphql_is_400(client):
    body = b'{"query": "{ hello }", "variables": {"x": ' + _nested(5000) + b"}}"
    response = await client.post(
        "/graphql",
        content=body,
        headers={"Content-Type": "application/json", "Accept": GRAPHQL_RESPONSE},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_graphql_batches_are_refused(client):
    response = await client.post(
        "/graphql", json=[{"query": "{ hello }"}] * 3, headers={"Accept": GRAPHQL_RESPONSE}
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("{" + " hello" * 100_000 + "}", "larger than 32768 bytes"),  # refused unread
        ("{" + " a" * 6_000 + "}", "more than 2000 tokens"),  # refused while parsing
    ],
)
async def test_field_floods_are_refused_quickly(client, query, message):
    started = time.perf_counter()
    response = await client.post("/graphql", json={"query": query})
    assert time.perf_counter() - started < 2
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert message in body["errors"][0]["message"]


async def test_too_many_multipart_parts_is_413(client, alice, stored_files, settings):
    fields = {f"extra{i}": "x" for i in range(settings.multipart_max_parts + 5)}
    response = await client.post(
        "/api/upload",
        files={"file": ("p.png", PNG, "image/png")},
        data=fields,
        headers=alice["headers"],
    )
    assert response.status_code == 413
    response = await client.post(
        "/graphql",
        data={"operations": "{}", "map": "{}", **fields},
        files={"0": ("p.png", PNG, "image/png")},
        headers={**alice["headers"], "Apollo-Require-Preflight": "true"},
    )
    assert response.status_code == 413
    assert await stored_files() == (0, 0)


@pytest.fixture
async def locked_down(settings, mongo, db):
    app = create_app(
        msgspec.structs.replace(settings, graphql_introspection=False, graphiql=False),
        client=mongo,
    )
    transport = httpx.ASGITransport(app=app)
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield http


async def test_introspection_and_graphiql_can_be_switched_off(locked_down, client):
    query = {"query": "{ __schema { queryType { name } } }"}
    assert (await client.post("/graphql", json=query)).json()["data"]["__schema"]
    refused = (await locked_down.post("/graphql", json=query)).json()
    assert refused["errors"]
    assert "hello" in (await locked_down.post("/graphql", json={"query": "{ hello }"})).text
    page = await locked_down.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 404
    assert (await locked_down.get("/graphql/static/graphiql-init.js")).status_code == 404
    assert (await client.get("/graphql", headers={"Accept": "text/html"})).status_code == 200


@pytest.fixture
async def cors_client(settings, mongo, db):
    app = create_app(
        msgspec.structs.replace(settings, cors_origins=("https://app.example.com",)), client=mongo
    )
    transport = httpx.ASGITransport(app=app)
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield http


async def _preflight(cors_client, path, method, headers):
    """The request headers a CORS preflight from the allowed origin is told it may send."""
    preflight = await cors_client.options(
        path,
        headers={
            "Origin": "https://app.example.com",
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": headers,
        },
    )
    assert preflight.status_code in (200, 204)
    return {h.strip().lower() for h in preflight.headers["access-control-allow-headers"].split(",")}


async def test_cors_from_settings(cors_client, client):
    allowed = await cors_client.get("/api/hello", headers={"Origin": "https://app.example.com"})
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert "access-control-allow-credentials" not in allowed.headers
    denied = await cors_client.get("/api/hello", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in denied.headers
    allowed_headers = await _preflight(
        cors_client, "/graphql", "POST", "authorization, content-type, apollo-require-preflight"
    )
    assert "apollo-require-preflight" in allowed_headers
    # No origins configured: no CORS headers at all.
    plain = await client.get("/api/hello", headers={"Origin": "https://app.example.com"})
    assert "access-control-allow-origin" not in plain.headers


async def test_cors_allows_preconditions_and_exposes_validators(cors_client) -> None:
    allowed = await _preflight(
        cors_client,
        "/api/products/x",
        "PUT",
        "if-match, if-none-match, if-modified-since, if-range, range",
    )
    assert {"if-match", "if-none-match", "if-modified-since", "if-range", "range"} <= allowed
    answer = await cors_client.get("/api/hello", headers={"Origin": "https://app.example.com"})
    exposed = {
        h.strip().lower() for h in answer.headers["access-control-expose-headers"].split(",")
    }
    assert {
        "etag",
        "last-modified",
        "content-range",
        "accept-ranges",
        "x-total-count",
        "link",
        "location",
        "retry-after",
        "x-request-id",
    } <= exposed
