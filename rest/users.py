"""``/api/users``: the legacy user endpoints, including the ``?id=`` forms."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.openapi.spec import Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.params import FromPath

from gateway.errors import ValidationFailed
from gateway.http import ActorDep, ServicesDep, client_address
from gateway.models import User, UserCreate, UserDetail, UserUpdate
from gateway.pagination import OffsetPage, page_params
from gateway.record_validators import of_page, of_user
from gateway.services import Actor, Services
from rest._http import plain_query, read_json
from rest.caching import PRIVATE, conditional, expected
from rest.openapi import (
    CONDITIONAL_GET,
    IF_MATCH,
    LOCATION,
    OPTIONAL_TOKEN,
    PAGE,
    SIGNED_IN,
    VALIDATORS,
    header,
    json_body,
    limit_parameter,
    operation,
    parameter,
)

__all__ = ["UserController"]

AnyRequest = Request[Any, Any, Any]
DEFAULT_LIMIT = 20

# --- the OpenAPI document (rest/openapi.py) ---
_NEW_USER = json_body(UserCreate, "The new account.")
_CHANGES = json_body(
    UserUpdate,
    "The fields to change (those left out are kept); a new password revokes the user's tokens.",
)
_USER_ID = parameter("user_id", "path", "The user's id.")
_LEGACY_ID = parameter("id", "query", "The user's id (400 when missing).", required=True)
_PAGE_HEADERS = {
    "X-Total-Count": header(
        "How many users there are.", schema=Schema(type=OpenAPIType.INTEGER, minimum=0)
    ),
    "Link": header('The first, previous, next and last pages: `<url>; rel="first"`, ...'),
}


def _link_header(path: str, page: OffsetPage[Any]) -> str:
    last = max(page.pages, 1)
    targets = {"first": 1, "last": last}
    if page.page > 1:
        targets["prev"] = min(page.page - 1, last)
    if page.page < page.pages:
        targets["next"] = page.page + 1
    return ", ".join(
        f'<{path}?page={number}&limit={page.limit}>; rel="{rel}"' for rel, number in targets.items()
    )


def _legacy_id(request: AnyRequest) -> str:
    user_id = plain_query(request, "id")["id"]
    if not user_id:
        raise ValidationFailed("Missing id query parameter", ["id: required"])
    return user_id


async def _update(
    request: AnyRequest, services: Services, actor: Actor | None, user_id: str
) -> Response[User]:
    """Both forms of ``PUT``: the changed user, with its new validators."""
    data = await read_json(request, UserUpdate)
    user = await services.users.update(actor, user_id, data, expected(request))
    return Response(user, headers={**of_user(user).headers(), **PRIVATE})


class UserController(Controller):
    path = "/api/users"
    tags = ("users",)

    @get(
        "/",
        summary="List users",
        description="Another user's `email` is left out unless the caller is an admin.",
        security=SIGNED_IN,
        operation_class=operation(
            parameters=[PAGE, limit_parameter(DEFAULT_LIMIT), *CONDITIONAL_GET],
            headers={**_PAGE_HEADERS, **VALIDATORS},
            errors=(304, 400, 401, 503),
        ),
    )
    async def list_users(
        self, request: AnyRequest, services: ServicesDep, actor: ActorDep
    ) -> Response[list[User]]:
        query = plain_query(request, "page", "limit")
        page = await services.users.page(
            actor, page_params(query["page"], query["limit"], DEFAULT_LIMIT)
        )
        validators = of_page(page.items, page.page, page.limit, page.total)
        return conditional(
            request,
            page.items,
            validators,
            PRIVATE,
            headers={
                "X-Total-Count": str(page.total),
                "Link": _link_header(request.url.path, page),
            },
            by_date=False,
        )

    @post(
        "/",
        summary="Sign up",
        description="Anyone may sign up; only an admin may give a `role`.",
        security=OPTIONAL_TOKEN,
        operation_class=operation(
            body=_NEW_USER,
            headers={"Location": LOCATION},
            errors=(400, 401, 403, 408, 409, 413, 415, 429, 503),
        ),
    )
    async def create_user(
        self, request: AnyRequest, services: ServicesDep, actor: ActorDep
    ) -> Response[User]:
        data = await read_json(request, UserCreate)
        user = await services.users.create(actor, data, client=client_address(request))
        return Response(user, status_code=201, headers={"Location": f"{self.path}/{user.id}"})

    @put(
        "/",
        summary="Update a user (legacy form)",
        description="`PUT /api/users/{user_id}`, with the id in the query string.",
        security=SIGNED_IN,
        operation_class=operation(
            body=_CHANGES,
            parameters=[_LEGACY_ID, IF_MATCH],
            headers=VALIDATORS,
            errors=(400, 401, 403, 404, 408, 409, 412, 413, 415, 503),
        ),
    )
    async def update_user_legacy(
        self, request: AnyRequest, services: ServicesDep, actor: ActorDep
    ) -> Response[User]:
        return await _update(request, services, actor, _legacy_id(request))

    @delete(
        "/",
        summary="Delete a user (legacy form)",
        description="`DELETE /api/users/{user_id}`, with the id in the query string.",
        security=SIGNED_IN,
        operation_class=operation(
            parameters=[_LEGACY_ID, IF_MATCH], errors=(400, 401, 403, 404, 412, 503)
        ),
    )
    async def delete_user_legacy(
        self, request: AnyRequest, services: ServicesDep, actor: ActorDep
    ) -> None:
        await services.users.delete(actor, _legacy_id(request), expected(request))

    @get(
        "/{user_id:str}",
        summary="Read a user",
        description="The user with their newest posts (at most 100) and their profile.",
        security=SIGNED_IN,
        operation_class=operation(
            parameters=[_USER_ID, *CONDITIONAL_GET], headers=VALIDATORS, errors=(304, 401, 404, 503)
        ),
    )
    async def get_user(
        self, request: AnyRequest, services: ServicesDep, actor: ActorDep, user_id: FromPath[str]
    ) -> Response[UserDetail]:
        user, validators = await services.users.detail(actor, user_id)
        return conditional(request, user, validators, PRIVATE)

    @put(
        "/{user_id:str}",
        summary="Update a user",
        description="Users change themselves; admins anyone.",
        security=SIGNED_IN,
        operation_class=operation(
            body=_CHANGES,
            parameters=[_USER_ID, IF_MATCH],
            headers=VALIDATORS,
            errors=(400, 401, 403, 404, 408, 409, 412, 413, 415, 503),
        ),
    )
    async def update_user(
        self, request: AnyRequest, services: ServicesDep, actor: ActorDep, user_id: FromPath[str]
    ) -> Response[User]:
        return await _update(request, services, actor, user_id)

    @delete(
        "/{user_id:str}",
        summary="Delete a user",
        description="Also removes their posts and profile. Users delete themselves; admins anyone.",
        security=SIGNED_IN,
        operation_class=operation(
            parameters=[_USER_ID, IF_MATCH], errors=(401, 403, 404, 412, 503)
        ),
    )
    async def delete_user(
        self, request: AnyRequest, services: ServicesDep, actor: ActorDep, user_id: FromPath[str]
    ) -> None:
        await services.users.delete(actor, user_id, expected(request))
