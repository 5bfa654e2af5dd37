"""Following one collection's change stream: read, resume, reconnect (``gateway.change_feed``).

What holds on the embedded server (nx-27017 0.8.1) and on MongoDB alike:

- A change stream's getMore on the embedded server does not wait for changes (it
  ignores ``maxAwaitTimeMS``): an empty answer comes back at once. So the stream is
  read with ``try_next()`` and, after an empty answer, the follower sleeps the poll
  interval; MongoDB waits ``max_await_time_ms`` on the server before answering empty.
- The last resume token is kept (an event's own id once it is published, the
  server's post-batch token after an empty answer), and after any driver error the
  stream is opened again with ``resume_after=`` it: a database restart loses no
  event. The embedded server's tokens (``{"_data": "nx:<rowid>"}``) live in its
  SQLite change log and work across its restarts.
- An error that came back fast (connection refused, server down) is retried after a
  backoff (0.1 s doubling to 5 s), so that a database away does not spin the loop. A
  timeout (``PyMongoError.timeout``: the operation deadline ``GATEWAY_MONGO_TIMEOUT_MS``
  ran out, waiting for a pooled connection, a server or an answer) after at least
  half the deadline is retried at once with the backoff left as it was: the attempt
  itself already waited out the deadline. Under load a getMore can run into it (its
  answer read late behind request traffic); backing off there delayed delivery by up
  to the 5 s cap after the load, and through a stall the backoff grew as if the
  database were down.
- A token the server no longer has (MongoDB: ``ChangeStreamHistoryLost``) and an
  ``invalidate`` (the collection dropped or renamed) cannot be resumed from: the
  subscribers are told (a ``Gap``) and the stream starts again from now.
- ``fullDocument`` is not asked for (the embedded server's is JSON text decoded, so
  dates and ids are not BSON types there): the document is read once per event.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import inspect
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import bson
from pymongo.errors import OperationFailure, PyMongoError

from gateway.change_feed_items import UNREAD, Change, ChangeKind, Converter, Item
from gateway.db import Collection, parse_oid
from gateway.observability import command_source

__all__ = ["ChangeReader", "StreamFollower", "event_id_of"]

log = logging.getLogger("gateway.live")

_KINDS: dict[str, ChangeKind] = {
    "insert": "created",
    "update": "updated",
    "replace": "updated",
    "delete": "deleted",
}
# MongoDB's codes for a change stream that cannot go on from its token.
_HISTORY_LOST = frozenset({280, 286})  # ChangeStreamFatalError, ChangeStreamHistoryLost
# How long MongoDB's getMore waits for a change before answering empty (at most: half
# the operation deadline, GATEWAY_MONGO_TIMEOUT_MS, so that an idle wait is no timeout).
_MAX_AWAIT_MS = 1000
_FIRST_BACKOFF = 0.1
_MAX_BACKOFF = 5.0


def event_id_of(token: Mapping[str, Any]) -> str:
    """An event's id: its resume token, BSON in unpadded base64url (URL- and SSE-safe)."""
    return base64.urlsafe_b64encode(bson.encode(token)).rstrip(b"=").decode("ascii")


class ChangeReader:
    """Turns one collection's raw change events into the feed's items."""

    def __init__(
        self,
        collection: Collection,
        converter: Converter,
        publish: Callable[[str, Item], None],
        lost: Callable[[str, str], None],
        subscribed: Callable[[str], bool],
    ) -> None:
        self.collection = collection
        self.name: str = collection.name
        self._converter = converter
        self._publish = publish
        self.lost = lost
        self._subscribed = subscribed

    async def handle(self, event: Mapping[str, Any]) -> None:
        """Publish ``event``, reading its document as it is now if anybody subscribed to
        the collection (else ``UNREAD``: a bulk write nobody follows costs no reads; the
        check and the publication are one step then, so no subscriber comes between).

        Raises:
            PyMongoError: the document could not be read; the event is read again
                after the stream resumes.
        """
        operation = event.get("operationType")
        kind = _KINDS.get(operation) if isinstance(operation, str) else None
        if kind is None:
            if operation == "invalidate":
                self.lost(self.name, f"the {self.name} collection was dropped or renamed")
            return  # drop, rename, dropDatabase: an invalidate follows
        key = event["documentKey"]["_id"]
        document = None
        if kind != "deleted":
            document = await self._current(key) if self._subscribed(self.name) else UNREAD
        change = Change(event_id_of(event["_id"]), self.name, kind, str(key), document)
        self._publish(self.name, change)

    async def read(self, change: Change) -> Change:
        """``change`` with its ``UNREAD`` document read as it is now.

        Raises:
            PyMongoError: the document could not be read.
        """
        key = parse_oid(change.document_id) or change.document_id  # ObjectIds, in practice
        return dataclasses.replace(change, document=await self._current(key))

    async def _current(self, key: Any) -> Any:
        stored = await self.collection.find_one({"_id": key})
        if stored is None:
            return None  # deleted since
        try:
            return self._converter(stored)
        except Exception:  # a record the models refuse must not stop the stream
            log.exception("could not read changed %s %s", self.name, key)
            return None


