"""GraphQL subscriptions over WebSocket (graphql-transport-ws) and SSE, against the real
app served by uvicorn, fed by the database's change streams."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from gateway.config import Settings
from gateway.services import Services
from tests.conftest import make_user
from tests.graphql.subscription_clients import (
    live,
    live_settings,
    sse_events,
    ws_connect,
    ws_subscribe,
)

PRODUCTS = "subscription { productChanged { type id eventId product { name price category } } }"
MY_POSTS = """subscription {
  myPostsChanged { type id post { title author { name email posts { title } } } }
}"""
POSTS = "subscription { postsChanged { type post { title author { name email } } } }"
CREATE_PRODUCT = """mutation($input: CreateProductInput!) {
  createProduct(input: $input) { id }
}"""
CREATE_POST = (
    "mutation($title: String!) { createPost(input: {title: $title, content: $title}) { id } }"
)


@pytest.mark.usefixtures("db")
async def test_ws_and_sse_subscribers_receive_changes_from_rest_graphql_and_the_database(
    settings: Settings, mongo: AsyncMongoClient[Any], mongo_uri: str
) -> None:
    async with live(live_settings(settings), mongo) as (app, host):
        services: Services = app.state.services
        admin = await make_user(services, role="admin", name="Admin")
        async with (
            ws_subscribe(host, PRODUCTS) as ws,
            sse_events(host, PRODUCTS) as sse,
            httpx.AsyncClient(base_url=f"http://{host}", timeout=10) as http,
        ):
            assert sse.response.status_code == 200
            assert sse.response.headers["content-type"].startswith("text/event-stream")
            # Through REST.
            created = await http.post(
                "/api/products",
                json={"name": "Lamp", "category": "home", "price": 12.5},
                headers=admin["headers"],
            )
            assert created.status_code == 201, created.text
            rest_id = created.json()["id"]
            # Through GraphQL.
            answer = await http.post(
                "/graphql",
                json={
                    "query": CREATE_PRODUCT,
                    "variables": {"input": {"name": "Desk", "category": "home", "price": 99}},
                },
                headers=admin["headers"],
            )
            graphql_id = answer.json()["data"]["createProduct"]["id"]
            # Directly in the database, by another client.
            other: AsyncMongoClient[Any] = AsyncMongoClient(mongo_uri)
            try:
                await other[settings.db_name]["products"].update_one(
                    {"name": "Lamp"}, {"$set": {"price": 15.0}}
                )
            finally:
                await other.close()

            expected = [
                ("CREATED", rest_id, {"name": "Lamp", "price": 12.5, "category": "home"}),
                ("CREATED", graphql_id, {"name": "Desk", "price": 99.0, "category": "home"}),
                ("UPDATED", rest_id, {"name": "Lamp", "price": 15.0, "category": "home"}),
            ]
            for kind, id_, product in expected:
                message = await ws.receive()
                assert message["type"] == "next", message
                change = message["payload"]["data"]["productChanged"]
                assert (change["type"], change["id"], change["product"]) == (kind, id_, product)
                assert change["eventId"]
                name, data = await sse.event()
                assert name == "next"
                assert data["data"]["productChanged"] == change


@pytest.fixture
async def served(
    settings: Settings, mongo: AsyncMongoClient[Any], db: Any
) -> AsyncIterator[tuple[Services, str]]:
    """The app with live data on, served: its services and its host."""
    async with live(live_settings(settings), mongo) as (app, host):
        yield app.state.services, host


async def test_each_event_is_resolved_with_fresh_loaders_and_the_subscribers_rights(
    served: tuple[Services, str],
) -> None:
    services, host = served
    alice = await make_user(services, name="Alice")
    bob = await make_user(services, name="Bob")
    async with (
        ws_subscribe(host, MY_POSTS, token=alice["token"]) as mine,
        ws_subscribe(host, POSTS, token=bob["token"]) as bobs,
        httpx.AsyncClient(base_url=f"http://{host}", timeout=10) as http,
    ):
        events = []
        for title in ("first", "second"):
            answer = await http.post(
                "/graphql",
                json={"query": CREATE_POST, "variables": {"title": title}},
                headers=alice["headers"],
            )
            assert "errors" not in answer.json(), answer.text
            events.append((await mine.receive())["payload"]["data"]["myPostsChanged"])

        # Alice's own posts: her email, and her posts as they are at each event (a
        # loader kept from the first event would still show one post at the second).
        first, second = events
        assert first["type"] == second["type"] == "CREATED"
        assert first["post"]["author"]["email"] == alice["email"]
        assert [p["title"] for p in first["post"]["author"]["posts"]] == ["first"]
        assert [p["title"] for p in second["post"]["author"]["posts"]] == ["second", "first"]

        # Bob sees Alice's posts as any other user sees her: no email.
        seen = (await bobs.receive())["payload"]["data"]["postsChanged"]
        assert seen["post"]["title"] == "first"
        assert seen["post"]["author"] == {"name": "Alice", "email": None}


async def test_a_revoked_token_closes_its_subscriptions(served: tuple[Services, str]) -> None:
    services, host = served
    alice = await make_user(services, name="Alice")
    async with (
        ws_subscribe(host, MY_POSTS, token=alice["token"]) as ws,
        sse_events(host, MY_POSTS, token=alice["token"]) as sse,
        httpx.AsyncClient(base_url=f"http://{host}", timeout=10) as http,
    ):
        changed = await http.put(
            f"/api/users/{alice['id']}",
            json={"password": "a-new-password-2"},
            headers=alice["headers"],
        )
        assert changed.status_code == 200, changed.text
        assert await ws.closed() == (4403, "Token revoked")
        name, data = await sse.event()
        assert name == "next"
        assert data["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert (await sse.event())[0] == "complete"
    await asyncio.sleep(0.1)
    assert services.feed.subscriber_count == 0


@pytest.mark.usefixtures("db")
async def test_an_expired_token_closes_its_connection(
    settings: Settings, mongo: AsyncMongoClient[Any]
) -> None:
    async with live(live_settings(settings, token_ttl=1), mongo) as (app, host):
        alice = await make_user(app.state.services, name="Alice")
        async with ws_subscribe(host, MY_POSTS, token=alice["token"]) as ws:
            assert await ws.closed() == (4403, "Token expired")


@pytest.mark.usefixtures("db")
async def test_a_bad_token_is_refused(settings: Settings, mongo: AsyncMongoClient[Any]) -> None:
    async with live(live_settings(settings), mongo) as (app, host):
        async with ws_connect(host) as ws:
            await ws.send({"type": "connection_init", "payload": {"Authorization": "Bearer nope"}})
            assert await ws.closed() == (4403, "Forbidden")
        async with ws_connect(host, headers={"Authorization": "Bearer nope"}) as ws:
            await ws.send({"type": "connection_init"})
            assert await ws.closed() == (4403, "Forbidden")
        async with sse_events(host, PRODUCTS, token="nope") as sse:
            assert sse.response.status_code == 401
            body = await sse.response.aread()
            assert b"UNAUTHENTICATED" in body
        # Not signed in at all: the user's own posts are refused, the products are not.
        async with ws_subscribe(host, MY_POSTS) as ws:
            message = await ws.receive()
            assert message["type"] == "error"
            assert message["payload"][0]["extensions"]["code"] == "UNAUTHENTICATED"
        assert app.state.services.feed.subscriber_count == 0
