"""GraphQL over WebSocket (graphql-transport-ws), with the gateway's rules.

Strawberry's protocol handler, adapted:

* the caller signs in when the connection opens: ``connection_init``'s payload
  ``{"Authorization": "Bearer ..."}``, else the upgrade request's ``Authorization``
  header; a refused token closes with 4403 (Forbidden);
* a signed-in connection is a ``LiveSession``: closed with 4403 when its token
  expires or is revoked (password changed, user deleted, role changed);
* each ``subscribe`` takes one point of the GraphQL rate limit and then the rest of
  its cost (refused: an ``error`` message with ``RATE_LIMITED``); past the
  per-connection cap, an ``error`` message; over the maximum cost, the pipeline's
  ``error`` message, before anything is subscribed;
* an address holds at most ``GATEWAY_GRAPHQL_MAX_WEBSOCKETS_PER_CLIENT`` open
  connections; past it, the next is closed with 1008 (Policy Violation) at once;
* errors are formatted as over HTTP (``schema.errors``: ``extensions.code``);
* the server sends a ``ping`` every keep-alive interval once acknowledged;
* a subscriber too slow to read its events (the feed's ``SlowConsumer``) is
  closed with 1013 (Try Again Later), and over SSE told with ``SLOW_CONSUMER``;
* a message that is not the protocol's (not JSON, not an object, a field of the wrong
  type) closes with 4400 before Strawberry reads it (which would fail with an internal
  error), and close reasons, which may quote the client, are cut to the 123 bytes a
  close frame holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncGenerator, Mapping
from typing import TYPE_CHECKING, Any, Final

from cross_web import HTTPException
from graphql import GraphQLError
from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.http.exceptions import NonJsonMessageReceived, WebSocketDisconnected
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    Message,
    NextMessagePayload,
    SubscribeMessage,
)
from strawberry.types.execution import ExecutionResult, PreExecutionError
from strawberry.utils.aio import aclosing

from gateway.errors import GatewayError, RateLimited, Unauthenticated
from resolvers.context import Context
from resolvers.live_sessions import LiveSession
from resolvers.loaders import Loaders
from resolvers.subscriptions import SlowSubscriber
from schema.errors import format_error, format_refusal, release

if TYPE_CHECKING:
    from resolvers.controller import GatewayGraphQLController

__all__ = [
    "CLOSE_FORBIDDEN",
    "CLOSE_SLOW_CONSUMER",
    "CLOSE_TOO_MANY",
    "CLOSE_UNAVAILABLE",
    "LiveConnection",
]

CLOSE_FORBIDDEN: Final = 4403
CLOSE_SLOW_CONSUMER: Final = 1013
CLOSE_UNAVAILABLE: Final = 1011
CLOSE_TOO_MANY: Final = 1008
TOO_MANY = "Too many WebSockets from this address"
SLOW_CONSUMER = "Slow consumer: too many events unread"
CLOSE_REASON_BYTES: Final = 123  # what a close frame holds (RFC 6455, 5.5)

# Each message type's fields (beyond ``type``) and the types they may have; ``None``
# in a tuple: the field may be absent or null.
_FIELDS: Final[dict[str, dict[str, tuple[type | None, ...]]]] = {
    "connection_init": {"payload": (dict, None)},
    "ping": {"payload": (dict, None)},
    "pong": {"payload": (dict, None)},
    "subscribe": {"id": (str,), "payload": (dict,)},
    "complete": {"id": (str,)},
}
_SUBSCRIBE_PAYLOAD: Final[dict[str, tuple[type | None, ...]]] = {
    "query": (str,),
    "variables": (dict, None),
    "operationName": (str, None),
    "extensions": (dict, None),
}


def _wrong_field(message: Mapping[str, Any], fields: Mapping[str, tuple[type | None, ...]]) -> str:
    """The first of ``fields`` that ``message`` lacks or holds with a wrong type, or ''."""
    for name, allowed in fields.items():
        value = message.get(name)
        if not (value is None and None in allowed) and not isinstance(
            value, tuple(kind for kind in allowed if kind is not None)
        ):
            return name
    return ""


def _message_problem(message: object) -> str | None:
    """Why ``message`` is not a graphql-transport-ws message; None when it is one.

    Fields the protocol does not define are ignored (as the protocol allows).
    """
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return "A message must be an object with a string type"
    kind = message["type"]
    fields = _FIELDS.get(kind)
    if fields is None:
        return f"Unknown message type: {kind}"
    wrong = _wrong_field(message, fields)
    if not wrong and kind == "subscribe":
        wrong = _wrong_field(message["payload"], _SUBSCRIBE_PAYLOAD)
        wrong = wrong and f"payload.{wrong}"
    if wrong:
        return f"Invalid {kind} message: {wrong}"
    if kind == "subscribe" and not message["id"]:
        return "Invalid subscribe message: id is empty"
    return None


class _CheckedWebSocket(AsyncWebSocketAdapter):
    """A connection's WebSocket, as Strawberry's adapter, but that text which is not
    JSON ends the messages as the protocol says (4400), and a close reason fits."""

    def __init__(self, inner: AsyncWebSocketAdapter) -> None:
        super().__init__(inner.view)
        self._inner = inner

    async def iter_json(
        self, *, ignore_parsing_errors: bool = False
    ) -> AsyncGenerator[object, None]:
        messages = self._inner.iter_json(ignore_parsing_errors=ignore_parsing_errors)
        async with aclosing(messages):
            while True:
                try:
                    message = await anext(messages)
                except StopAsyncIteration:
                    return
                except HTTPException:  # the view's JSON rules refused it (depth, syntax)
                    raise NonJsonMessageReceived from None
                yield message

    async def send_json(self, message: Mapping[str, object]) -> None:
        await self._inner.send_json(message)

    async def close(self, code: int, reason: str) -> None:
        cut = reason.encode()[:CLOSE_REASON_BYTES].decode(errors="ignore")
        await self._inner.close(code, cut)


def _slow(result: ExecutionResult) -> bool:
    return any(isinstance(error.original_error, SlowSubscriber) for error in result.errors or ())


class LiveConnection(BaseGraphQLTransportWSHandler[Context, None]):
    """One WebSocket's graphql-transport-ws session."""

    view: GatewayGraphQLController

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.websocket = _CheckedWebSocket(self.websocket)
        self._keepalive: asyncio.Task[None] | None = None
        self._session: LiveSession | None = None
        self._closing: asyncio.Task[None] | None = None

    async def handle(self) -> None:
        sessions, client = self.view.live_sessions, self.context.client
        settings = self.context.request.app.state.settings
        if not sessions.connected(client, settings.graphql_max_websockets_per_client):
            await self.websocket.close(CLOSE_TOO_MANY, TOO_MANY)
            return
        try:
            await super().handle()
        finally:
            sessions.disconnected(client)

    async def handle_message(self, message: Message) -> None:
        problem = _message_problem(message)
        if problem is not None:
            await self.handle_invalid_message(problem)
            return
        await super().handle_message(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload") or {}  # an object or null (_message_problem)
        if self.connection_init_received:
            await super().handle_connection_init(message)  # refused as Strawberry does
            return
        context = self.context
        authorization = payload.get("Authorization", payload.get("authorization"))
        if authorization is None:
            authorization = context.request.headers.get("authorization")
        try:
            if not isinstance(authorization, str | None):
                raise Unauthenticated("Authorization must be a string")
            actor = await context.services.auth.actor(authorization)
        except GatewayError as exc:
            self.connection_init_received = True
            if self.connection_init_timeout_task:
                self.connection_init_timeout_task.cancel()
            refused = isinstance(exc, Unauthenticated)
            code = CLOSE_FORBIDDEN if refused else CLOSE_UNAVAILABLE
            await self.websocket.close(code, "Forbidden" if refused else exc.message)
            return
        self.context = dataclasses.replace(
            context, actor=actor, loaders=Loaders(context.services, actor)
        )
        if actor is not None and authorization is not None:
            self._session = self.view.live_session(context, actor, authorization, self._end)
        await super().handle_connection_init(message)
        if self.connection_acknowledged:
            self._keepalive = asyncio.create_task(self._ping())

    async def _ping(self) -> None:
        with contextlib.suppress(WebSocketDisconnected):
            while True:
                await asyncio.sleep(self.view.keepalive_interval)
                await self.send_message({"type": "ping"})

    def _end(self, reason: str) -> None:
        """The session ended (token expired or revoked): close the connection."""
        self._closing = asyncio.create_task(self.websocket.close(CLOSE_FORBIDDEN, reason))

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        if not self.connection_acknowledged or message["id"] in self.operations:
            await super().handle_subscribe(message)  # closed as the protocol says
            return
        if len(self.operations) >= self.view.max_subscriptions_per_connection:
            refusal: GatewayError | None = RateLimited("Too many subscriptions on this connection")
        else:
            refusal = await self._admit(message["payload"])
        if refusal is not None:
            error = format_refusal(refusal)
            await self.send_message({"id": message["id"], "type": "error", "payload": [error]})
            return
        await super().handle_subscribe(message)

    async def _admit(self, payload: Any) -> GatewayError | None:
        """Take the operation's cost from the rate limit: one point first, as for any
        request, then the rest (not taken for a document the pipeline refuses)."""
        limits, client = self.context.services.limits, self.context.client
        try:
            await limits.graphql(client)
        except RateLimited as exc:
            return exc
        query = payload.get("query") if isinstance(payload, dict) else None
        if isinstance(query, str):
            variables = payload.get("variables")
            priced = await self.view.schema.price(
                query,
                payload.get("operationName"),
                variables if isinstance(variables, dict) else None,
            )
            if priced is not None and priced.admitted and priced.cost > 1:
                await limits.graphql_spent(client, priced.cost - 1)
        return None

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        try:
            stream = await self.schema.stream(
                operation.query,
                variable_values=operation.variables,
                context_value=self.context,
                root_value=self.root_value,
                operation_name=operation.operation_name,
            )
            async with aclosing(stream):
                async for result in stream:
                    if isinstance(result, PreExecutionError):
                        await self._send(operation, "error", result)
                        return
                    if not isinstance(result, ExecutionResult):  # @defer: not in this schema
                        await self._send(operation, "error", _incremental())
                        return
                    if _slow(result):
                        self.operations.pop(operation.id, None)
                        await self.websocket.close(CLOSE_SLOW_CONSUMER, SLOW_CONSUMER)
                        return
                    await self._send(operation, "next", result)
            await operation.send_operation_message({"id": operation.id, "type": "complete"})
        except WebSocketDisconnected:
            self.operations.pop(operation.id, None)

    async def _send(self, operation: Operation[Context, None], kind: str, result: Any) -> None:
        debug, suggestions = self.view.debug, self.view.suggestions
        errors = [
            format_error(e, debug=debug, suggestions=suggestions) for e in result.errors or ()
        ]
        release(result.errors or [])
        if kind == "error":
            await operation.send_operation_message(
                {"id": operation.id, "type": "error", "payload": errors}
            )
            return
        payload: NextMessagePayload = {"data": result.data}
        if errors:
            payload["errors"] = errors
        if result.extensions:
            payload["extensions"] = result.extensions
        await operation.send_operation_message(
            {"id": operation.id, "type": "next", "payload": payload}
        )

    async def shutdown(self) -> None:
        if self._keepalive is not None:
            self._keepalive.cancel()
        if self._session is not None:
            self._session.close()
        await super().shutdown()


def _incremental() -> PreExecutionError:
    error = GraphQLError("Incremental delivery is not supported over graphql-transport-ws")
    return PreExecutionError(data=None, errors=[error])
