"""``/api/hello``: the legacy greeting and echo."""

from __future__ import annotations

from typing import Any, TypedDict

from litestar import Controller, Request, get, post

from rest._http import read_json
from rest.openapi import json_body, operation

__all__ = ["HelloController"]


class Greeting(TypedDict):
    message: str


class Echo(TypedDict):
    received: Any


class HelloController(Controller):
    path = "/api/hello"
    tags = ("hello",)

    @get("/", summary="Greet", operation_class=operation(errors=()))
    async def greet(self) -> Greeting:
        return {"message": "Hello from the gateway"}

    @post(
        "/",
        status_code=200,
        summary="Echo a JSON body",
        description='Answers `{"received": <body>}`, the body as it was sent.',
        operation_class=operation(
            body=json_body(None, "Any JSON value."), errors=(400, 408, 413, 415)
        ),
    )
    async def echo(self, request: Request[Any, Any, Any]) -> Echo:
        return {"received": await read_json(request, object)}
