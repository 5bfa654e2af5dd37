"""``/healthz`` (the process answers) and ``/readyz`` (the database answers)."""

from __future__ import annotations

from litestar import get

from rest._http import ServicesDep

__all__ = ["healthz", "readyz"]


@get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@get("/readyz")
async def readyz(services: ServicesDep) -> dict[str, str]:
    await services.health.check_database()
    return {"status": "ready"}
