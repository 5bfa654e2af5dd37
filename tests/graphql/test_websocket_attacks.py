"""Crafted WebSocket traffic against /graphql, served as ``gateway serve`` serves it (the
same uvicorn options, ``subscription_clients.live``): a message too big, malformed and repeated messages, floods. Each
gets the protocol's close code or answer, never 1011 (an internal error), and the
server goes on answering everyone else."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import struct
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from gateway.cli import WEBSOCKET_MESSAGE_ALLOWANCE
from gateway.config import Settings
from tests.graphql.subscription_clients import TIMEOUT, WS, live, live_settings, ws_connect

pytestmark = pytest.mark.usefixtures("db")

PRODUCTS = "subscription { productChanged { type id } }"


@pytest.fixture
async def host(settings: Settings, mongo: AsyncMongoClient[Any]) -> AsyncIterator[str]:
    async with live(live_settings(settings), mongo) as (_app, address):
        yield address


@contextlib.asynccontextmanager
async def acknowledged(host: str) -> AsyncIterator[WS]:
    async with ws_connect(host) as ws:
        assert await ws.init() == {"type": "connection_ack"}
        yield ws


async def still_serving(host: str) -> None:
    """The server answers a new client, over HTTP and WebSocket."""
    async with httpx.AsyncClient(base_url=f"http://{host}", timeout=TIMEOUT) as http:
        assert (await http.get("/healthz")).status_code == 200
    async with acknowledged(host) as ws:
        await ws.subscribe("ok", "{ __typename }")
        assert (await ws.receive())["type"] == "next"


def _frame_head(length: int) -> bytes:
    """A masked, final text frame's header announcing ``length`` bytes (64-bit length)."""
    return bytes([0x81, 0x80 | 127]) + struct.pack("!Q", length) + os.urandom(4)


async def test_a_message_over_the_limit_is_refused_from_its_header(
    settings: Settings, host: str
) -> None:
    limit = settings.graphql_max_document_bytes + WEBSOCKET_MESSAGE_ALLOWANCE
    async with acknowledged(host) as ws:
        # Only the header of a 10 MiB frame is sent: the close comes without its body.
        ws.connection.transport.write(_frame_head(10 * 1024 * 1024))
        code, _reason = await ws.closed()
        assert code == 1009
    # A message of the limit's size is read (a document at the byte cap, padded).
    async with acknowledged(host) as ws:
        query = "{ __typename }" + " " * (settings.graphql_max_document_bytes - 20)
        message = {"id": "big", "type": "subscribe", "payload": {"query": query}}
        assert len(json.dumps(message)) < limit
        await ws.send(message)
        assert (await ws.receive())["type"] == "next"
    # Compressed, a message is held to the limit as it inflates (no deflate bomb).
    async with acknowledged(host) as ws:
        assert ws.connection.protocol.extensions, "the client compresses"
        with contextlib.suppress(Exception):
            await ws.connection.send("x" * (10 * 1024 * 1024))
        code, _reason = await ws.closed()
        assert code == 1009
    # Fragments add up: many small continuation frames over the limit are refused too.
    async with acknowledged(host) as ws:
        with contextlib.suppress(Exception):
            await ws.connection.send("x" * 4096 for _ in range(limit // 4096 + 2))
        code, _reason = await ws.closed()
        assert code == 1009
    await still_serving(host)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("not json", 4400),
        ("[]", 4400),
        ('"subscribe"', 4400),
        ("17", 4400),
        ("null", 4400),
        ('{"type": 5}', 4400),
        ('{"type": ["subscribe"]}', 4400),
        ('{"type": "unknown"}', 4400),
        ('{"type": "subscribe", "payload": {"query": "{ __typename }"}}', 4400),
        ('{"type": "subscribe", "id": ["1"], "payload": {"query": "{ __typename }"}}', 4400),
        ('{"type": "subscribe", "id": {"a": 1}, "payload": {"query": "{ __typename }"}}', 4400),
        ('{"type": "subscribe", "id": 1, "payload": {"query": "{ __typename }"}}', 4400),
        ('{"type": "subscribe", "id": "1"}', 4400),
        ('{"type": "subscribe", "id": "1", "payload": null}', 4400),
        ('{"type": "subscribe", "id": "1", "payload": []}', 4400),
        ('{"type": "subscribe", "id": "1", "payload": {}}', 4400),
        ('{"type": "subscribe", "id": "1", "payload": {"query": 5}}', 4400),
        ('{"type": "subscribe", "id": "1", "payload": {"query": "{ a }", "variables": []}}', 4400),
        ('{"type": "subscribe", "id": "1", "payload": {"query": "{ a }", "variables": 5}}', 4400),
        (
            '{"type": "subscribe", "id": "1", "payload": {"query": "{ a }", "operationName": 5}}',
            4400,
        ),
        ('{"type": "complete"}', 4400),
        ('{"type": "complete", "id": ["1"]}', 4400),
        ('{"type": "connection_init"}', 4429),  # a second one
        ('{"type": "connection_init", "payload": 5}', 4400),
        ('{"type": "' + "é" * 300 + '"}', 4400),  # quoted in the reason: cut to fit
        ('{"type": "subscribe", "id": "", "payload": {"query": "{ a }"}}', 4400),
        ('{"type": "ping", "payload": ' + "[" * 5000 + "]" * 5000 + "}", 4400),  # too deep
    ],
)
async def test_a_malformed_message_closes_with_the_protocols_code(
    host: str, raw: str, code: int
) -> None:
    async with acknowledged(host) as ws:
        await ws.connection.send(raw)
        assert (await ws.closed())[0] == code
    await still_serving(host)


