"""GraphQL subscriptions attacked: hostile arguments, a reader that never reads, churn.

Served by uvicorn in this test's event loop, as in ``tests/rest/test_product_events_attacks``.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.graphql.subscription_clients import ws_connect
from tests.rest.test_product_events_attacks import (
    WAIT,
    Server,
    insert_products,
    raw_request,
    read_until,
    server,
)
from tests.services.test_change_feed import until

__all__ = ["server"]  # the fixture, shared

CHANGES = """subscription($c: String, $id: ID) {
  productChanged(category: $c, id: $id) { type id product { description } }
}"""
STREAM = {"Accept": "text/event-stream", "Content-Type": "application/json"}


def _body(variables: dict[str, Any]) -> bytes:
    return json.dumps({"query": CHANGES, "variables": variables}).encode()


def _request(variables: dict[str, Any]) -> bytes:
    body = _body(variables)
    head = b"POST /graphql HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n"
    head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
    return head + body


async def test_a_reader_that_never_reads_is_dropped_and_disconnected(server: Server):
    sock = await raw_request(server, _request({}))
    try:
        await read_until(sock, b"\r\n\r\n")
        assert server.feed.subscriber_count == 1
        await insert_products(server, 2000, "x" * 5000)
        await server.settled()  # dropped from the feed, and the connection cut
    finally:
        sock.close()


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"c": "c" * 101}, "category: must be at most 100 characters"),
        ({"c": "c" * 60_000}, "category: must be at most 100 characters"),
        ({"c": "a\x00b"}, "category: must not contain control characters"),
        ({"id": "z" * 24}, "id: must be a product id"),
        ({"id": "a" * 5000}, "id: must be a product id"),
    ],
)
async def test_hostile_arguments_are_bad_user_input(server: Server, variables, message):
    async with (
        httpx.AsyncClient(base_url=server.base_url, timeout=WAIT) as http,
        http.stream("POST", "/graphql", content=_body(variables), headers=STREAM) as answer,
    ):
        assert answer.status_code < 500
        text = (await answer.aread()).decode()
    assert "BAD_USER_INPUT" in text
    assert message in text
    await server.settled()


async def test_streams_dropped_mid_stream_leave_no_subscription(server: Server):
    for _ in range(4):
        socks = [await raw_request(server, _request({})) for _ in range(25)]
        for sock in socks:
            await read_until(sock, b"\r\n\r\n")
        await until(lambda: server.feed.subscriber_count == 25)
        await insert_products(server, 1)
        for sock in socks:  # gone without reading the change
            sock.close()
        await server.settled()


async def test_a_thousand_subscribe_complete_cycles_on_one_websocket_leave_nothing(
    server: Server, caplog: pytest.LogCaptureFixture
):
    async with ws_connect(f"127.0.0.1:{server.port}") as ws:
        assert await ws.init() == {"type": "connection_ack"}
        for cycle in range(1000):
            await ws.subscribe(str(cycle), CHANGES)
            await ws.send({"id": str(cycle), "type": "complete"})
            if cycle % 100 == 99:
                await until(lambda: server.feed.subscriber_count == 0)
        await ws.subscribe("last", CHANGES)  # the connection still serves
        await until(lambda: server.feed.subscriber_count == 1)  # a change from now on is its
        await insert_products(server, 1)
        message = await ws.receive()
        assert (message["id"], message["type"]) == ("last", "next")
        assert server.feed.subscriber_count == 1
    await server.settled()
    assert "destroyed" not in caplog.text
