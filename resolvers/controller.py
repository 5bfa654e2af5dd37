"""``/graphql``: Strawberry's Litestar controller, adapted to the gateway.

Changes to Strawberry's ``GraphQLController`` (0.341):

* its handlers take no dependencies: Strawberry's are inferred, which Litestar 2.25
  deprecates (a warning per handler at start-up), and resolving them cost about
  12 us a request; each handler builds its context with ``graphql_context``;
* subscriptions: over WebSocket (graphql-transport-ws only: the legacy graphql-ws
  subprotocol is closed with 4406), handled by ``resolvers.websocket``, with the
  handshake's ``Origin`` checked against ``GATEWAY_CORS_ORIGINS`` (a page of another
  origin is refused with 403: cross-site WebSocket hijacking); and over SSE (the
  GraphQL over SSE protocol's distinct connections mode): a subscription POSTed with
  ``Accept: text/event-stream`` is answered with a stream of ``next`` events, a
  heartbeat comment every keep-alive interval, and ``complete``; it ends when the
  caller's token expires or is revoked, or when the caller reads too slowly.
  Anything else sent that way (a query, a mutation, a refused document) is answered
  as usual; a refused token is a 401 before any stream;
* answers follow the GraphQL over HTTP specification: in the media type the
  client accepts (``resolvers.negotiation``), a request error (no ``data``:
  malformed parameters, syntax, validation, limits, cost) is a 200 in
  ``application/json`` and a 400 in ``application/graphql-response+json``,
  a refused token a 401 there; a database outage is a 503 with
  ``Retry-After`` in both; HTTP's own refusals keep their status in both:
  405 (a mutation by GET, with ``Allow: POST``), 413, 415, 429, and 400 for
  a malformed multipart request (read strictly by ``resolvers.multipart``);
* persisted queries (Apollo's protocol, and the allow-list mode) are resolved
  to their text before anything else (``gateway.persisted``), over POST and GET;
* a multipart request (uploads) must carry a header a browser cannot send
  without a CORS preflight, so a cross-site HTML form cannot post one: any
  non-empty ``Apollo-Require-Preflight``, ``X-Apollo-Operation-Name``,
  ``GraphQL-Require-Preflight`` or ``X-Requested-With``;
* a JSON body keeps the app's ``max_body_bytes`` limit, while a multipart
  body may also hold a file of ``max_upload_bytes``;
* errors are formatted by ``schema.errors`` (``format_refusal`` for a refusal before
  GraphQL ran), with the status and headers the domain error carries;
* past the per-address request limit the answer is a 429 with ``Retry-After``
  and a ``RATE_LIMITED`` error;
* a browser gets the self-hosted GraphiQL page of ``resolvers.graphiql``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Mapping
from datetime import timedelta
from types import MappingProxyType
from typing import Any, ClassVar, cast

import msgspec
from cross_web import HTTPException as RequestRefused
from graphql import OperationType
from litestar import Controller, MediaType, Response, WebSocket, get, post, websocket
from litestar.exceptions import HTTPException
from litestar.status_codes import (
    HTTP_200_OK,
    HTTP_400_BAD_REQUEST,
    HTTP_405_METHOD_NOT_ALLOWED,
    HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    HTTP_415_UNSUPPORTED_MEDIA_TYPE,
)
from litestar.types import Dependencies
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.streaming import HTTPStreamTransport, SSETransport
from strawberry.http.websocket_origin import normalize_allowed_origins
from strawberry.litestar.controller import GraphQLController
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.types import ExecutionResult

from gateway.config import Settings
from gateway.errors import (
    GatewayError,
    RateLimited,
    Unauthenticated,
    Unavailable,
    ValidationFailed,
)
from gateway.http import AnyRequest, client_key, http_status
from gateway.persisted import Allowlist, PersistedQueries, build_persisted_store, resolve
from gateway.services import Actor, Services
from gateway.static_assets import REVALIDATE
from gateway.validation import decode_json_value
from resolvers.context import Context, graphql_context
from resolvers.graphiql import GRAPHIQL_CSP, graphiql_html
from resolvers.live_sessions import LiveSession, LiveSessions
from resolvers.loaders import Loaders
from resolvers.multipart import operations_with_files
from resolvers.negotiation import JSON, response_media_type
from resolvers.websocket import LiveConnection
from schema import GatewaySchema
from schema.errors import classify, format_error, format_refusal, release

__all__ = ["GRAPHQL_PATH", "PREFLIGHT_HEADERS", "GatewayGraphQLController", "graphql_controller"]

SSE = SSETransport()


def _json(value: object) -> str:
    return msgspec.json.encode(value).decode()


GRAPHQL_PATH = "/graphql"
PREFLIGHT_HEADERS = (
    "apollo-require-preflight",
    "x-apollo-operation-name",
    "graphql-require-preflight",
    "x-requested-with",
)
MULTIPART = "multipart/form-data"


# Where a request keeps its GraphQL context and response for ``process_result``: in
# its ASGI scope (``request.state`` builds a new object, with a lock, on each use).
_CONTEXT = "gateway.graphql_context"
_RESPONSE = "gateway.graphql_response"
_STREAMED = "gateway.graphql_streamed"  # a subscription answered over SSE


def _scope(request: AnyRequest) -> dict[str, Any]:
    return cast("dict[str, Any]", request.scope)


class _ParametersInvalid(RequestRefused):
    """The body or query string is not a GraphQL request (JSON, ``query``, ``variables``...):
    a request error, whose status depends on the response's media type."""


