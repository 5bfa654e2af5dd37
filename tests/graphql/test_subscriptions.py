"""GraphQL subscriptions over WebSocket (graphql-transport-ws) and SSE, against the real
app served by uvicorn, fed by the database's change streams."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any
from unittest.mock import ANY

import httpx
import pytest
from pymongo import AsyncMongoClient
from websockets.exceptions import InvalidStatus

from gateway.config import Settings
from gateway.documents.posts import new_post
from gateway.documents.products import new_product
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

            async def received(kind: str, id_: str, product: dict[str, Any]) -> None:
                message = await ws.receive()
                assert message["type"] == "next", message
                change = message["payload"]["data"]["productChanged"]
                assert (change["type"], change["id"], change["product"]) == (kind, id_, product)
                assert change["eventId"]
                name, data = await sse.event()
                assert name == "next"
                assert data["data"]["productChanged"] == change

            # A change carries its document as it is when the feed reads it: the update
            # below waits for the creations, so that they are read before it.
            await received("CREATED", rest_id, {"name": "Lamp", "price": 12.5, "category": "home"})
            await received(
                "CREATED", graphql_id, {"name": "Desk", "price": 99.0, "category": "home"}
            )
            # Directly in the database, by another client.
            other: AsyncMongoClient[Any] = AsyncMongoClient(mongo_uri)
            try:
                await other[settings.db_name]["products"].update_one(
                    {"name": "Lamp"}, {"$set": {"price": 15.0}}
                )
            finally:
                await other.close()
            await received("UPDATED", rest_id, {"name": "Lamp", "price": 15.0, "category": "home"})


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


@pytest.mark.parametrize(
    ("method", "body", "admin_acts"),
    [
        ("PUT", {"password": "a-new-password-2"}, False),  # the password changed
        ("DELETE", None, False),  # the user deleted
        ("PUT", {"role": "admin"}, True),  # another role: other rights
    ],
    ids=["password", "deleted", "role"],
)
async def test_a_revoked_token_closes_its_subscriptions(
    served: tuple[Services, str], method: str, body: dict[str, Any] | None, admin_acts: bool
) -> None:
    services, host = served
    alice = await make_user(services, name="Alice")
    actor = await make_user(services, role="admin") if admin_acts else alice
    async with (
        ws_subscribe(host, MY_POSTS, token=alice["token"]) as ws,
        sse_events(host, MY_POSTS, token=alice["token"]) as sse,
        httpx.AsyncClient(base_url=f"http://{host}", timeout=10) as http,
    ):
        changed = await http.request(
            method, f"/api/users/{alice['id']}", json=body, headers=actor["headers"]
        )
        assert changed.status_code in {200, 204}, changed.text
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


@pytest.mark.usefixtures("db")
async def test_a_subscription_over_the_maximum_cost_is_refused_before_subscribing(
    settings: Settings, mongo: AsyncMongoClient[Any]
) -> None:
    async with live(live_settings(settings, graphql_max_cost=3), mongo) as (app, host):
        async with ws_subscribe(host, PRODUCTS) as ws:
            message = await ws.receive()
            assert message["type"] == "error", message
            assert "cost" in message["payload"][0]["message"]
            assert message["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        async with sse_events(host, PRODUCTS) as sse:
            assert sse.response.headers["content-type"].startswith("application/json")
            body = json.loads(await sse.response.aread())
            assert "cost" in body["errors"][0]["message"]
        assert app.state.services.feed.subscriber_count == 0


@pytest.mark.usefixtures("db")
async def test_subscriptions_take_their_cost_from_the_rate_limit(
    settings: Settings, mongo: AsyncMongoClient[Any]
) -> None:
    # PRODUCTS costs 8 points: the first subscribe takes 1 and then 7 (counted, never
    # refused, as for queries); the next one is refused.
    async with live(live_settings(settings, rate_graphql_ip="4/60"), mongo) as (_app, host):
        async with ws_subscribe(host, PRODUCTS) as ws:
            await ws.subscribe("2", PRODUCTS)
            message = await ws.receive()
            assert (message["id"], message["type"]) == ("2", "error"), message
            assert message["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
        async with sse_events(host, PRODUCTS) as sse:
            assert sse.response.status_code == 429


@pytest.mark.usefixtures("db")
async def test_subscriptions_are_capped_per_connection_and_per_address(
    settings: Settings, mongo: AsyncMongoClient[Any]
) -> None:
    capped = live_settings(
        settings, graphql_max_subscriptions_per_connection=1, live_max_per_client=2
    )
    async with live(capped, mongo) as (app, host):
        feed = app.state.services.feed
        async with ws_subscribe(host, PRODUCTS) as ws:
            await ws.subscribe("2", PRODUCTS)
            message = await ws.receive()
            assert (message["id"], message["type"]) == ("2", "error"), message
            assert message["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
            assert feed.subscriber_count == 1
            # The address's second subscription (SSE) fits; its third (WebSocket) does not.
            async with sse_events(host, PRODUCTS) as sse, ws_subscribe(host, PRODUCTS) as third:
                assert sse.response.status_code == 200
                message = await third.receive()
                assert message["type"] == "error", message
                assert message["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
                assert feed.subscriber_count == 2


@pytest.mark.usefixtures("db")
async def test_a_slow_consumer_is_closed(settings: Settings, mongo: AsyncMongoClient[Any]) -> None:
    # One event unread at most, and events dearer to resolve (two reads each) than to
    # publish (one): a burst of posts leaves the subscribers behind.
    async with live(live_settings(settings, live_queue_size=1), mongo) as (app, host):
        alice = await make_user(app.state.services, name="Alice")
        posts = mongo[settings.db_name]["posts"]
        token = alice["token"]
        async with (
            ws_subscribe(host, MY_POSTS, token=token) as ws,
            sse_events(host, MY_POSTS, token=token) as sse,
        ):
            now = datetime.now(UTC)
            burst = [
                new_post(author_id=alice["id"], title=f"p{n}", content="c", created_at=now)
                for n in range(100)
            ]
            await posts.insert_many(burst)
            assert await ws.closed() == (1013, "Slow consumer: too many events unread")
            while (event := await sse.event())[0] == "next" and "errors" not in event[1]:
                pass
            assert event[1]["errors"][0]["extensions"]["code"] == "SLOW_CONSUMER"
            assert (await sse.event())[0] == "complete"
        await asyncio.sleep(0.1)
        assert app.state.services.feed.subscriber_count == 0


async def test_the_websocket_checks_the_origin_and_the_subprotocol(
    settings: Settings, mongo: AsyncMongoClient[Any], db: Any
) -> None:
    allowed = live_settings(settings, cors_origins=("https://app.example",))
    async with live(allowed, mongo) as (_app, host):
        with pytest.raises(InvalidStatus) as refused:
            async with ws_connect(host, headers={"Origin": "https://evil.example"}):
                pass
        assert refused.value.response.status_code == 403
        async with ws_connect(host, headers={"Origin": "https://app.example"}) as ws:
            assert await ws.init() == {"type": "connection_ack"}
        # The legacy graphql-ws protocol is not spoken.
        async with ws_connect(host, subprotocol="graphql-ws") as ws:
            assert await ws.closed() == (4406, "Subprotocol not acceptable")


async def test_keepalives_and_the_connection_init_timeout(
    settings: Settings, mongo: AsyncMongoClient[Any], db: Any
) -> None:
    quick = live_settings(settings, live_heartbeat=0.1, graphql_connection_init_timeout=0.3)
    async with live(quick, mongo) as (_app, host):
        async with ws_connect(host) as ws:
            assert await ws.closed() == (4408, "Connection initialisation timeout")
        async with ws_connect(host) as ws:
            assert await ws.init() == {"type": "connection_ack"}
            raw = await asyncio.wait_for(ws.connection.recv(), 5)
            assert json.loads(raw) == {"type": "ping"}
        async with sse_events(host, PRODUCTS) as sse:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(sse.event(), 0.5)
            assert ": ping" in sse.comments


async def test_queries_sent_for_an_event_stream_are_answered_as_usual(
    served: tuple[Services, str],
) -> None:
    _, host = served
    async with sse_events(host, "{ hello }") as answer:
        assert answer.response.status_code == 200
        assert answer.response.headers["content-type"].startswith("application/json")
        assert json.loads(await answer.response.aread())["data"] == {
            "hello": "Hello from the gateway"
        }
    async with httpx.AsyncClient(base_url=f"http://{host}", timeout=10) as http:
        plain = await http.post("/graphql", json={"query": PRODUCTS})
        assert "errors" in plain.json(), plain.text


async def test_lost_history_is_told_as_a_resync_error(served: tuple[Services, str]) -> None:
    services, host = served
    async with ws_subscribe(host, PRODUCTS) as ws:
        # What the feed does when a stream cannot resume or is invalidated (its own tests
        # make those happen): the subscribers get a Gap.
        services.feed._lost("products", "the products collection was dropped or renamed")
        message = await ws.receive()
        assert message["type"] == "next"
        assert message["payload"]["data"] is None
        [error] = message["payload"]["errors"]
        assert error["extensions"]["code"] == "RESYNC"
        assert "dropped" in error["message"]


async def test_product_subscriptions_filter_by_category_and_id(
    served: tuple[Services, str],
) -> None:
    services, host = served
    admin = await make_user(services, role="admin", name="Admin")
    by_category = 'subscription { productChanged(category: "home") { type product { name } } }'
    by_id = "subscription($id: ID) { productChanged(id: $id) { type id } }"
    async with httpx.AsyncClient(base_url=f"http://{host}", timeout=10) as http:

        async def create(name: str, category: str) -> str:
            body = {"name": name, "category": category, "price": 1}
            created = await http.post("/api/products", json=body, headers=admin["headers"])
            assert created.status_code == 201, created.text
            product_id: str = created.json()["id"]
            return product_id

        rake = await create("Rake", "garden")
        async with (
            ws_subscribe(host, by_category) as home,
            ws_subscribe(host, by_id, {"id": rake}) as one,
        ):
            await create("Hoe", "garden")
            await create("Lamp", "home")
            deleted = await http.delete(f"/api/products/{rake}", headers=admin["headers"])
            assert deleted.status_code == 204, deleted.text

            changes = [(await home.receive())["payload"]["data"]["productChanged"] for _ in "ab"]
            # A deleted product has no category left: its deletion reaches every subscriber.
            assert changes == [
                {"type": "CREATED", "product": {"name": "Lamp"}},
                {"type": "DELETED", "product": None},
            ]
            message = await one.receive()
            assert message["payload"]["data"]["productChanged"] == {"type": "DELETED", "id": rake}
        # Not a product id: refused before anything is subscribed.
        async with ws_subscribe(host, by_id, {"id": "nope"}) as bad:
            message = await bad.receive()
            assert message["type"] == "error", message
            assert message["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"
        assert services.feed.subscriber_count == 0


async def test_production_serves_subscriptions_with_its_switches_unchanged(
    settings: Settings, mongo: AsyncMongoClient[Any], db: Any
) -> None:
    production = live_settings(settings, env="production")
    async with (
        live(production, mongo) as (_, host),
        sse_events(host, PRODUCTS) as sse,
        ws_subscribe(host, PRODUCTS) as ws,
    ):
        assert sse.response.status_code == 200
        products = mongo[settings.db_name]["products"]
        kettle = new_product(
            name="Kettle", category="kitchen", price=30.0, description=None,
            created_at=datetime.now(UTC),
        )  # fmt: skip
        await products.insert_one(kettle)
        assert await sse.event() == ("next", {
            "data": {"productChanged": {"type": "CREATED", "id": str(kettle["_id"]),
                     "eventId": ANY, "product": {"name": "Kettle", "price": 30.0, "category": "kitchen"}}},
            "extensions": {"cost": 8},
        })  # fmt: skip
        message = await ws.receive()
        assert message["payload"]["data"]["productChanged"]["product"]["name"] == "Kettle"
        # Introspection stays off in production, over the WebSocket too.
        await ws.subscribe("2", "{ __schema { types { name } } }")
        refused = await ws.receive()
        assert refused["type"] == "error", refused


async def test_with_live_data_off_subscriptions_are_refused(
    settings: Settings, mongo: AsyncMongoClient[Any], db: Any
) -> None:
    async with live(settings, mongo) as (_, host), ws_subscribe(host, PRODUCTS) as ws:
        message = await ws.receive()
        assert message["type"] == "error", message
        assert message["payload"][0]["extensions"]["code"] == "NOT_FOUND"
