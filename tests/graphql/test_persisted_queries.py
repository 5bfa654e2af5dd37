"""Automatic persisted queries (Apollo's protocol) over POST and GET, and the allow-list mode."""

from __future__ import annotations

import hashlib
import json

import msgspec

from tests.graphql.support import code, serving

QUERY = "query Products($n: Int) { products(first: $n) { totalCount } }"
HASH = hashlib.sha256(QUERY.encode()).hexdigest()


def persisted(digest: str = HASH) -> dict[str, object]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


async def test_a_hash_is_unknown_until_its_text_is_sent_once(client):
    body = {"extensions": persisted(), "variables": {"n": 1}}
    missing = await client.post("/graphql", json=body)
    assert missing.status_code == 200  # as Apollo Server answers: clients then send the text
    error = missing.json()["errors"][0]
    assert (error["message"], code(error)) == (
        "PersistedQueryNotFound",
        "PERSISTED_QUERY_NOT_FOUND",
    )
    registered = await client.post("/graphql", json={**body, "query": QUERY})
    assert registered.json()["data"] == {"products": {"totalCount": 0}}
    again = await client.post("/graphql", json=body)
    assert again.json()["data"] == {"products": {"totalCount": 0}}
    assert again.json()["extensions"]["cost"] == 2


async def test_a_persisted_query_by_get(client):
    await client.post("/graphql", json={"query": QUERY, "extensions": persisted()})
    response = await client.get(
        "/graphql",
        params={"extensions": json.dumps(persisted()), "variables": json.dumps({"n": 2})},
    )
    assert response.status_code == 200
    assert response.json()["data"] == {"products": {"totalCount": 0}}


async def test_a_mutation_cannot_be_run_by_get_through_its_hash(client, db):
    mutation = 'mutation { createUser(input: {name: "Eve", email: "e@x.io", password: "pw-123456"}) { id } }'
    digest = hashlib.sha256(mutation.encode()).hexdigest()
    response = await client.get(
        "/graphql", params={"query": mutation, "extensions": json.dumps(persisted(digest))}
    )
    assert response.status_code == 405
    response = await client.get("/graphql", params={"extensions": json.dumps(persisted(digest))})
    assert response.status_code == 405
    assert await db["users"].count_documents({}) == 0


async def test_a_text_that_does_not_match_its_hash_is_refused(client):
    wrong = persisted(hashlib.sha256(b"something else").hexdigest())
    response = await client.post("/graphql", json={"query": QUERY, "extensions": wrong})
    error = response.json()["errors"][0]
    assert (code(error), error["message"]) == (
        "BAD_USER_INPUT",
        "provided sha does not match query",
    )
    missing = await client.post("/graphql", json={"extensions": wrong})
    assert code(missing.json()["errors"][0]) == "PERSISTED_QUERY_NOT_FOUND"  # nothing kept


async def test_malformed_persisted_query_extensions_are_bad_input(client):
    for extension in (
        {"persistedQuery": "x"},
        {"persistedQuery": {"version": 2, "sha256Hash": HASH}},
        {"persistedQuery": {"version": 1, "sha256Hash": "abc"}},
        {"persistedQuery": {"version": 1, "sha256Hash": HASH.upper()}},
    ):
        response = await client.post("/graphql", json={"query": QUERY, "extensions": extension})
        assert code(response.json()["errors"][0]) == "BAD_USER_INPUT", extension


async def test_in_allowlist_mode_nothing_else_runs(settings, mongo, db, tmp_path):
    manifest = tmp_path / "operations.json"
    manifest.write_text(
        json.dumps(
            {
                "format": "apollo-persisted-query-manifest",
                "version": 1,
                "operations": [{"id": HASH, "name": "Products", "type": "query", "body": QUERY}],
            }
        )
    )
    locked = msgspec.structs.replace(settings, graphql_allowlist=str(manifest))
    async with serving(locked, mongo) as http:
        by_hash = await http.post(
            "/graphql", json={"extensions": persisted(), "variables": {"n": 1}}
        )
        assert by_hash.json()["data"] == {"products": {"totalCount": 0}}
        by_text = await http.post("/graphql", json={"query": QUERY})
        assert by_text.json()["data"] == {"products": {"totalCount": 0}}
        for other in ("{ hello }", QUERY + " "):
            refused = (await http.post("/graphql", json={"query": other})).json()
            assert "data" not in refused
            assert refused["errors"][0]["message"] == "Operation not in the allow-list"
        unknown = hashlib.sha256(b"{ hello }").hexdigest()
        body = {"query": "{ hello }", "extensions": persisted(unknown)}
        refused = (await http.post("/graphql", json=body)).json()
        assert refused["errors"][0]["message"] == "Operation not in the allow-list"
