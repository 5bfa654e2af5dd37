"""Rate limits: fixed-window counters, in memory for one process, in Redis for many, or
in the database for the workers of ``gateway serve --workers`` without Redis.

A rule allows ``limit`` hits per ``window`` seconds for one key (a client
address, an email). Services call ``hit`` before doing the guarded work, so
REST and GraphQL (every alias of a batched login included) count alike.
"""

from __future__ import annotations

import contextlib
import logging
import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError, PyMongoError

from gateway.config import Settings
from gateway.errors import RateLimited

__all__ = [
    "DatabaseLimiter",
    "Limits",
    "MemoryLimiter",
    "RateLimiter",
    "RedisLimiter",
    "Rule",
    "Rules",
    "build_limiter",
    "hit",
]

log = logging.getLogger("gateway.ratelimit")

_MAX_KEYS = 100_000  # memory bound: past this, expired windows are swept


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    limit: int
    window: int

    @classmethod
    def parse(cls, name: str, spec: str) -> Rule | None:
        """``"10/60"`` → 10 per 60 s; ``"off"`` → no rule."""
        if spec == "off":
            return None
        limit, window = spec.split("/")
        return cls(name, int(limit), int(window))


@dataclass(frozen=True, slots=True)
class Rules:
    login_ip: Rule | None
    login_email: Rule | None
    signup_ip: Rule | None
    contact_ip: Rule | None
    graphql_ip: Rule | None

    @classmethod
    def from_settings(cls, settings: Settings) -> Rules:
        return cls(
            login_ip=Rule.parse("login-ip", settings.rate_login_ip),
            login_email=Rule.parse("login-email", settings.rate_login_email),
            signup_ip=Rule.parse("signup-ip", settings.rate_signup_ip),
            contact_ip=Rule.parse("contact-ip", settings.rate_contact_ip),
            graphql_ip=Rule.parse("graphql-ip", settings.rate_graphql_ip),
        )


class RateLimiter(Protocol):
    async def count(self, rule: Rule, key: str, now: float, points: int = 1) -> int:
        """Add ``points`` to the current window of ``rule`` for ``key``; return its total."""

    async def close(self) -> None: ...


async def hit(limiter: RateLimiter, rule: Rule | None, key: str | None) -> None:
    """Count one hit; raise when it takes the total over the rule's limit.

    Raises:
        RateLimited: with the seconds until the window ends as ``retry_after``.
    """
    if rule is None or key is None:
        return
    now = time.time()
    if await limiter.count(rule, key, now) > rule.limit:
        retry_after = max(1, math.ceil(rule.window - now % rule.window))
        raise RateLimited("Too many requests, try again later", retry_after=retry_after)


