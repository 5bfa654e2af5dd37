"""Live connections against a real ``gateway serve``: a stop (SIGTERM) ends every open
event stream and WebSocket at once, with a clean end for each client, whatever the
number of workers."""

from __future__ import annotations

import asyncio
import json
import signal
import time

import httpx
import pytest
from websockets.asyncio.client import connect

from gateway.server_stop import announce_stop, when_stopping
from tests.live import Live, gateway_env, live_gateway
from tests.services.test_change_feed import running_feed

# A stop must not wait for uvicorn's graceful-shutdown timeout (10 s) for live streams.
PROMPT_EXIT_SECONDS = 3.0
SUBSCRIPTION = "subscription { productChanged { type id } }"


async def _open_streams(live: Live, count: int) -> tuple[list[asyncio.Task[bytes]], list, list]:
    """``count`` of each: REST event streams, GraphQL SSE streams and WebSockets."""
    base, host = live.base_url, live.base_url.removeprefix("http://")
    http = httpx.AsyncClient(base_url=base, timeout=30)

    async def rest_stream() -> bytes:
        async with http.stream("GET", "/api/products/events") as response:
            assert response.status_code == 200
            return b"".join([chunk async for chunk in response.aiter_bytes()])

    async def graphql_stream() -> bytes:
        headers = {"Accept": "text/event-stream"}
        body = {"query": SUBSCRIPTION}
        async with http.stream("POST", "/graphql", json=body, headers=headers) as response:
            assert response.status_code == 200
            return b"".join([chunk async for chunk in response.aiter_bytes()])

    sockets = []
    for _ in range(count):
        ws = await connect(f"ws://{host}/graphql", subprotocols=["graphql-transport-ws"])  # type: ignore[list-item]
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(
            json.dumps({"id": "1", "type": "subscribe", "payload": {"query": SUBSCRIPTION}})
        )
        sockets.append(ws)
    streams = [asyncio.create_task(rest_stream()) for _ in range(count)]
    streams += [asyncio.create_task(graphql_stream()) for _ in range(count)]
    await asyncio.sleep(1.0)  # every stream is open and subscribed
    assert not any(task.done() for task in streams)
    return streams, sockets, [http]


@pytest.mark.parametrize("workers", [1, 2])
async def test_a_stop_ends_open_streams_and_websockets_at_once(tmp_path, workers):
    env = gateway_env(tmp_path / "data")
    with live_gateway(env, args=["--workers", str(workers)]) as live:
        streams, sockets, clients = await _open_streams(live, 3)
        started = time.monotonic()
        live.process.send_signal(signal.SIGTERM)
        # Every stream ends cleanly (a whole chunked body: httpx raises on a cut one): REST's
        # as a finished stream (its client reconnects), GraphQL's with ``complete`` ...
        bodies = await asyncio.wait_for(asyncio.gather(*streams), PROMPT_EXIT_SECONDS)
        rest, graphql = bodies[:3], bodies[3:]
        assert all(body.startswith(b"retry: ") for body in rest), rest
        assert all(body.endswith(b"event: complete\r\ndata: \r\n\r\n") for body in graphql), graphql
        # ... every WebSocket is closed with 1001 (going away) ...
        for ws in sockets:
            await asyncio.wait_for(ws.wait_closed(), PROMPT_EXIT_SECONDS)
            assert ws.close_code == 1001, ws.close_code
        # ... and the process exits promptly.
        await asyncio.to_thread(live.process.wait, PROMPT_EXIT_SECONDS * 2)
        elapsed = time.monotonic() - started
        # uvicorn re-raises the signal it stopped on once it has stopped cleanly.
        assert live.process.returncode in (0, -signal.SIGTERM)
        assert elapsed < PROMPT_EXIT_SECONDS, f"stopped in {elapsed:.1f} s"
        print(f"{workers} worker(s): stopped in {elapsed:.2f} s")
        for client in clients:
            await client.aclose()


async def test_a_stop_announced_ends_subscriptions_then_and_later(db, settings):
    """Between the stop's announcement and the app's shutdown, requests in flight may
    still subscribe: theirs end at once too, rather than hold the stop up."""
    async with running_feed(db, settings) as services:
        with when_stopping(services.feed.drain):
            async with services.feed.subscribe({"products"}) as before:
                announce_stop()
                with pytest.raises(StopAsyncIteration):
                    await asyncio.wait_for(before.receive(), 1)
                async with services.feed.subscribe({"products"}) as after:
                    with pytest.raises(StopAsyncIteration):
                        await asyncio.wait_for(after.receive(), 1)
            announce_stop()  # a second stop calls nothing again
        assert services.feed.subscriber_count == 0
