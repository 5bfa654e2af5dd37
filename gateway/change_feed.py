"""Live data: the database's changes, read once per process and handed to every subscriber.

One change stream per watched collection per process (``change_feed_streams``), opened
when the app starts and shared by all subscribers: REST event streams and GraphQL
subscriptions never open streams of their own. Each change is turned into a ``Change``
carrying the document as it is now, read once (not once per subscriber; not at all
while nobody subscribes to the collection: a replay reads it later), kept in a
history ring of the last ``live_history`` items (for ``Last-Event-ID``), told to the
in-process listeners, then put on the bounded queue of each subscriber that wants it.

Everything after the database read runs synchronously on the event loop, so a new
subscription's replay of the history and its registration for live items happen in
one step: nothing is lost or repeated in between.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from types import TracebackType

from pymongo.errors import PyMongoError

from gateway.change_feed_items import (
    UNREAD,
    Change,
    ChangeKind,
    Converter,
    Gap,
    Item,
    ProductFilter,
)
from gateway.change_feed_streams import ChangeReader, StreamFollower
from gateway.config import Settings
from gateway.db import Database
from gateway.errors import NotFound, RateLimited
from gateway.observability import Metrics

__all__ = [
    "Change",
    "ChangeFeed",
    "ChangeKind",
    "Gap",
    "Item",
    "ProductFilter",
    "SlowConsumer",
    "Subscription",
]

log = logging.getLogger("gateway.live")

# Seconds a client refused for too many subscriptions is told to wait.
_CAP_RETRY_AFTER = 5
# Seconds the streams get to close when the feed stops (a getMore waits up to one).
_STOP_GRACE = 3.0
Listener = Callable[[Item], None]
# Which changes a subscriber wants, decided before they are queued (ProductFilter.matches).
Accept = Callable[[Change], bool]


class SlowConsumer(Exception):
    """Raised from a subscription's iteration when its bounded queue overflowed: the
    subscriber fell too far behind and was dropped (others keep receiving)."""


class Subscription:
    """Changes of some collections, in order: ``async with feed.subscribe(...) as sub:
    async for item in sub:`` yields ``Change | Gap``.

    Entering registers it (and replays the history after ``last_event_id``); leaving
    unregisters it. Iteration ends when the feed stops, and raises ``SlowConsumer``
    when more than ``live_queue_size`` items waited unread.
    """

    __slots__ = (
        "_accept",
        "_client",
        "_closed",
        "_dropped",
        "_feed",
        "_items",
        "_last_event_id",
        "_limit",
        "_registered",
        "_wake",
        "collections",
    )

    def __init__(
        self,
        feed: ChangeFeed,
        collections: frozenset[str],
        last_event_id: str | None,
        client: str | None,
        limit: int,
        accept: Accept | None = None,
    ) -> None:
        self._feed = feed
        self.collections = collections
        self._accept = accept
        self._last_event_id = last_event_id
        self._client = client
        self._limit = limit
        self._items: deque[Item] = deque()
        self._wake = asyncio.Event()
        self._dropped = False
        self._closed = False
        self._registered = False

    async def __aenter__(self) -> Subscription:
        self._feed._register(self, self._last_event_id, self._client)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._feed._unregister(self, self._client)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Item:
        item = await self.receive()
        assert item is not None  # no timeout, so an item or the end
        return item

    async def receive(self, wait: float | None = None) -> Item | None:
        """The next item, or None when ``wait`` seconds passed without one (a
        heartbeat is due).

        Raises:
            SlowConsumer: the queue overflowed; the subscription is dropped.
            StopAsyncIteration: the feed stopped.
        """
        while True:
            while not self._items:
                if self._dropped:
                    raise SlowConsumer("the subscriber fell behind and was dropped")
                if self._closed:
                    raise StopAsyncIteration
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), wait)
                except TimeoutError:
                    return None
            item = self._items.popleft()
            if isinstance(item, Change) and item.document is UNREAD:
                item = await self._feed._read(item)  # a replay of a change nobody followed
                if not self.wants(item):
                    continue
            return item

    def wants(self, item: Item) -> bool:
        """Whether ``item`` is for this subscriber (a ``Gap`` always is; so is an ``UNREAD``
        change until its document is read)."""
        if self._accept is None or isinstance(item, Gap) or item.document is UNREAD:
            return True
        return self._accept(item)

    def _offer(self, item: Item) -> bool:
        """Queue ``item`` if wanted; False (and nothing queued) when the queue is full."""
        if not self.wants(item):
            return True
        if len(self._items) >= self._limit:
            self._items.clear()  # nothing more is read: free it now
            self._dropped = True
            self._wake.set()
            return False
        self._items.append(item)
        self._wake.set()
        return True

    def _close(self) -> None:
        self._closed = True
        self._wake.set()


@dataclass(frozen=True, slots=True)
class _Entry:
    seq: int
    collection: str
    item: Item


class _History:
    """The last ``size`` items of every collection, in the order this process saw them."""

    def __init__(self, size: int) -> None:
        self._entries: deque[_Entry] = deque(maxlen=size)
        self._seq_of: dict[str, int] = {}
        self._next = itertools.count()

    def add(self, collection: str, item: Item) -> None:
        if self._entries.maxlen == 0:
            return
        if len(self._entries) == self._entries.maxlen:
            evicted = self._entries[0].item
            if isinstance(evicted, Change):
                self._seq_of.pop(evicted.event_id, None)
        entry = _Entry(next(self._next), collection, item)
        self._entries.append(entry)
        if isinstance(item, Change):
            self._seq_of[item.event_id] = entry.seq

    def after(self, event_id: str, collections: frozenset[str]) -> list[Item] | None:
        """The items of ``collections`` after ``event_id``; None if it is not kept."""
        seq = self._seq_of.get(event_id)
        if seq is None:
            return None
        start = seq - self._entries[0].seq + 1
        entries = itertools.islice(self._entries, start, None)
        return [entry.item for entry in entries if entry.collection in collections]


class ChangeFeed:
    """One change stream per watched collection per process, shared by every subscriber."""

    def __init__(
        self,
        db: Database,
        sources: Mapping[str, Converter],
        settings: Settings,
        metrics: Metrics | None = None,
    ) -> None:
        self._db = db
        self._sources = dict(sources)
        self._settings = settings
        self._metrics = metrics
        self._history = _History(settings.live_history)
        self._subscribers: dict[str, set[Subscription]] = {name: set() for name in sources}
        self._per_client: dict[str, int] = {}
        self._listeners: dict[str, list[Listener]] = {name: [] for name in sources}
        self._followers: dict[str, StreamFollower] = {}
        self._readers: dict[str, ChangeReader] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._draining = False
        # Where the streams run, for nudges from another thread (Motor's).
        self._loop: asyncio.AbstractEventLoop | None = None
        self._loop_thread: int | None = None

    @property
    def enabled(self) -> bool:
        """Whether live data is on (``GATEWAY_LIVE_DATA``)."""
        return self._settings.live_data

    @property
    def collections(self) -> frozenset[str]:
        return frozenset(self._sources)

    @property
    def live(self) -> bool:
        """The streams are open and following the database."""
        followers = self._followers.values()
        return bool(followers) and all(follower.open for follower in followers)

    @property
    def subscriber_count(self) -> int:
        return sum(self._per_client.values())

    def subscribe(
        self,
        collections: Collection[str],
        *,
        last_event_id: str | None = None,
        client: str | None = None,
        accept: Accept | None = None,
    ) -> Subscription:
        """A subscription to the changes of ``collections`` (enter it to start receiving).

        ``last_event_id``: the last event the subscriber has; the history after it is
        replayed first (a ``Gap`` first if it is not kept). ``client``: the caller's
        address, counted against ``live_max_per_client`` (REST and GraphQL together).
        ``accept``: which changes to queue; others are never queued, so they neither wake
        the subscriber nor count against its queue (a subscriber of one product is not
        dropped as slow for the changes of others).

        Raises:
            NotFound: live data is turned off.
            ValueError: no collection, or one that is not watched (a programming error).
            RateLimited: the client already holds ``live_max_per_client`` subscriptions.
        """
        if not self.enabled:
            raise NotFound("Live data is turned off on this server")
        wanted = frozenset(collections)
        unknown = wanted - self.collections
        if unknown or not wanted:
            raise ValueError(f"not watched: {sorted(unknown) or 'no collection'}")
        self._check_cap(client)
        limit = self._settings.live_queue_size
        return Subscription(self, wanted, last_event_id, client, limit, accept)

    def listen(self, collection: str, callback: Listener) -> None:
        """Call ``callback`` once per change of ``collection`` and once per ``Gap`` (changes
        that went unheard), synchronously, before subscribers get it (cache invalidation,
        token revocation); its exceptions are logged, not propagated."""
        self._listeners[collection].append(callback)

    def nudge(self, collection: str) -> None:
        """Read ``collection``'s stream now rather than at its next poll: this process
        wrote to it (``gateway.local_writes``). Safe to call from any thread."""
        loop = self._loop
        if loop is None or collection not in self._sources:
            return
        if threading.get_ident() == self._loop_thread:
            self._wake(collection)
        else:
            loop.call_soon_threadsafe(self._wake, collection)

    def _wake(self, collection: str) -> None:
        follower = self._followers.get(collection)
        if follower is not None:
            follower.wake()

    async def start(self) -> None:
        """Open the streams (in the background: a database away at start is retried)."""
        if not self.enabled or self._tasks:
            return
        self._draining = False
        self._loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        for name, converter in self._sources.items():
            reader = ChangeReader(
                self._db[name], converter, self._publish, self._lost, self._subscribed
            )
            self._readers[name] = reader
            follower = StreamFollower(
                reader, self._settings.live_poll_interval, self._settings.mongo_timeout_ms
            )
            self._followers[name] = follower
            self._tasks.append(asyncio.create_task(follower.run(), name=f"live-{name}"))

    async def stop(self) -> None:
        """Close the streams and end every subscription's iteration."""
        for follower in self._followers.values():
            follower.stop()
        if self._tasks:
            # Asked, a follower closes its stream after the getMore under way. A
            # cancelled one may never close it (a driver operation cut short).
            await asyncio.wait(self._tasks, timeout=_STOP_GRACE)
            for task in self._tasks:
                task.cancel()
            await asyncio.wait(self._tasks, timeout=_STOP_GRACE)
        self._tasks.clear()
        self._followers.clear()
        self.drain()

    def drain(self) -> None:
        """End every subscription's iteration now, and a later one's at once: the server
        is stopping (``gateway.server_stop``) and its live clients should hear the end
        rather than wait for it. The streams stay open until ``stop``."""
        self._draining = True
        for subscription in {sub for subs in self._subscribers.values() for sub in subs}:
            subscription._close()

    def _check_cap(self, client: str | None) -> None:
        if client is not None and self._per_client.get(client, 0) >= (
            self._settings.live_max_per_client
        ):
            raise RateLimited(
                "Too many live subscriptions from this address", retry_after=_CAP_RETRY_AFTER
            )

    def _register(self, sub: Subscription, last_event_id: str | None, client: str | None) -> None:
        self._check_cap(client)
        if last_event_id is not None:
            replay = self._history.after(last_event_id, sub.collections)
            if replay is None:
                sub._offer(Gap("the last event id is unknown or older than the history kept"))
            else:
                # May exceed the queue's size: read before live ones.
                sub._items.extend(item for item in replay if sub.wants(item))
        for name in sub.collections:
            self._subscribers[name].add(sub)
        sub._registered = True
        if self._draining:
            sub._close()
        key = client or ""
        self._per_client[key] = self._per_client.get(key, 0) + 1
        self._gauge()

    def _unregister(self, sub: Subscription, client: str | None) -> None:
        if not sub._registered:
            return  # never entered, or already left
        sub._registered = False
        for name in sub.collections:
            self._subscribers[name].discard(sub)
        key = client or ""
        left = self._per_client.get(key, 0) - 1
        if left > 0:
            self._per_client[key] = left
        else:
            self._per_client.pop(key, None)
        self._gauge()

    def _drop(self, sub: Subscription) -> None:
        """Take an overflowed subscription off the feed (its holder still leaves it)."""
        for name in sub.collections:
            self._subscribers[name].discard(sub)
        if self._metrics is not None:
            self._metrics.live_dropped.inc()
        log.warning("dropped a slow live-data subscriber (%s items queued)", sub._limit)

    def _publish(self, collection: str, item: Item) -> None:
        """Record ``item`` and hand it to listeners and subscribers (synchronously)."""
        self._history.add(collection, item)
        if isinstance(item, Change) and self._metrics is not None:
            self._metrics.count(self._metrics.live_events, collection, item.kind)
        for callback in self._listeners[collection]:
            try:
                callback(item)
            except Exception:
                log.exception("a live-data listener of %s failed", collection)
        for sub in list(self._subscribers[collection]):
            if not sub._offer(item):
                self._drop(sub)

    def _subscribed(self, collection: str) -> bool:
        return bool(self._subscribers[collection])

    async def _read(self, change: Change) -> Item:
        """An ``UNREAD`` change with its document; a ``Gap`` if it cannot be read now
        (the subscriber re-fetches rather than get a change without its document)."""
        try:
            return await self._readers[change.collection].read(change)
        except PyMongoError as exc:
            log.warning("could not read a replayed %s change (%s)", change.collection, exc)
            return Gap("a changed document could not be read")

    def _lost(self, collection: str, reason: str) -> None:
        self._publish(collection, Gap(reason))

    def _gauge(self) -> None:
        if self._metrics is not None:
            self._metrics.live_subscribers.set(self.subscriber_count)
