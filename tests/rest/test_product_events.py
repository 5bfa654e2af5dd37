"""``GET /api/products/events``: Server-Sent Events over real HTTP from a ``gateway serve``.

(httpx's in-process transport waits for an answer's end, so streams are read from a
real process; refusals, which end at once, are also checked in process.)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from tests.conftest import ADMIN_PASSWORD, TEST_SECRET
from tests.live import gateway_env, live_gateway, run_cli

URL = "/api/products/events"
WAIT = 10.0
HEARTBEAT = 0.5
CAP = 4


@dataclass
class Served:
    base_url: str
    admin: dict[str, str]
    mongo_uri: str
    db_name: str


@pytest.fixture(scope="module")
def served(mongo_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A gateway process with live data on, and an admin's token."""
    data_dir: Path = tmp_path_factory.mktemp("events")
    db_name = f"events_{uuid.uuid4().hex[:12]}"
    env = gateway_env(
        data_dir,
        mongodb_uri=mongo_uri,
        db_name=db_name,
        live_heartbeat=str(HEARTBEAT),
        live_max_per_client=str(CAP),
        live_poll_interval="0.01",
    )
    email = "events-admin@example.com"
    made = run_cli(
        ["create-admin", "--email", email, "--password", ADMIN_PASSWORD, "--name", "Admin"], env
    )
    assert made.returncode == 0, made.stderr
    try:
        with live_gateway(env) as live:
            login = httpx.post(
                f"{live.base_url}/api/auth/login",
                json={"email": email, "password": ADMIN_PASSWORD},
                timeout=30,
            )
            token = login.json()["token"]
            yield Served(live.base_url, {"Authorization": f"Bearer {token}"}, mongo_uri, db_name)
    finally:
        with MongoClient(mongo_uri) as client:
            client.drop_database(db_name)


@dataclass
class Event:
    event: str | None = None
    id: str | None = None
    data: str = ""
    retry: int | None = None
    comments: list[str] = field(default_factory=list)

    @property
    def json(self) -> Any:
        return json.loads(self.data)


