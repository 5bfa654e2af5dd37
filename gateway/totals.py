"""Totals (counts) of a list kept between requests, exact after every acknowledged write.

Counting is most of a page's database work (the embedded server scans the
matching documents for ``$count``), and the total of a filter changes only
when the collection is written. So a count is kept per filter until a write:

- the service that writes calls ``invalidate()`` once each write has
  finished and before the client hears of it, so no client sees an
  acknowledged write missing from a total;
- a count is kept only if no invalidation happened while it ran (a
  generation counter read before the count is compared after it), so a count
  that raced a write is used once and never kept;
- requests that miss at once share one count that started after the last
  invalidation (a count already running under the same generation is as
  exact as a new one), instead of each sending their own;
- the workers of one ``gateway serve --workers N`` share a write counter
  (``share``, ``gateway.shared_generation``): a worker bumps it with each
  write, before the client hears of it, and the others compare it before
  using a kept total, so a write through one worker is never missing from
  another's totals;
- writes by other processes (other gateway instances, other clients) are
  seen only through an invalidation source such as the change feed: the
  cache is used only while ``trusted()`` says that source is live, and
  counts every time otherwise;
- kept counts expire after ``ttl`` seconds anyway, a backstop should an
  invalidation from elsewhere be missed. A ``ttl`` of 0 turns the cache off.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Hashable, Iterator
from typing import NamedTuple

from gateway.shared_generation import SharedGeneration

__all__ = ["TotalsCache", "never"]


def never() -> bool:
    """No invalidation source for other writers: the cache is off."""
    return False


class _Kept(NamedTuple):
    total: int
    expires: float


class TotalsCache:
    """Counts per key (a filter, for example) of one collection, forgotten on every write."""

    __slots__ = (
        "_clock",
        "_counting",
        "_generation",
        "_kept",
        "_outside",
        "_shared",
        "_trusted",
        "_ttl",
    )

    def __init__(
        self,
        ttl: float,
        trusted: Callable[[], bool] = never,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._trusted = trusted
        self._clock = clock
        self._generation = 0
        self._kept: dict[Hashable, _Kept] = {}
        self._counting: dict[Hashable, asyncio.Future[int]] = {}
        self._shared: SharedGeneration | None = None
        self._outside = 0  # the shared counter's value when last looked at

    def share(self, shared: SharedGeneration) -> None:
        """Forget totals when another process sharing ``shared`` writes (its workers),
        and tell them of this one's writes."""
        self._shared = shared
        self._outside = shared.value()
        self.forget()

    def trust(self, source: Callable[[], bool]) -> None:
        """Keep totals while ``source()`` says other writers' changes are heard (the change
        feed is live). Its events must call ``forget()``, and so must a reconnection
        that could not resume: changes made meanwhile were not heard."""
        self._trusted = source
        self.forget()

    @property
    def active(self) -> bool:
        """Whether totals are kept: a TTL is set and other writers' changes are heard."""
        return self._ttl > 0 and self._trusted()

    def invalidate(self) -> None:
        """Forget every total, here and in the processes sharing the write counter;
        counts running now are not kept. Call after each write of this process."""
        self.forget()
        if self._shared is not None:
            self._outside = self._shared.bump()

    def forget(self) -> None:
        """Forget every total in this process only; counts running now are not kept.
        For what every process hears for itself (a change feed's events)."""
        self._generation += 1
        self._kept.clear()
        self._counting.clear()

    def _catch_up(self) -> None:
        """Forget every total if a process sharing the write counter wrote since last seen
        (a count kept meanwhile is forgotten here too: it may have raced that write)."""
        if self._shared is not None:
            outside = self._shared.value()
            if outside != self._outside:
                self._outside = outside
                self.forget()

    @contextlib.contextmanager
    def writing(self) -> Iterator[None]:
        """Wrap a write: totals are forgotten when it ends, however it ends (a write
        that failed on the way back, a timeout say, may have been made)."""
        try:
            yield
        finally:
            self.invalidate()

    async def total(self, key: Hashable, count: Callable[[], Awaitable[int]]) -> int:
        """The total of ``key``: kept, or ``count()`` (kept if no write came meanwhile)."""
        if not self.active:
            self._kept.clear()  # kept before a lapse of trust: changes may have gone unheard
            return await count()
        self._catch_up()
        kept = self._kept.get(key)
        if kept is not None and kept.expires > self._clock():
            return kept.total
        # A count running already began after the last write (invalidate() forgets the
        # others), so it is as exact as a new one: requests missing at once share it.
        running = self._counting.get(key)
        if running is None:
            generation = self._generation
            running = self._counting[key] = asyncio.ensure_future(count())
            running.add_done_callback(lambda done: self._counted(key, generation, done))
        # Shielded: a caller that goes away does not cancel the count others wait for.
        return await asyncio.shield(running)

    def _counted(self, key: Hashable, generation: int, done: asyncio.Future[int]) -> None:
        failed = done.cancelled() or done.exception() is not None  # retrieved: no warning
        if generation != self._generation:
            return  # a write came while counting: the waiting requests use it, nobody keeps it
        self._counting.pop(key, None)
        if not failed and self._trusted():
            self._kept[key] = _Kept(done.result(), self._clock() + self._ttl)
