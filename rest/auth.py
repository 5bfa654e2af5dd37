"""``/api/auth/login`` and ``/api/protected``."""

from __future__ import annotations

from typing import Any, TypedDict

from litestar import Request, get, post
from litestar.datastructures import CacheControlHeader
from litestar.openapi import ResponseSpec
from litestar.params import JSONBody

from gateway.http import ActorDep, ServicesDep, client_key
from gateway.models import Credentials
from gateway.services.policy import require_signed_in
from rest._http import StrictBody, check_request
from rest.openapi import SIGNED_IN, operation

__all__ = ["login", "protected"]


class LoginUser(TypedDict):
    id: str
    email: str
    name: str


class LoginAnswer(TypedDict):
    token: str
    user: LoginUser


class ProtectedData(TypedDict):
    message: str
    user: dict[str, Any]


# Tokens and their claims are never kept by any cache (errors neither: rest/errors.py).
_NO_STORE = CacheControlHeader(no_store=True)


@post(
    "/api/auth/login",
    status_code=200,
    summary="Log in",
    description="Answers a token for `Authorization: Bearer <token>`. Unknown emails and wrong "
    'passwords get the same 401, `{"error": "Invalid credentials"}`.',
    tags=["auth"],
    cache_control=_NO_STORE,
    responses={200: ResponseSpec(LoginAnswer, description="Logged in.", generate_examples=False)},
    dto=StrictBody[Credentials],
    before_request=check_request,
    operation_class=operation(errors=(401, 429, 503)),
)
async def login(
    request: Request[Any, Any, Any], data: JSONBody[Credentials], services: ServicesDep
) -> dict[str, Any]:
    result = await services.auth.login(data, client=client_key(request))
    user = result.user
    return {"token": result.token, "user": {"id": user.id, "email": user.email, "name": user.name}}


@get(
    "/api/protected",
    summary="Check a token",
    description="Answers the token's claims: `sub` (the user's id), `role`, `iat`, `exp` and "
    "`pwv` (the password version it was issued for).",
    tags=["auth"],
    cache_control=_NO_STORE,
    security=SIGNED_IN,
    operation_class=operation(errors=(503,)),
)
async def protected(actor: ActorDep) -> ProtectedData:
    caller = require_signed_in(actor)
    return {"message": "This is protected data", "user": caller.claims}
