"""Errors: codes for refused credentials, masking of the unexpected, a database that is away."""

from __future__ import annotations

import time

import jwt
import msgspec
import pytest
from graphql import GraphQLError
from pymongo import AsyncMongoClient
from pymongo.errors import ServerSelectionTimeoutError

from gateway.db import utcnow
from gateway.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
)
from schema.errors import format_error
from tests.conftest import TEST_SECRET
from tests.graphql.support import code, data, error, gql, serving

SIGN_UP = """mutation { createUser(input: {name: "Eve", email: "eve@example.com",
                                            password: "password-1"}) { id } }"""
BROKEN = "query($id: ID!) { product(id: $id) { price } }"


async def broken_product(db) -> str:
    """A record the product service cannot read: it fails in a way no rule foresees."""
    now = utcnow()
    doc = {"name": "x", "category": "x", "price": "cheap", "createdAt": now, "updatedAt": now}
    return str((await db["products"].insert_one(doc)).inserted_id)


def forged(claims: dict, secret: str = TEST_SECRET, algorithm: str = "HS256") -> dict[str, str]:
    token = jwt.encode(claims, secret, algorithm=algorithm)
    return {"Authorization": f"Bearer {token}"}


async def test_a_refused_token_fails_every_operation_and_runs_nothing(client, db):
    for headers in (
        {"Authorization": "Bearer not-a-jwt"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
        forged({"sub": "x", "role": "admin", "iat": 0, "exp": 1, "pwv": 0}),  # expired
        forged(
            {"sub": "x", "role": "admin", "iat": int(time.time()), "exp": 2**40, "pwv": 0},
            secret="another-secret-" + "y" * 40,
        ),
        {"Authorization": "Bearer " + jwt.encode({"sub": "x"}, None, algorithm="none")},
    ):
        for query in ("{ hello }", "{ products(first: 1) { totalCount } }", SIGN_UP):
            body = await gql(client, query, headers=headers)
            assert "data" not in body  # a request error: nothing ran
            assert [(code(e), e["message"]) for e in body["errors"]] == [
                ("UNAUTHENTICATED", "Invalid token")
            ]
            # In the GraphQL over HTTP media type, the refusal is a 401, as in REST.
            response = await client.post(
                "/graphql",
                json={"query": query},
                headers={**headers, "Accept": "application/graphql-response+json"},
            )
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == "Bearer"
            assert response.headers["content-type"].startswith("application/graphql-response+json")
    assert await db["users"].count_documents({}) == 0


async def test_a_token_of_a_deleted_user_is_refused(client, alice):
    await data(
        client, "mutation($id: ID!) { deleteUser(id: $id) }", {"id": alice["id"]}, alice["headers"]
    )
    err = await error(client, "{ hello }", headers=alice["headers"])
    assert (code(err), err["message"]) == ("UNAUTHENTICATED", "Invalid token")


async def test_no_token_is_anonymous(client, alice):
    assert await data(client, "{ hello me { id } }") == {
        "hello": "Hello from the gateway",
        "me": None,
    }
    err = await error(client, "{ users(first: 1) { totalCount } }")
    assert (code(err), err["message"]) == ("UNAUTHENTICATED", "No token provided")


async def test_partial_results_keep_the_fields_that_worked(client):
    body = await gql(client, '{ hello product(id: "nope") { id } }')
    assert body["data"] is None  # product is non-null, so the whole data goes
    body = await gql(client, '{ hello me { id } nothing: file(path: "no/such") { path } }')
    assert body["data"] is None
    assert code(body["errors"][0]) == "NOT_FOUND"
    assert body["errors"][0]["path"] == ["nothing"]


async def test_an_unexpected_error_is_masked_and_is_not_a_500(client, db):
    product_id = await broken_product(db)
    response = await client.post(
        "/graphql", json={"query": BROKEN, "variables": {"id": product_id}}
    )
    assert response.status_code == 200
    err = response.json()["errors"][0]
    assert err["message"] == "Internal server error"
    assert err["path"] == ["product"]
    assert err["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    # The tests run in development mode, where the cause is shown to help debugging.
    assert err["extensions"]["exception"]["message"].startswith("ValueError")
    assert err["extensions"]["exception"]["stacktrace"]


async def test_production_masks_the_cause_too(settings, mongo, db):
    production = msgspec.structs.replace(settings, env="production")
    product_id = await broken_product(db)
    async with serving(production, mongo) as http:
        response = await http.post(
            "/graphql", json={"query": BROKEN, "variables": {"id": product_id}}
        )
        assert response.status_code == 200
        assert response.json()["errors"][0] == {
            "message": "Internal server error",
            "locations": [{"line": 1, "column": 19}],
            "path": ["product"],
            "extensions": {"code": "INTERNAL_SERVER_ERROR"},
        }
        assert "cheap" not in response.text


async def test_a_database_that_is_away_is_reported_like_rest(settings):
    quick = msgspec.structs.replace(settings, mongo_timeout_ms=200)
    # Nothing listens on port 9 (discard): every command fails to find a server.
    away: AsyncMongoClient = AsyncMongoClient(
        "mongodb://127.0.0.1:9", serverSelectionTimeoutMS=200, tz_aware=True
    )
    try:
        async with serving(quick, away) as http:
            response = await http.post(
                "/graphql", json={"query": "{ products(first: 1) { totalCount } }"}
            )
            # Nothing could be answered: a 503 with Retry-After, as REST answers.
            assert (response.status_code, response.headers["retry-after"]) == (503, "5")
            body = response.json()
            err = body["errors"][0]
            assert (err["message"], code(err)) == ("Database unavailable", "INTERNAL_SERVER_ERROR")
            assert err["extensions"]["retryAfter"] == 5
            rest = await http.get("/api/products")
            assert (rest.status_code, rest.json()["error"]) == (503, "Database unavailable")
            # A token cannot be checked either: the request fails with the same error.
            token = forged({"sub": "0" * 24, "role": "user", "iat": 0, "exp": 2**40, "pwv": 0})
            response = await http.post("/graphql", json={"query": "{ hello }"}, headers=token)
            assert response.status_code == 503
            body = response.json()
            assert "data" not in body
            assert body["errors"][0]["message"] == "Database unavailable"
    finally:
        await away.close()


@pytest.mark.parametrize(
    ("cause", "message", "extensions"),
    [
        (ValidationFailed("Validation failed", ["name: too short"]), "Validation failed",
         {"code": "BAD_USER_INPUT", "details": ["name: too short"]}),
        (Unauthenticated("No token provided"), "No token provided", {"code": "UNAUTHENTICATED"}),
        (Forbidden("Admin role required"), "Admin role required", {"code": "FORBIDDEN"}),
        (NotFound("User not found"), "User not found", {"code": "NOT_FOUND"}),
        (Conflict("Email already registered"), "Email already registered", {"code": "CONFLICT"}),
        (PayloadTooLarge("File too large"), "File too large", {"code": "BAD_USER_INPUT"}),
        (UnsupportedMediaType("Wrong type"), "Wrong type", {"code": "BAD_USER_INPUT"}),
        (RateLimited("Too many requests", retry_after=7), "Too many requests",
         {"code": "RATE_LIMITED", "retryAfter": 7}),
        (ServerSelectionTimeoutError("no server"), "Database unavailable",
         {"code": "INTERNAL_SERVER_ERROR", "retryAfter": 5}),
        (ZeroDivisionError("boom"), "Internal server error", {"code": "INTERNAL_SERVER_ERROR"}),
    ],
)  # fmt: skip
def test_every_domain_error_has_its_code_and_rest_message(cause, message, extensions):
    raised = GraphQLError(str(cause), path=["field"], original_error=cause)
    formatted = format_error(raised, debug=False)
    assert (formatted["message"], formatted["extensions"]) == (message, extensions)
    assert formatted["path"] == ["field"]
