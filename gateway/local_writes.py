"""This process's own writes, heard from the driver, so the change feed reads them at once.

The embedded server answers a change stream's getMore at once, empty or not, so the
feed polls it (``GATEWAY_LIVE_POLL_INTERVAL``); polling often costs an idle process
CPU in both the gateway and the database. A write made by this process needs no poll
to be noticed: ``LocalWrites`` listens to the driver's commands and, when a write to
a collection succeeds, tells its callbacks the collection's name (``ChangeFeed.nudge``),
so a change made through this gateway reaches its subscribers without waiting for
the next poll, and the poll interval only bounds how late other writers are heard.
"""

from __future__ import annotations

from collections.abc import Callable

from pymongo import monitoring

__all__ = ["LocalWrites"]

# The commands that change documents (insert_many and bulk writes are these too).
_WRITES = frozenset({"insert", "update", "delete", "findAndModify"})
# Writes under way at once, at most: far more than a process's connection pool holds.
_MAX_PENDING = 10_000


class LocalWrites(monitoring.CommandListener):
    """Calls each callback with a collection's name when a write to it succeeds.

    Callbacks run where the driver publishes its events: on the event loop with
    PyMongo's async API, on a worker thread with Motor's; they must be cheap and
    safe to call from either (``ChangeFeed.nudge`` is).
    """

    def __init__(self) -> None:
        self._callbacks: list[Callable[[str], None]] = []
        # Writes under way, by (connection, request id): the collection they change.
        self._pending: dict[tuple[object, int], str] = {}

    def notify(self, callback: Callable[[str], None]) -> None:
        """Call ``callback(collection)`` after each successful write."""
        self._callbacks.append(callback)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name in _WRITES:
            target = event.command.get(event.command_name)
            if isinstance(target, str):
                if len(self._pending) >= _MAX_PENDING:
                    # Writes whose end was never published (a task cancelled mid-command):
                    # forgotten, at worst a nudge is missed and the next poll reads it.
                    self._pending.clear()
                self._pending[event.connection_id, event.request_id] = target

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._finished(event.connection_id, event.request_id)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        # A failed write may still have changed documents (a bulk write's first ones).
        self._finished(event.connection_id, event.request_id)

    def _finished(self, connection: object, request_id: int) -> None:
        collection = self._pending.pop((connection, request_id), None)
        if collection is not None:
            for callback in self._callbacks:
                callback(collection)
