"""``/api/users``: the legacy user endpoints, including the ``?id=`` forms."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import FromPath

from gateway.errors import ValidationFailed
from gateway.models import User, UserCreate, UserDetail, UserUpdate
from gateway.pagination import OffsetPage, page_params
from rest._http import ActorDep, ServicesDep, client_address, plain_query, read_json

__all__ = ["UserController"]

AnyRequest = Request[Any, Any, Any]
DEFAULT_LIMIT = 20


def _link_header(path: FromPath[str], page: OffsetPage[Any]) -> str:
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


class UserController(Controller):
    path = "/api/users"

    @get("/")
    async def list_users(
        self, request: AnyRequest, services: ServicesDep, actor: ActorDep
    ) -> Response[list[User]]:
        query = plain_query(request, "page", "limit")
        page = await services.users.page(
            actor, page_params(query["page"], query["limit"], DEFAULT_LIMIT)
        )
        return Response(
            page.items,
            headers={
                "X-Total-Count": str(page.total),
                "Link": _link_header(request.url.path, page),
            },
        )

    @post("/")
    async def create_user(
        self, request: AnyRequest, services: ServicesDep, actor: ActorDep
    ) -> Response[User]:
        data = await read_json(request, UserCreate)
        user = await services.users.create(actor, data, client=client_address(request))
        return Response(user, status_code=201, headers={"Location": f"{self.path}/{user.id}"})

    @put("/")
    async def update_user_legacy(
        self, request: AnyRequest, services: ServicesDep, actor: ActorDep
    ) -> User:
        user_id = _legacy_id(request)
        return await services.users.update(actor, user_id, await read_json(request, UserUpdate))

    @delete("/")
    async def delete_user_legacy(
        self, request: AnyRequest, services: ServicesDep, actor: ActorDep
    ) -> None:
        await services.users.delete(actor, _legacy_id(request))

    @get("/{user_id:str}")
    async def get_user(
        self, services: ServicesDep, actor: ActorDep, user_id: FromPath[str]
    ) -> UserDetail:
        return await services.users.detail(actor, user_id)

    @put("/{user_id:str}")
    async def update_user(
        self, request: AnyRequest, services: ServicesDep, actor: ActorDep, user_id: FromPath[str]
    ) -> User:
        return await services.users.update(actor, user_id, await read_json(request, UserUpdate))

    @delete("/{user_id:str}")
    async def delete_user(
        self, services: ServicesDep, actor: ActorDep, user_id: FromPath[str]
    ) -> None:
        await services.users.delete(actor, user_id)
