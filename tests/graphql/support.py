"""Helpers for the GraphQL tests: send an operation, read its data or its error."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import pytest

from gateway.app import create_app
from gateway.config import Settings
from tests.conftest import running

ENDPOINT = "/graphql"


async def gql(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """POST an operation as JSON; GraphQL answers 200 whatever the outcome."""
    response = await client.post(
        ENDPOINT, json={"query": query, "variables": variables or {}}, headers=headers or {}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    return body


async def data(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The data of an operation that must succeed."""
    body = await gql(client, query, variables, headers)
    assert "errors" not in body, body
    result: dict[str, Any] = body["data"]
    return result


async def error(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The only error of an operation that must fail."""
    body = await gql(client, query, variables, headers)
    assert len(body.get("errors", [])) == 1, body
    only: dict[str, Any] = body["errors"][0]
    return only


def code(err: dict[str, Any]) -> str:
    value: str = err["extensions"]["code"]
    return value


@contextlib.asynccontextmanager
async def serving(settings: Settings, mongo_client: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a gateway of its own, built with ``settings`` over ``mongo_client``."""
    app = create_app(settings, client=mongo_client)
    transport = httpx.ASGITransport(app=app)
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield http


@pytest.fixture(name="settings", params=[True, False], ids=["fast", "plain"])
def both_executions(settings: Settings, request: pytest.FixtureRequest) -> Settings:
    """The tests' settings, once with the fast execution on and once off: import it
    into a test module to run every test there both ways."""
    fast: bool = request.param
    return msgspec.structs.replace(settings, graphql_fast_execution=fast)