class MemoryLimiter:
    """Counters in this process: per rule and key, the current window and its count."""

    def __init__(self) -> None:
        self._windows: dict[tuple[str, str], tuple[int, int, float]] = {}

    async def count(self, rule: Rule, key: str, now: float, points: int = 1) -> int:
        window = int(now // rule.window)
        slot = (rule.name, key)
        current = self._windows.get(slot)
        total = current[1] + points if current is not None and current[0] == window else points
        if current is None and len(self._windows) >= _MAX_KEYS:
            self._sweep(now)
        self._windows[slot] = (window, total, (window + 1) * rule.window)
        return total

    def _sweep(self, now: float) -> None:
        self._windows = {slot: w for slot, w in self._windows.items() if w[2] > now}
        if len(self._windows) >= _MAX_KEYS:  # all still live: forget the older half
            self._windows = dict(list(self._windows.items())[_MAX_KEYS // 2 :])

    async def close(self) -> None:
        self._windows.clear()


class RedisLimiter:
    """Counters in Redis, shared by every gateway process that points at it."""

    def __init__(self, url: str) -> None:
        from redis.asyncio import Redis

        self._redis: Any = Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)

    async def count(self, rule: Rule, key: str, now: float, points: int = 1) -> int:
        from redis.exceptions import RedisError

        window = int(now // rule.window)
        name = f"gateway:rate:{rule.name}:{key}:{window}"
        try:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.incrby(name, points)
                pipe.expire(name, rule.window + 1)
                total, _ = await pipe.execute()
        except RedisError as exc:
            # Fail open: an outage of the counters must not take logins down with it.
            log.warning("rate-limit counters unavailable (%s); not limiting", exc)
            return 0
        return int(total)

    async def close(self) -> None:
        await self._redis.aclose()


class DatabaseLimiter:
    """Counters in the database, one document per rule, key and window: shared by every
    worker of ``gateway serve --workers`` (or any process on that database).

    A window's first hits from two processes may race to insert its document: MongoDB
    then raises a duplicate key error and the embedded server answers null (DESIGN.md);
    either way the loser tries again, finding the document this time. Past windows are
    deleted now and then (no TTL index: the embedded server does not expire documents).
    """

    _ATTEMPTS = 3
    _SWEEP_SECONDS = 60.0

    def __init__(self, db: Any) -> None:
        self._windows = db["rate_limits"]
        self._next_sweep = 0.0

    async def count(self, rule: Rule, key: str, now: float, points: int = 1) -> int:
        window = int(now // rule.window)
        ends = datetime.fromtimestamp((window + 1) * rule.window, UTC)
        try:
            if now >= self._next_sweep:
                self._next_sweep = now + self._SWEEP_SECONDS
                await self._windows.delete_many(
                    {"ends": {"$lte": datetime.fromtimestamp(now, UTC)}}
                )
            for _ in range(self._ATTEMPTS):
                with contextlib.suppress(DuplicateKeyError):
                    document = await self._windows.find_one_and_update(
                        {"_id": f"{rule.name}:{window}:{key}"},
                        # $set, not $setOnInsert (the embedded server ignores that in an
                        # upsert): the same value for every hit of the window anyway.
                        {"$inc": {"hits": points}, "$set": {"ends": ends}},
                        upsert=True,
                        return_document=ReturnDocument.AFTER,
                    )
                    if document is not None:
                        return int(document["hits"])
        except PyMongoError as exc:
            log.warning("rate-limit counters unavailable (%s); not limiting", exc)
        return 0  # fail open, as with Redis

    async def close(self) -> None:
        """Nothing to do: the database client is the app's."""


def build_limiter(settings: Settings, db: Any) -> RateLimiter:
    """Redis when configured; else the database ``db`` for many workers; else memory."""
    if settings.redis_url:
        return RedisLimiter(settings.redis_url)
    if settings.workers > 1:
        return DatabaseLimiter(db)
    return MemoryLimiter()


class Limits:
    """The gateway's rate-limit rules over one limiter; a ``None`` key is not limited
    (calls from the CLI or other trusted code carry no client address)."""

    def __init__(self, limiter: RateLimiter, rules: Rules) -> None:
        self._limiter = limiter
        self._rules = rules

    async def login(self, client: str | None, email: str) -> None:
        """Raises: RateLimited: too many logins from ``client`` or for ``email``."""
        await hit(self._limiter, self._rules.login_ip, client)
        await hit(self._limiter, self._rules.login_email, email if client else None)

    async def signup(self, client: str | None) -> None:
        """Raises: RateLimited."""
        await hit(self._limiter, self._rules.signup_ip, client)

    async def contact(self, client: str | None) -> None:
        """Raises: RateLimited."""
        await hit(self._limiter, self._rules.contact_ip, client)

    async def graphql(self, client: str | None) -> None:
        """One point for a GraphQL request, before it is read.

        Raises:
            RateLimited: ``client`` has spent the points of the window.
        """
        await hit(self._limiter, self._rules.graphql_ip, client)

    async def graphql_spent(self, client: str | None, points: int) -> None:
        """The rest of an operation's cost, once it has run: counted, never refused, so
        that the client's next requests are refused sooner (GitHub's way with points)."""
        rule = self._rules.graphql_ip
        if rule is not None and client is not None:
            await self._limiter.count(rule, client, time.time(), points)
