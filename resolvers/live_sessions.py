"""Signed-in live connections (WebSocket, SSE), ended when their credentials stop being good.

A subscription outlives the check its connection passed when it opened, so each
signed-in connection is a ``LiveSession``: ended when its token expires (a timer
at ``exp``) and as soon as the user's record changes in a way that refuses the
token (password changed: ``passwordVersion`` bumped; user deleted) or changes
what they may see (their role). The change feed tells every process of every
change to ``users``, whoever made it (``ChangeFeed.listen``); the token is then
checked again the way requests check it (``AuthService.actor``).

``LiveSessions`` also counts the open WebSockets of each client address: one that signs
in and then idles, subscribing to nothing, still holds memory, so an address may hold
``GATEWAY_GRAPHQL_MAX_WEBSOCKETS_PER_CLIENT`` at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable

from gateway.change_feed import Change, Item
from gateway.errors import GatewayError
from gateway.services import Actor, Services

__all__ = ["LiveSession", "LiveSessions"]

EXPIRED = "Token expired"
REVOKED = "Token revoked"


class LiveSession:
    """One signed-in connection; ``on_end`` is called once, with the reason, when it ends."""

    def __init__(
        self,
        sessions: LiveSessions,
        actor: Actor,
        authorization: str,
        on_end: Callable[[str], None],
    ) -> None:
        self.actor = actor
        self._sessions = sessions
        self._authorization = authorization
        self._on_end = on_end
        self._ended = False
        delay = max(0.0, float(actor.claims.get("exp", time.time())) - time.time())
        self._timer = asyncio.get_running_loop().call_later(delay, self.end, EXPIRED)
        self._check: asyncio.Task[None] | None = None

    def end(self, reason: str) -> None:
        if self._ended:
            return
        self.close()
        self._on_end(reason)

    def close(self) -> None:
        """Forget the session (the connection closed); ``on_end`` is not called."""
        self._ended = True
        self._timer.cancel()
        self._sessions.forget(self)

    def recheck(self, services: Services) -> None:
        """Check the token again, in the background (the user's record changed)."""
        if self._check is None or self._check.done():
            self._check = asyncio.create_task(self._recheck(services))

    async def _recheck(self, services: Services) -> None:
        try:
            actor = await services.auth.actor(self._authorization)
        except GatewayError:  # refused, or the database away: end rather than trust it
            self.end(REVOKED)
            return
        if actor is None or actor.role != self.actor.role:
            self.end(REVOKED)


class LiveSessions:
    """The process's signed-in live connections, by user, and its WebSockets, by address."""

    def __init__(self) -> None:
        self._by_user: dict[str, set[LiveSession]] = {}
        self._services: Services | None = None
        self._sockets: dict[str, int] = {}

    def connected(self, client: str | None, limit: int) -> bool:
        """Count a WebSocket of ``client`` opening; False (not counted) past ``limit``.
        No address (a Unix socket's peer): one count for all such."""
        held = self._sockets.get(client or "", 0)
        if held >= limit:
            return False
        self._sockets[client or ""] = held + 1
        return True

    def disconnected(self, client: str | None) -> None:
        """A counted WebSocket of ``client`` closed."""
        held = self._sockets.pop(client or "", 0) - 1
        if held > 0:
            self._sockets[client or ""] = held

    def watch(self, services: Services) -> None:
        """Follow changes to users (once per process)."""
        if self._services is None:
            self._services = services
            services.feed.listen("users", self._user_changed)

    def open(self, actor: Actor, authorization: str, on_end: Callable[[str], None]) -> LiveSession:
        session = LiveSession(self, actor, authorization, on_end)
        self._by_user.setdefault(actor.id, set()).add(session)
        return session

    def forget(self, session: LiveSession) -> None:
        with contextlib.suppress(KeyError):
            held = self._by_user[session.actor.id]
            held.discard(session)
            if not held:
                del self._by_user[session.actor.id]

    def _user_changed(self, item: Item) -> None:
        if isinstance(item, Change):
            affected = list(self._by_user.get(item.document_id, ()))
        else:  # changes went unheard: any user may have changed
            affected = [session for held in self._by_user.values() for session in held]
        for session in affected:
            if isinstance(item, Change) and item.kind == "deleted":
                session.end(REVOKED)
            elif self._services is not None:
                session.recheck(self._services)
