"""``/api/auth/login`` and ``/api/protected``."""

from __future__ import annotations

from typing import Any

from litestar import Request, get, post

from gateway.models import Credentials
from gateway.services.policy import require_signed_in
from rest._http import ActorDep, ServicesDep, client_address, read_json

__all__ = ["login", "protected"]


@post("/api/auth/login", status_code=200)
async def login(request: Request[Any, Any, Any], services: ServicesDep) -> dict[str, Any]:
    credentials = await read_json(request, Credentials)
    result = await services.auth.login(credentials, client=client_address(request))
    user = result.user
    return {"token": result.token, "user": {"id": user.id, "email": user.email, "name": user.name}}


@get("/api/protected")
async def protected(actor: ActorDep) -> dict[str, Any]:
    caller = require_signed_in(actor)
    return {"message": "This is protected data", "user": caller.claims}