class _Refused(RequestRefused):
    """Refused by HTTP's rules (type, size, preflight, multipart shape): its status stands."""


class _StreamRefused(Exception):
    """A subscription over SSE refused before its stream starts (the caller's token)."""

    def __init__(self, error: GatewayError) -> None:
        super().__init__(error.message)
        self.error = error


class HeartbeatSSE(SSETransport):
    """Strawberry's SSE transport, with the gateway's heartbeat interval."""

    interval: ClassVar[float] = 15.0

    def __init__(self) -> None:
        super().__init__(self.interval)


def request_error(
    request: AnyRequest,
    error: GatewayError,
    status_code: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response[Any]:
    """A refusal before GraphQL ran, shaped as a GraphQL response with no ``data``;
    its status and headers are the error's own unless given."""
    body = {"errors": [format_refusal(error)]}
    media_type = response_media_type(request.headers.get("accept"))
    return Response(
        msgspec.json.encode(body),
        status_code=error.status_code if status_code is None else status_code,
        media_type=media_type,
        headers=error.headers if headers is None else headers,
    )


class GatewayGraphQLController(GraphQLController[Context, None]):
    """The endpoint; ``graphql_controller`` fills in the schema and the limits."""

    path = GRAPHQL_PATH
    # None (the handlers build their context). Strawberry types these as a ClassVar and a
    # route handler; Litestar, as instance state.
    dependencies: ClassVar[Dependencies] = {}  # type: ignore[misc]
    schema: GatewaySchema
    protocols = (GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_SSE_PROTOCOL)
    graphql_transport_ws_handler_class = LiveConnection
    stream_transport_classes_by_protocol: Mapping[str, type[HTTPStreamTransport]] = (
        MappingProxyType({GRAPHQL_SSE_PROTOCOL: HeartbeatSSE})
    )
    keepalive_interval: float = 15.0
    max_subscriptions_per_connection: int = 10
    live_sessions: ClassVar[LiveSessions]
    multipart_uploads_enabled = True
    debug: bool = False
    suggestions: bool = True
    max_json_bytes: int = 0
    persisted: ClassVar[PersistedQueries]
    allowlist: ClassVar[Allowlist | None] = None

    @get(include_in_schema=False)
    async def handle_http_get(self, request: AnyRequest) -> Response[Any]:
        return await self.execute_request(request, await graphql_context(request), None)

    @post(status_code=HTTP_200_OK, include_in_schema=False)
    async def handle_http_post(self, request: AnyRequest) -> Response[Any]:
        return await self.execute_request(request, await graphql_context(request), None)

    @websocket()
    async def websocket_endpoint(self, socket: WebSocket[Any, Any, Any]) -> None:
        """A graphql-transport-ws connection; the caller signs in with ``connection_init``."""
        services: Services = socket.app.state.services
        loaders = Loaders(services, None)
        context = Context(socket, services, None, loaders, client=client_key(socket))
        await self.run(socket, context=context, root_value=None)

    def live_session(
        self, context: Context, actor: Actor, authorization: str, on_end: Callable[[str], None]
    ) -> LiveSession:
        """A signed-in live connection, ended by ``on_end`` when its token stops being good."""
        self.live_sessions.watch(context.services)
        return self.live_sessions.open(actor, authorization, on_end)

    async def execute_request(
        self, request: AnyRequest, context: Any, root_value: Any
    ) -> Response[Any]:
        _scope(request)[_CONTEXT] = context
        try:
            await context.services.limits.graphql(context.client)
        except RateLimited as exc:
            return request_error(request, exc)
        try:
            await self._admit(request)
            return await self.run(request, context=context, root_value=root_value)
        except _StreamRefused as exc:
            return request_error(request, exc.error)
        except GatewayError as exc:  # persisted queries: unknown, mismatched, not allowed
            return request_error(request, exc, self._status(request, exc.status_code))
        except RequestRefused as exc:
            if isinstance(exc.__cause__, InvalidOperationTypeError) and request.method == "GET":
                headers = {"Allow": "POST"}
                return request_error(
                    request, ValidationFailed(exc.reason), HTTP_405_METHOD_NOT_ALLOWED, headers
                )
            status = exc.status_code
            if not isinstance(exc, _Refused) and status == HTTP_400_BAD_REQUEST:
                status = self._status(request, status)
            return request_error(request, ValidationFailed(exc.reason), status)
        except HTTPException as exc:  # Litestar's, reading the body: too large, bad multipart
            error = ValidationFailed(exc.detail)
            return request_error(request, error, http_status(exc), exc.headers)

    @staticmethod
    def _status(request: AnyRequest, status: int) -> int:
        """A GraphQL request error's status: 200 in ``application/json`` (the GraphQL over
        HTTP specification's compatibility rule), ``status`` in its own media type."""
        if response_media_type(request.headers.get("accept")) == JSON and status < 500:
            return HTTP_200_OK
        return status

    async def _admit(self, request: AnyRequest) -> None:
        """Refuse a POST that is not JSON or a preflighted multipart, or JSON over the limit."""
        if request.method != "POST":
            return
        media_type = request.content_type[0]
        if media_type == MULTIPART:
            if not any(request.headers.get(name, "").strip() for name in PREFLIGHT_HEADERS):
                raise _Refused(
                    HTTP_400_BAD_REQUEST,
                    "Multipart requests need an Apollo-Require-Preflight header",
                )
        elif media_type != JSON:
            raise _Refused(
                HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                "Content-Type must be application/json or multipart/form-data",
            )
        elif len(await request.body()) > self.max_json_bytes:  # Strawberry reads it cached
            raise _Refused(HTTP_413_REQUEST_ENTITY_TOO_LARGE, "Request Entity Too Large")

    async def parse_http_body(self, request: Any) -> GraphQLRequestData:
        """The request's parameters, checked, with a persisted query's text filled in."""
        if request.method == "POST" and request.request.content_type[0] == JSON:
            self._check_json_object(await request.get_body())
        try:
            data = await super().parse_http_body(request)
        except _Refused:
            raise
        except RequestRefused as exc:
            raise _ParametersInvalid(exc.status_code, exc.reason) from None
        if isinstance(data, list):  # batching is off: Strawberry refuses lists before this
            raise _ParametersInvalid(HTTP_400_BAD_REQUEST, "Batched requests are not supported")
        if not isinstance(data.operation_name, str | None):
            raise _ParametersInvalid(
                HTTP_400_BAD_REQUEST, "The GraphQL operation's `operationName` must be a string"
            )
        if data.extensions is not None or self.allowlist is not None:
            data.query = await resolve(self.persisted, self.allowlist, data.query, data.extensions)
        if data.protocol == SSETransport.protocol:
            await self._admit_stream(request.request, data)
        return data

    def _check_json_object(self, body: bytes) -> None:
        """Refuse a JSON body that is not an object (or a list, refused as a batch later):
        Strawberry reads any other value as an object, and fails on it.

        A JSON value is an object exactly when its first character past whitespace
        is ``{``; malformed JSON keeps its own error.
        """
        if body.lstrip(b" \t\n\r")[:1] not in (b"{", b"["):
            self.parse_json(body)
            raise _ParametersInvalid(
                HTTP_400_BAD_REQUEST, "The GraphQL request must be a JSON object"
            )

    async def _admit_stream(self, request: AnyRequest, data: GraphQLRequestData) -> None:
        """Stream only a subscription that may run, its cost taken from the rate limit;
        anything else sent with ``Accept: text/event-stream`` is answered as usual."""
        priced = None
        if isinstance(data.query, str) and isinstance(data.variables, dict | None):
            priced = await self.schema.price(data.query, data.operation_name, data.variables)
        if priced is None or priced.kind != OperationType.SUBSCRIPTION or not priced.admitted:
            data.protocol = "http"
            return
        context: Context = _scope(request)[_CONTEXT]
        if isinstance(context.refusal, GatewayError):
            raise _StreamRefused(context.refusal)
        _scope(request)[_STREAMED] = True
        if priced.cost > 1:
            await context.services.limits.graphql_spent(context.client, priced.cost - 1)

    async def parse_multipart(self, request: Any) -> dict[str, Any]:
        try:
            form = await request.get_form_data()
        except ValueError:
            raise _Refused(HTTP_400_BAD_REQUEST, "Unable to parse the multipart body") from None
        try:
            return operations_with_files(
                self._form_json(form.form, "operations"),
                self._form_json(form.form, "map"),
                # Litestar hands every part over as "files": the files are the parts with one.
                {name: part for name, part in form.files.items() if not isinstance(part, str)},
            )
        except ValidationFailed as exc:
            raise _Refused(HTTP_400_BAD_REQUEST, exc.message) from None

    def _form_json(self, form: Any, name: str) -> object:
        value = form.get(name)
        if not isinstance(value, str | bytes):
            raise ValidationFailed(f"Multipart field '{name}' is missing")
        try:
            return self.parse_json(value)
        except _ParametersInvalid as exc:
            raise ValidationFailed(f"Multipart field '{name}': {exc.reason}") from None

    def decode_json(self, data: str | bytes) -> object:
        """The request's JSON, by the gateway's rules (msgspec; depth-limited)."""
        try:
            return decode_json_value(data)
        except ValidationFailed as exc:
            raise _ParametersInvalid(HTTP_400_BAD_REQUEST, exc.message) from None

    def encode_json(self, data: object) -> bytes:
        return msgspec.json.encode(data)

    async def get_sub_response(self, request: AnyRequest) -> Response[Any]:
        # A fresh one per request (Strawberry keeps one on the shared controller),
        # kept on the request so that ``process_result`` can set its status.
        # No answer is kept by a cache: answers depend on the caller and may carry a token
        # (``login``); GraphQL answers carry no validators to revalidate with.
        sub_response: Response[Any] = Response(None, headers={"Cache-Control": "no-store"})
        _scope(request)[_RESPONSE] = sub_response
        return sub_response

    async def process_result(
        self, request: AnyRequest, result: ExecutionResult
    ) -> GraphQLHTTPResponse:
        response: GraphQLHTTPResponse = {}
        errors = result.errors or []
        # Refused before it ran (a request error): errors without a path, and no data.
        refused = result.data is None and bool(errors) and all(e.path is None for e in errors)
        if not refused:
            response["data"] = result.data
        if errors:
            response["errors"] = [
                format_error(error, debug=self.debug, suggestions=self.suggestions)
                for error in errors
            ]
            release(errors)
        if result.extensions:
            response["extensions"] = result.extensions
            cost = result.extensions.get("cost", 1)
            # A streamed subscription's cost was taken once, before it started.
            if cost > 1 and not refused and _STREAMED not in _scope(request):
                context: Context = _scope(request)[_CONTEXT]
                await context.services.limits.graphql_spent(context.client, cost - 1)
        sub_response: Response[Any] = _scope(request)[_RESPONSE]
        sub_response.media_type = response_media_type(request.headers.get("accept"))
        if errors and result.data is None:
            # Refused before it ran (its error's status), or failed whole for want
            # of the database (503, as REST); other field errors are answered with 200.
            first = classify(errors[0])
            if refused or isinstance(first, Unavailable):
                if first is not None:
                    sub_response.headers.update(first.headers)
                status = 500 if first is None else first.status_code
                sub_response.status_code = self._status(request, status)
        return response

    def create_response(
        self, response_data: GraphQLHTTPResponse | list[GraphQLHTTPResponse], sub_response: Any
    ) -> Response[bytes]:
        response = super().create_response(response_data, sub_response)
        response.media_type = sub_response.media_type or MediaType.JSON
        return response

    async def create_streaming_response(
        self,
        request: AnyRequest,
        stream: Callable[[], AsyncIterator[str]],
        sub_response: Response[Any],
        headers: Mapping[str, str],
    ) -> Response[Any]:
        """The SSE answer; a signed-in caller's ends when their token stops being good."""
        context: Context = _scope(request)[_CONTEXT]
        authorization = request.headers.get("authorization")
        if context.actor is not None and authorization is not None:
            actor = context.actor
            stream = self._guarded(
                stream, lambda end: self.live_session(context, actor, authorization, end)
            )
        return await super().create_streaming_response(request, stream, sub_response, headers)

    @staticmethod
    def _guarded(
        stream: Callable[[], AsyncIterator[str]],
        open_session: Callable[[Callable[[str], None]], LiveSession],
    ) -> Callable[[], AsyncIterator[str]]:
        """``stream``, cut short when the session ends: an error event, then ``complete``."""

        async def guarded() -> AsyncGenerator[str, None]:
            ended: asyncio.Future[str] = asyncio.get_running_loop().create_future()

            def end(reason: str) -> None:
                if not ended.done():
                    ended.set_result(reason)

            session = open_session(end)
            items = aiter(stream())
            try:
                while True:
                    step = asyncio.ensure_future(anext(items))
                    await asyncio.wait({step, ended}, return_when=asyncio.FIRST_COMPLETED)
                    if not step.done():
                        step.cancel()
                        with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                            await step
                        error = format_refusal(Unauthenticated(ended.result()))
                        yield SSE.encode_next({"errors": [error]}, _json)
                        yield SSE.encode_complete()
                        return
                    try:
                        yield step.result()
                    except StopAsyncIteration:
                        return
            finally:
                session.close()
                if isinstance(items, AsyncGenerator):
                    await items.aclose()

        return guarded

    def should_render_graphql_ide(self, request: Any) -> bool:
        # A GET carrying a persisted query's hash is a query, not a visit.
        return "extensions" not in request.query_params and super().should_render_graphql_ide(
            request
        )

    async def render_graphql_ide(self, request: AnyRequest) -> Response[str]:
        return Response(
            graphiql_html(GRAPHQL_PATH),
            media_type=MediaType.HTML,
            # The page names the versioned assets: revalidated, never kept as is.
            headers={"Content-Security-Policy": GRAPHIQL_CSP, "Cache-Control": REVALIDATE},
        )


def graphql_controller(settings: Settings, graphql_schema: GatewaySchema) -> type[Controller]:
    """The endpoint serving ``graphql_schema`` under ``settings``' limits."""

    class GraphQLEndpoint(GatewayGraphQLController):
        schema = graphql_schema
        debug = settings.is_development
        suggestions = settings.graphql_suggestions_enabled
        graphql_ide = "graphiql" if settings.graphiql_enabled else None
        persisted = build_persisted_store(settings)
        allowlist = (
            Allowlist.load(settings.graphql_allowlist) if settings.graphql_allowlist else None
        )
        max_json_bytes = settings.max_body_bytes
        allowed_origins = normalize_allowed_origins(settings.cors_origins)
        connection_init_wait_timeout = timedelta(seconds=settings.graphql_connection_init_timeout)
        max_subscriptions_per_connection = settings.graphql_max_subscriptions_per_connection
        keepalive_interval = settings.live_heartbeat
        stream_transport_classes_by_protocol = MappingProxyType(
            {
                GRAPHQL_SSE_PROTOCOL: type(
                    "SSE", (HeartbeatSSE,), {"interval": settings.live_heartbeat}
                )
            }
        )
        live_sessions = LiveSessions()
        # Room for a file at the larger of the two file limits (uploadFile takes
        # GATEWAY_MAX_FILE_BYTES, uploadImage GATEWAY_MAX_UPLOAD_BYTES) plus an operation
        # of the JSON limit; the file service then holds each file to its limit exactly.
        request_max_body_size = (
            max(settings.max_upload_bytes, settings.max_file_bytes) + settings.max_body_bytes
        )

    return GraphQLEndpoint
