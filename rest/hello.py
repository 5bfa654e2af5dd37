"""``/api/hello``: the legacy greeting and echo."""

from __future__ import annotations

from typing import Any, TypedDict

from litestar import Controller, get, post
from litestar.params import JSONBody

from rest._http import StrictBody, check_request
from rest.openapi import operation

__all__ = ["HelloController"]


class Greeting(TypedDict):
    message: str


class Echo(TypedDict):
    received: Any


class HelloController(Controller):
    path = "/api/hello"
    tags = ("hello",)
    before_request = staticmethod(check_request)

    @get("/", summary="Greet", operation_class=operation())
    async def greet(self) -> Greeting:
        return {"message": "Hello from the gateway"}

    @post(
        "/",
        status_code=200,
        summary="Echo a JSON body",
        description='Answers `{"received": <body>}`, the body as it was sent.',
        dto=StrictBody[object],
        operation_class=operation(),
    )
    async def echo(self, data: JSONBody[object]) -> Echo:
        return {"received": data}