@pytest.mark.parametrize(
    "payload", [5, [], "Bearer x", {"Authorization": 5}, {"Authorization": ["Bearer x"]}]
)
async def test_a_malformed_connection_init_is_refused(host: str, payload: Any) -> None:
    async with ws_connect(host) as ws:
        await ws.send({"type": "connection_init", "payload": payload})
        assert (await ws.closed())[0] in (4400, 4403)
    await still_serving(host)


async def test_a_binary_message_closes_with_4400(host: str) -> None:
    async with acknowledged(host) as ws:
        await ws.connection.send(b'{"type": "ping"}')
        assert await ws.closed() == (4400, "WebSocket message type must be text")


async def test_a_repeated_subscription_id_closes_with_4409(host: str) -> None:
    async with acknowledged(host) as ws:
        await ws.subscribe("1", PRODUCTS)
        await ws.subscribe("1", PRODUCTS)
        assert await ws.closed() == (4409, "Subscriber for 1 already exists")
    long = "x" * 1000  # quoted in the reason, which a close frame cannot hold whole
    async with acknowledged(host) as ws:
        await ws.subscribe(long, PRODUCTS)
        await ws.subscribe(long, PRODUCTS)
        code, reason = await ws.closed()
        assert code == 4409
        assert reason.startswith("Subscriber for xxx") and len(reason.encode()) == 123
    await still_serving(host)


async def test_a_subscription_before_connection_init_closes_with_4401(host: str) -> None:
    async with ws_connect(host) as ws:
        await ws.subscribe("1", PRODUCTS)
        assert await ws.closed() == (4401, "Unauthorized")


async def test_a_flood_of_pings_is_answered_in_kind_and_others_are_served(host: str) -> None:
    count = 3000
    async with acknowledged(host) as ws:
        await asyncio.gather(*(ws.connection.send('{"type": "ping"}') for _ in range(count)))
        pongs = 0
        while pongs < count:
            message = json.loads(await asyncio.wait_for(ws.connection.recv(), TIMEOUT))
            assert message == {"type": "pong"}
            pongs += 1
        await still_serving(host)
        await ws.subscribe("after", "{ __typename }")
        assert (await ws.receive())["type"] == "next"


async def test_a_flood_of_subscriptions_is_capped_cheaply(settings: Settings, host: str) -> None:
    cap = settings.graphql_max_subscriptions_per_connection
    async with acknowledged(host) as ws:
        for n in range(1000):
            await ws.subscribe(str(n), PRODUCTS)
        refused = 0
        while refused < 1000 - cap:
            message = await ws.receive()
            assert message["type"] == "error", message
            assert message["payload"][0]["extensions"]["code"] == "RATE_LIMITED"
            refused += 1
        await still_serving(host)


async def test_open_websockets_are_capped_per_address(
    settings: Settings, mongo: AsyncMongoClient[Any]
) -> None:
    """Connections that sign in and then idle, holding memory and no subscription."""
    capped = live_settings(settings, graphql_max_websockets_per_client=3)
    async with live(capped, mongo) as (_app, host), contextlib.AsyncExitStack() as stack:
        idle = [await stack.enter_async_context(acknowledged(host)) for _ in range(3)]
        async with ws_connect(host) as refused:
            assert await refused.closed() == (1008, "Too many WebSockets from this address")
        # Another address is not held to this one's count.
        async with ws_connect(host, headers={"X-Forwarded-For": "192.0.2.7"}) as other:
            assert await other.init() == {"type": "connection_ack"}
        # A closed connection frees its place, at once.
        await idle.pop().connection.close()
        await asyncio.sleep(0.1)
        async with acknowledged(host) as again:
            await again.subscribe("1", "{ __typename }")
            assert (await again.receive())["type"] == "next"
