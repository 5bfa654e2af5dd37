"""``/api/hello``: the legacy greeting and echo."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post

from rest._http import read_json

__all__ = ["HelloController"]


class HelloController(Controller):
    path = "/api/hello"

    @get("/")
    async def greet(self) -> dict[str, str]:
        return {"message": "Hello from the gateway"}

    @post("/", status_code=200)
    async def echo(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        return {"received": await read_json(request, object)}
