"""Clients for the subscription tests: the real app served by uvicorn on a loopback port
(with ``gateway serve``'s options, in the test's event loop, over the test's database
client), a graphql-transport-ws
client over ``websockets`` and a GraphQL over SSE client over httpx."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import httpx
import msgspec
import uvicorn
from litestar import Litestar
from websockets.asyncio.client import ClientConnection, connect

from gateway.app import create_app
from gateway.cli import uvicorn_options
from gateway.config import Settings

__all__ = ["SSE", "WS", "live", "live_settings", "sse_events", "ws_connect", "ws_subscribe"]

TIMEOUT = 10.0
PROTOCOL = "graphql-transport-ws"


def live_settings(settings: Settings, **changes: Any) -> Settings:
    """The tests' settings with live data on (the change feed polls often)."""
    return msgspec.structs.replace(settings, live_data=True, **changes)


@contextlib.asynccontextmanager
async def live(settings: Settings, mongo: Any) -> AsyncIterator[tuple[Litestar, str]]:
    """The app, served over HTTP and WebSocket on a free loopback port: (app, base URL)."""
    app = create_app(settings, client=mongo)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # As ``gateway serve`` serves it (its WebSocket protocol and limits, its stop).
    options = {**uvicorn_options(settings), "log_level": "warning", "lifespan": "on"}
    config = uvicorn.Config(app, **options)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        # uvicorn and the feed say when they are ready only by a flag.
        while not (server.started and app.state.services.feed.live == settings.live_data):
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        yield app, f"127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, TIMEOUT)
        sock.close()


class WS:
    """One graphql-transport-ws connection."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection

    async def send(self, message: dict[str, Any]) -> None:
        await self.connection.send(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        """The next message other than a keep-alive ping (answered with a pong)."""
        while True:
            raw = await asyncio.wait_for(self.connection.recv(), TIMEOUT)
            message: dict[str, Any] = json.loads(raw)
            if message.get("type") == "ping":
                await self.send({"type": "pong"})
                continue
            return message

    async def init(self, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        await self.send({"type": "connection_init", "payload": payload or {}})
        return await self.receive()

    async def subscribe(self, id: str, query: str, variables: dict[str, Any] | None = None) -> None:
        payload = {"query": query, "variables": variables or {}}
        await self.send({"id": id, "type": "subscribe", "payload": payload})

    async def closed(self) -> tuple[int | None, str]:
        """The close code and reason the server closed with (messages before are skipped)."""
        with contextlib.suppress(Exception):
            while True:
                await asyncio.wait_for(self.connection.recv(), TIMEOUT)
        return self.connection.close_code, self.connection.close_reason or ""


@contextlib.asynccontextmanager
async def ws_connect(
    host: str, headers: dict[str, str] | None = None, subprotocol: str = PROTOCOL
) -> AsyncIterator[WS]:
    url = f"ws://{host}/graphql"
    async with connect(
        url,
        subprotocols=[subprotocol],
        additional_headers=headers or {},
        open_timeout=TIMEOUT,  # type: ignore[list-item]
    ) as connection:
        yield WS(connection)


@contextlib.asynccontextmanager
async def ws_subscribe(
    host: str,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
) -> AsyncIterator[WS]:
    """A connection, initialised (with ``token``) and subscribed to ``query`` as id "1"."""
    async with ws_connect(host) as ws:
        ack = await ws.init({"Authorization": f"Bearer {token}"} if token else None)
        assert ack == {"type": "connection_ack"}, ack
        await ws.subscribe("1", query, variables)
        await asyncio.sleep(0.2)  # the subscription reaches the feed
        yield ws


class SSE:
    """One GraphQL over SSE stream (distinct connections mode)."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()
        self.comments: list[str] = []

    async def event(self) -> tuple[str, Any]:
        """The next event: its name and its decoded data (None for ``complete``)."""
        name, data = "", ""
        while True:
            line = await asyncio.wait_for(anext(self._lines), TIMEOUT)
            if line.startswith(":"):
                self.comments.append(line)
            elif line.startswith("event:"):
                name = line.partition(":")[2].strip()
            elif line.startswith("data:"):
                data = line.partition(":")[2].strip()
            elif line == "" and name:
                return name, json.loads(data) if data else None


@contextlib.asynccontextmanager
async def sse_events(
    host: str,
    query: str,
    variables: dict[str, Any] | None = None,
    token: str | None = None,
) -> AsyncIterator[SSE]:
    headers = {"Accept": "text/event-stream"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with (
        httpx.AsyncClient(base_url=f"http://{host}", timeout=TIMEOUT) as http,
        http.stream(
            "POST", "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        ) as response,
    ):
        if response.status_code == 200:
            await asyncio.sleep(0.2)  # the subscription reaches the feed
        yield SSE(response)
