"""``/healthz`` (the process answers) and ``/readyz`` (the database answers)."""

from __future__ import annotations

from typing import Literal, TypedDict

from litestar import get

from gateway.http import ServicesDep
from rest.openapi import operation

__all__ = ["healthz", "readyz"]


class Alive(TypedDict):
    status: Literal["ok"]


class Ready(TypedDict):
    status: Literal["ready"]


@get(
    "/healthz",
    summary="Liveness",
    description="The process answers (the database is not asked).",
    tags=["health"],
    operation_class=operation(),
)
async def healthz() -> Alive:
    return {"status": "ok"}


@get(
    "/readyz",
    summary="Readiness",
    description="The database answers (503 otherwise).",
    tags=["health"],
    operation_class=operation(errors=(503,)),
)
async def readyz(services: ServicesDep) -> Ready:
    await services.health.check_database()
    return {"status": "ready"}
