"""``/graphql``: Strawberry's Litestar controller, adapted to the gateway.

Changes to Strawberry's ``GraphQLController`` (0.341):

* its handlers and context providers are re-declared with ``NamedDependency``
  parameters, because Litestar 2.25 deprecates the inferred ones it uses (a
  warning per handler at start-up); the context is ``graphql_context``;
* no WebSocket route: the schema has no subscriptions;
* requests it refuses before GraphQL runs (malformed JSON, a mutation by GET,
  a body too large...) are answered as GraphQL errors, in JSON, with their
  HTTP status: 400, 405 (with ``Allow: POST``), 413 or 415;
* a multipart request (uploads) must carry a header a browser cannot send
  without a CORS preflight, so a cross-site HTML form cannot post one: any
  non-empty ``Apollo-Require-Preflight``, ``X-Apollo-Operation-Name``,
  ``GraphQL-Require-Preflight`` or ``X-Requested-With``;
* a JSON body keeps the app's ``max_body_bytes`` limit, while a multipart
  body may also hold a file of ``max_upload_bytes``;
* errors are formatted by ``schema.errors.format_error``;
* past the per-address request limit the answer is a 429 with ``Retry-After``
  and a ``RATE_LIMITED`` error;
* a browser gets the self-hosted GraphiQL page of ``resolvers.graphiql``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import msgspec
from cross_web import HTTPException as RequestRefused
from litestar import Controller, MediaType, Request, Response, get, post
from litestar.di import NamedDependency, Provide
from litestar.exceptions import HTTPException
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_400_BAD_REQUEST,
    HTTP_405_METHOD_NOT_ALLOWED,
    HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    HTTP_415_UNSUPPORTED_MEDIA_TYPE,
    HTTP_500_INTERNAL_SERVER_ERROR,
)
from litestar.types import Dependencies
from strawberry.http import GraphQLHTTPResponse
from strawberry.litestar.controller import GraphQLController
from strawberry.schema.base import BaseSchema
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.types import ExecutionResult

from gateway.config import Settings
from gateway.errors import RateLimited, ValidationFailed
from gateway.validation import decode_json_value
from resolvers.context import Context, graphql_context
from resolvers.graphiql import GRAPHIQL_CSP, graphiql_html
from rest.errors import http_status
from schema.errors import format_error

__all__ = ["GRAPHQL_PATH", "PREFLIGHT_HEADERS", "GatewayGraphQLController", "graphql_controller"]

GRAPHQL_PATH = "/graphql"
PREFLIGHT_HEADERS = (
    "apollo-require-preflight",
    "x-apollo-operation-name",
    "graphql-require-preflight",
    "x-requested-with",
)
JSON = "application/json"
MULTIPART = "multipart/form-data"
INTERNAL = "INTERNAL_SERVER_ERROR"

AnyRequest = Request[Any, Any, Any]


def request_error(
    status_code: int,
    message: str,
    headers: dict[str, str] | None = None,
    extensions: dict[str, object] | None = None,
) -> Response[GraphQLHTTPResponse]:
    """A refusal before GraphQL ran, shaped as a GraphQL response."""
    error_code = "BAD_USER_INPUT" if status_code < HTTP_500_INTERNAL_SERVER_ERROR else INTERNAL
    body: GraphQLHTTPResponse = {
        "data": None,
        "errors": [{"message": message, "extensions": extensions or {"code": error_code}}],
    }
    return Response(body, status_code=status_code, media_type=MediaType.JSON, headers=headers)


class GatewayGraphQLController(GraphQLController[Context, None]):
    """The endpoint; ``graphql_controller`` fills in the schema and the limits."""

    path = GRAPHQL_PATH
    # Strawberry types these as a ClassVar and a route handler; Litestar, as instance state.
    dependencies: ClassVar[Dependencies] = {"context": Provide(graphql_context)}  # type: ignore[misc]
    websocket_endpoint = None  # type: ignore[assignment]  # no subscriptions: no WebSocket route
    multipart_uploads_enabled = True
    debug: bool = False
    max_json_bytes: int = 0

    @get(include_in_schema=False)
    async def handle_http_get(
        self, request: AnyRequest, context: NamedDependency[Context]
    ) -> Response[Any]:
        return await self.execute_request(request, context, None)

    @post(status_code=HTTP_200_OK, include_in_schema=False)
    async def handle_http_post(
        self, request: AnyRequest, context: NamedDependency[Context]
    ) -> Response[Any]:
        return await self.execute_request(request, context, None)

    async def execute_request(
        self, request: AnyRequest, context: Any, root_value: Any
    ) -> Response[Any]:
        try:
            await context.services.limits.graphql(context.client)
        except RateLimited as exc:
            retry = {"Retry-After": str(exc.retry_after)}
            extensions = {**exc.extensions, "retryAfter": exc.retry_after}
            return request_error(exc.status_code, exc.message, retry, extensions)
        try:
            await self._admit(request)
            return await self.run(request, context=context, root_value=root_value)
        except RequestRefused as exc:
            if isinstance(exc.__cause__, InvalidOperationTypeError) and request.method == "GET":
                return request_error(HTTP_405_METHOD_NOT_ALLOWED, exc.reason, {"Allow": "POST"})
            return request_error(exc.status_code, exc.reason)
        except HTTPException as exc:  # Litestar's, reading the body: too large, bad multipart
            return request_error(http_status(exc), exc.detail, exc.headers)

    async def _admit(self, request: AnyRequest) -> None:
        """Refuse a POST that is not JSON or a preflighted multipart, or JSON over the limit."""
        if request.method != "POST":
            return
        media_type = request.content_type[0]
        if media_type == MULTIPART:
            if not any(request.headers.get(name, "").strip() for name in PREFLIGHT_HEADERS):
                raise RequestRefused(
                    HTTP_400_BAD_REQUEST,
                    "Multipart requests need an Apollo-Require-Preflight header",
                )
        elif media_type != JSON:
            raise RequestRefused(
                HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                "Content-Type must be application/json or multipart/form-data",
            )
        elif len(await request.body()) > self.max_json_bytes:  # Strawberry reads it cached
            raise RequestRefused(HTTP_413_REQUEST_ENTITY_TOO_LARGE, "Request Entity Too Large")

    def decode_json(self, data: str | bytes) -> object:
        """The request's JSON, by the gateway's rules (msgspec; depth-limited)."""
        try:
            return decode_json_value(data)
        except ValidationFailed as exc:
            raise RequestRefused(HTTP_400_BAD_REQUEST, exc.message) from None

    def encode_json(self, data: object) -> bytes:
        return msgspec.json.encode(data)

    async def get_sub_response(self, request: AnyRequest) -> Response[Any]:
        # A fresh one per request (Strawberry keeps one on the shared controller).
        return Response(None)

    async def process_result(
        self, request: AnyRequest, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response: GraphQLHTTPResponse = {"data": result.data}
        if result.errors:
            response["errors"] = [format_error(error, debug=self.debug) for error in result.errors]
        if result.extensions:
            response["extensions"] = result.extensions
        return response

    async def render_graphql_ide(self, request: AnyRequest) -> Response[str]:
        return Response(
            graphiql_html(GRAPHQL_PATH),
            media_type=MediaType.HTML,
            headers={"Content-Security-Policy": GRAPHIQL_CSP},
        )


def graphql_controller(settings: Settings, graphql_schema: BaseSchema) -> type[Controller]:
    """The endpoint serving ``graphql_schema`` under ``settings``' limits."""

    class GraphQLEndpoint(GatewayGraphQLController):
        schema = graphql_schema
        debug = settings.is_development
        graphql_ide = "graphiql" if settings.graphiql else None
        max_json_bytes = settings.max_body_bytes
        # Room for a file at the upload limit plus an operation of the JSON limit;
        # the file service then holds the file itself to its limit exactly.
        request_max_body_size = settings.max_upload_bytes + settings.max_body_bytes

    return GraphQLEndpoint