class Stream:
    """An open event stream, read one event (or comment block) at a time."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def next(self) -> Event:
        event = Event()
        async with _deadline():
            async for line in self._lines:
                if line == "":
                    return event
                name, _, value = line.partition(":")
                value = value.removeprefix(" ")
                if name == "":
                    event.comments.append(value)
                elif name == "data":
                    event.data = f"{event.data}\n{value}" if event.data else value
                elif name == "retry":
                    event.retry = int(value)
                else:
                    setattr(event, name, value)
        raise AssertionError("the stream ended")

    async def next_change(self) -> Event:
        """The next event that is not a heartbeat."""
        while True:
            event = await self.next()
            if event.event is not None:
                return event


def _deadline() -> Any:
    return asyncio.timeout(WAIT)


@contextlib.asynccontextmanager
async def events(served: Served, query: str = "", **headers: str) -> AsyncIterator[Stream]:
    async with (
        httpx.AsyncClient(base_url=served.base_url, timeout=WAIT) as http,
        http.stream("GET", URL + query, headers=headers) as response,
    ):
        assert response.status_code == 200, await response.aread()
        stream = Stream(response)
        first = await stream.next()
        assert first.retry == 3000
        yield stream


async def create(served: Served, name: str = "Lamp", category: str = "home") -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=served.base_url, timeout=WAIT) as http:
        response = await http.post(
            "/api/products",
            json={"name": name, "category": category, "price": 5},
            headers=served.admin,
        )
        assert response.status_code == 201, response.text
        product: dict[str, Any] = response.json()
        return product


async def shown(served: Served, product_id: str) -> Any:
    async with httpx.AsyncClient(base_url=served.base_url, timeout=WAIT) as http:
        return (await http.get(f"/api/products/{product_id}")).json()


async def test_changes_through_rest_graphql_and_the_database_arrive(served):
    async with events(served) as stream:
        assert stream.response.headers["content-type"].startswith("text/event-stream")
        made = await create(served)
        created = await stream.next_change()
        assert created.event == "created"
        assert created.id
        assert created.json == {"type": "created", "id": made["id"], "product": made}
        mutation = "mutation($id: ID!) { updateProduct(id: $id, input: {price: 9}) { price } }"
        async with httpx.AsyncClient(base_url=served.base_url, timeout=WAIT) as http:
            answer = await http.post(
                "/graphql",
                json={"query": mutation, "variables": {"id": made["id"]}},
                headers=served.admin,
            )
            assert answer.json()["data"] == {"updateProduct": {"price": 9.0}}
        updated = await stream.next_change()
        assert updated.event == "updated"
        assert updated.json == {
            "type": "updated",
            "id": made["id"],
            "product": await shown(served, made["id"]),
        }
        now = datetime.now(UTC)
        with MongoClient(served.mongo_uri) as direct:
            inserted = direct[served.db_name].products.insert_one(
                {"name": "Direct", "category": "raw", "price": 1, "description": None,
                 "createdAt": now, "updatedAt": now, "createdMs": 1, "version": 1}
            )  # fmt: skip
        from_db = await stream.next_change()
        assert from_db.json["id"] == str(inserted.inserted_id)
        assert from_db.json["product"] == await shown(served, str(inserted.inserted_id))
        async with httpx.AsyncClient(base_url=served.base_url, timeout=WAIT) as http:
            gone = await http.delete(f"/api/products/{made['id']}", headers=served.admin)
            assert gone.status_code == 204
        deleted = await stream.next_change()
        assert (deleted.event, deleted.json) == (
            "deleted",
            {"type": "deleted", "id": made["id"], "product": None},
        )
        assert len({created.id, updated.id, from_db.id, deleted.id}) == 4


async def test_headers_heartbeats_and_no_compression(served):
    async with events(served, **{"Accept-Encoding": "gzip, br"}) as stream:
        headers = stream.response.headers
        assert headers["cache-control"] == "no-store, no-transform"
        assert headers["x-accel-buffering"] == "no"
        assert "content-encoding" not in headers
        beat = await stream.next()
        assert beat.comments == ["heartbeat"]
        assert (beat.event, beat.data) == (None, "")


async def test_reconnecting_with_last_event_id_misses_nothing(served):
    async with events(served) as stream:
        await create(served, "First")
        last = (await stream.next_change()).id
    missed = [await create(served, f"Missed {i}") for i in range(3)]
    async with events(served, **{"Last-Event-ID": last or ""}) as stream:
        later = await create(served, "Later")
        got = [(await stream.next_change()).json["id"] for _ in range(4)]
        assert got == [p["id"] for p in [*missed, later]]
        with pytest.raises(TimeoutError):
            async with _short():
                await stream.next_change()


def _short() -> Any:
    return asyncio.timeout(3 * HEARTBEAT)


async def test_an_unknown_last_event_id_gets_a_reset_first(served):
    async with events(served, **{"Last-Event-ID": "forgotten"}) as stream:
        reset = await stream.next_change()
        assert reset.event == "reset"
        assert reset.id is None
        assert reset.json["type"] == "reset"
        assert "re-fetch" in reset.json["message"]
        made = await create(served)
        assert (await stream.next_change()).json["id"] == made["id"]


async def test_category_and_id_filters(served):
    kept = await create(served, "Kept", "tools")
    async with (
        events(served, "?category=tools") as tools,
        events(served, f"?id={kept['id']}") as one,
    ):
        await create(served, "Other", "garden")
        mine = await create(served, "Mine", "tools")
        assert (await tools.next_change()).json["id"] == mine["id"]
        async with httpx.AsyncClient(base_url=served.base_url, timeout=WAIT) as http:
            await http.put(f"/api/products/{kept['id']}", json={"price": 2}, headers=served.admin)
        updated = await one.next_change()
        assert (updated.event, updated.json["id"]) == ("updated", kept["id"])
        assert (await tools.next_change()).json["id"] == kept["id"]


async def test_open_streams_are_capped_per_address(served):
    async with contextlib.AsyncExitStack() as stack:
        for _ in range(CAP):
            await stack.enter_async_context(events(served))
        async with httpx.AsyncClient(base_url=served.base_url, timeout=WAIT) as http:
            refused = await http.get(URL)
            assert refused.status_code == 429
            assert refused.headers["retry-after"].isdigit()
            assert refused.json() == {"error": "Too many live subscriptions from this address"}
    async with events(served):  # the streams closed, their places are free again
        pass


@pytest.mark.parametrize(
    ("query", "detail"),
    [("?id=nope", "id: must be a product id"), ("?category[$ne]=x", "category[$ne]: not allowed")],
)
async def test_bad_filters_are_400(client, query, detail):
    response = await client.get(URL + query)
    assert response.status_code == 400
    assert response.json()["details"] == [detail]


async def test_a_bad_token_is_401_and_none_is_needed(client):
    refused = await client.get(URL, headers={"Authorization": f"Bearer {TEST_SECRET}"})
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    # No token: accepted, but live data is off in these tests' settings.
    off = await client.get(URL)
    assert off.status_code == 404
    assert off.json() == {"error": "Live data is turned off on this server"}
