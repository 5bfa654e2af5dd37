"""``/api/users``: the legacy user endpoints, including the ``?id=`` forms."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.openapi.spec import Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.params import JSONBody, PathParameter

from gateway.http import ActorDep, ServicesDep, client_key
from gateway.models import User, UserCreate, UserDetail, UserUpdate
from gateway.pagination import OffsetPage, PageNumber, PageParams, PageSize
from gateway.record_validators import of_page, of_user
from gateway.services import Actor, Services
from rest._http import StrictBody, check_request, query
from rest.caching import PRIVATE, conditional, expected
from rest.openapi import (
    CONDITIONAL_GET,
    IF_MATCH,
    LOCATION,
    NOT_MODIFIED,
    OPTIONAL_TOKEN,
    SIGNED_IN,
    VALIDATORS,
    header,
    operation,
)

__all__ = ["UserController"]

AnyRequest = Request[Any, Any, Any]
DEFAULT_LIMIT = 20

# --- the OpenAPI document (rest/openapi.py) ---
_CHANGES = "The fields left out are kept; a new password revokes the user's tokens."
UserId = Annotated[str, PathParameter(description="The user's id.")]
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


# The legacy forms' ``?id=``: required, and not empty.
LegacyId = Annotated[
    str, query(description="The user's id (400 when missing or empty).", min_length=1, name="id")
]


async def _update(
    request: AnyRequest, data: UserUpdate, services: Services, actor: Actor | None, user_id: str
) -> Response[User]:
    """Both forms of ``PUT``: the changed user, with its new validators."""
    user = await services.users.update(actor, user_id, data, expected(request))
    return Response(user, headers={**of_user(user).headers(), **PRIVATE})


class UserController(Controller):
    path = "/api/users"
    tags = ("users",)
    before_request = staticmethod(check_request)

    @get(
        "/",
        summary="List users",
        description="Another user's `email` is left out unless the caller is an admin.",
        security=SIGNED_IN,
        operation_class=operation(
            parameters=CONDITIONAL_GET,
            headers={**_PAGE_HEADERS, **VALIDATORS},
            others=NOT_MODIFIED,
            errors=(503,),
        ),
    )
    async def list_users(
        self,
        request: AnyRequest,
        services: ServicesDep,
        actor: ActorDep,
        page: Annotated[int, query(PageNumber)] = 1,
        limit: Annotated[int, query(PageSize)] = DEFAULT_LIMIT,
    ) -> Response[list[User]]:
        found = await services.users.page(actor, PageParams(page, limit))
        validators = of_page(found.items, found.page, found.limit, found.total)
        return conditional(
            request,
            found.items,
            validators,
            PRIVATE,
            headers={
                "X-Total-Count": str(found.total),
                "Link": _link_header(request.url.path, found),
            },
            by_date=False,
        )

    @post(
        "/",
        summary="Sign up",
        description="Anyone may sign up; only an admin may give a `role`.",
        security=OPTIONAL_TOKEN,
        dto=StrictBody[UserCreate],
        operation_class=operation(headers={"Location": LOCATION}, errors=(403, 409, 429, 503)),
    )
    async def create_user(
        self,
        request: AnyRequest,
        data: JSONBody[UserCreate],
        services: ServicesDep,
        actor: ActorDep,
    ) -> Response[User]:
        user = await services.users.create(actor, data, client=client_key(request))
        return Response(user, status_code=201, headers={"Location": f"{self.path}/{user.id}"})

    @put(
        "/",
        summary="Update a user (legacy form)",
        description=f"`PUT /api/users/{{user_id}}`, with the id in the query string. {_CHANGES}",
        security=SIGNED_IN,
        dto=StrictBody[UserUpdate],
        operation_class=operation(
            parameters=[IF_MATCH], headers=VALIDATORS, errors=(403, 404, 409, 412, 503)
        ),
    )
    async def update_user_legacy(
        self,
        request: AnyRequest,
        data: JSONBody[UserUpdate],
        services: ServicesDep,
        actor: ActorDep,
        user_id: LegacyId,
    ) -> Response[User]:
        return await _update(request, data, services, actor, user_id)

    @delete(
        "/",
        summary="Delete a user (legacy form)",
        description="`DELETE /api/users/{user_id}`, with the id in the query string.",
        security=SIGNED_IN,
        operation_class=operation(parameters=[IF_MATCH], errors=(403, 404, 412, 503)),
    )
    async def delete_user_legacy(
        self, request: AnyRequest, services: ServicesDep, actor: ActorDep, user_id: LegacyId
    ) -> None:
        await services.users.delete(actor, user_id, expected(request))

    @get(
        "/{user_id:str}",
        summary="Read a user",
        description="The user with their newest posts (at most 100) and their profile.",
        security=SIGNED_IN,
        operation_class=operation(
            parameters=CONDITIONAL_GET,
            headers=VALIDATORS,
            others=NOT_MODIFIED,
            errors=(404, 503),
        ),
    )
    async def get_user(
        self, request: AnyRequest, services: ServicesDep, actor: ActorDep, user_id: UserId
    ) -> Response[UserDetail]:
        user, validators = await services.users.detail(actor, user_id)
        return conditional(request, user, validators, PRIVATE)

    @put(
        "/{user_id:str}",
        summary="Update a user",
        description=f"Users change themselves; admins anyone. {_CHANGES}",
        security=SIGNED_IN,
        dto=StrictBody[UserUpdate],
        operation_class=operation(
            parameters=[IF_MATCH], headers=VALIDATORS, errors=(403, 404, 409, 412, 503)
        ),
    )
    async def update_user(
        self,
        request: AnyRequest,
        data: JSONBody[UserUpdate],
        services: ServicesDep,
        actor: ActorDep,
        user_id: UserId,
    ) -> Response[User]:
        return await _update(request, data, services, actor, user_id)

    @delete(
        "/{user_id:str}",
        summary="Delete a user",
        description="Also removes their posts and profile. Users delete themselves; admins anyone.",
        security=SIGNED_IN,
        operation_class=operation(parameters=[IF_MATCH], errors=(403, 404, 412, 503)),
    )
    async def delete_user(
        self, request: AnyRequest, services: ServicesDep, actor: ActorDep, user_id: UserId
    ) -> None:
        await services.users.delete(actor, user_id, expected(request))