class StreamFollower:
    """Keeps one change stream open for as long as it runs, resuming where it stopped."""

    def __init__(self, reader: ChangeReader, poll_interval: float, operation_ms: int) -> None:
        self._reader = reader
        self._poll_interval = poll_interval
        self._max_await_ms = max(1, min(_MAX_AWAIT_MS, operation_ms // 2))
        # A timeout after less than this came back fast (CSOT refuses at once an operation
        # whose remaining time is under the round trip): it is backed off, not repeated.
        self._waited_s = operation_ms / 2000
        self.resume_token: Mapping[str, Any] | None = None
        self.open = False
        self._stopping = asyncio.Event()
        self._woken = asyncio.Event()  # set by ``wake`` and ``stop``

    def stop(self) -> None:
        """Ask ``run`` to close the stream and return (within a getMore's wait)."""
        self._stopping.set()
        self._woken.set()

    def wake(self) -> None:
        """Poll at once rather than after the poll interval (the collection was written)."""
        self._woken.set()

    async def _pause(self, seconds: float, until: asyncio.Event | None = None) -> None:
        """Sleep ``seconds``, or less when ``until`` is set (by default: asked to stop)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for((until or self._stopping).wait(), seconds)

    async def run(self) -> None:
        """Follow the stream until stopped (in a task of its own: its database commands
        are counted as the feed's, ``command_source`` "live", not the app's)."""
        command_source.set("live")
        backoff = _FIRST_BACKOFF
        failing = False
        name = self._reader.name
        while not self._stopping.is_set():
            attempt = time.monotonic()
            try:
                async with await self._watch() as stream:
                    self.open = True
                    if failing:
                        log.warning("change stream on %s resumed", name)
                        failing = False
                    backoff = _FIRST_BACKOFF
                    await self._follow(stream)
                continue  # invalidated: start again from now
            except PyMongoError as exc:
                if isinstance(exc, OperationFailure) and exc.code in _HISTORY_LOST:
                    log.warning("change stream on %s cannot resume (%s)", name, exc)
                    self.resume_token = None
                    self._reader.lost(name, "the database no longer holds the missed changes")
                else:
                    failing = self._report(failing, exc)
                    if exc.timeout and time.monotonic() - attempt >= self._waited_s:
                        continue  # the deadline was waited out: no pause, backoff unchanged
            except Exception:  # a bug must not end live data for the process
                log.exception("change stream on %s failed", name)
            finally:
                self.open = False
            await self._pause(backoff)
            backoff = min(backoff * 2, _MAX_BACKOFF)

    async def _watch(self) -> Any:
        stream = self._reader.collection.watch(
            resume_after=self.resume_token, max_await_time_ms=self._max_await_ms
        )
        # PyMongo's async API opens it on await; Motor's (opt-in) opens it lazily.
        return await stream if inspect.isawaitable(stream) else stream

    async def _follow(self, stream: Any) -> None:
        while stream.alive and not self._stopping.is_set():
            event = await stream.try_next()
            if event is None:
                if stream.resume_token is not None:
                    self.resume_token = stream.resume_token
                # Cleared after the wait, never before: a write acknowledged while the
                # getMore was under way has woken it already, and is read next.
                await self._pause(self._poll_interval, self._woken)
                self._woken.clear()
                continue
            await self._reader.handle(event)
            if event.get("operationType") == "invalidate":
                self.resume_token = None
            else:
                self.resume_token = event["_id"]

    def _report(self, failing: bool, exc: Exception) -> bool:
        """Log a stream error once per episode (until the stream opens again)."""
        if not failing:
            log.warning("change stream on %s failed (%s); reconnecting", self._reader.name, exc)
        return True
