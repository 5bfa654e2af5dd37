"""Persisted queries: Apollo's APQ protocol and an allow-list mode, free of any framework.

A client may send ``extensions.persistedQuery.sha256Hash`` instead of the query
text, so a large document crosses the network once and a GET URL stays short.
The first hash-only request is answered ``PersistedQueryNotFound``; the client
then sends text and hash together, the text is checked against the hash and
kept. Texts live in a store bounded in bytes: an LRU in this process, or Redis
with a TTL when ``redis_url`` is set (shared by every gateway process, failing
open to a miss when Redis is down, like the rate limits).

In allow-list mode only the documents listed in a file are run, whether sent
as text or as hash; the store is then not used, so no client can add one.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

from gateway.config import MIB, Settings, SettingsError
from gateway.errors import GatewayError, ValidationFailed

__all__ = [
    "Allowlist",
    "MemoryPersistedQueries",
    "PersistedQueries",
    "PersistedQueryNotFound",
    "RedisPersistedQueries",
    "build_persisted_store",
    "persisted_hash",
    "resolve",
    "sha256_hex",
]

log = logging.getLogger("gateway.persisted")

MAX_ENTRY_BYTES = 64 * 1024  # a longer document is run but not kept
MEMORY_BUDGET = 4 * MIB
REDIS_TTL = 24 * 3600
MANIFEST_FORMAT = "apollo-persisted-query-manifest"

_HASH = re.compile(r"[0-9a-f]{64}")


class PersistedQueryNotFound(GatewayError):
    """The hash is unknown here; Apollo clients match the message or the code and
    resend the request with its text."""

    # As Apollo Server answers: Apollo Client turns APQ off for good on a 400 or 500.
    status_code = 200
    code = "PERSISTED_QUERY_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("PersistedQueryNotFound")


def sha256_hex(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def persisted_hash(extensions: object) -> str | None:
    """The hash in Apollo's ``{"persistedQuery": {"version": 1, "sha256Hash": ...}}``.

    Returns ``None`` when ``extensions`` is absent or names no persisted query.

    Raises:
        ValidationFailed: ``extensions`` or its ``persistedQuery`` is malformed.
    """
    if extensions is None:
        return None
    if not isinstance(extensions, dict):
        raise ValidationFailed("Invalid extensions", ["extensions: must be an object"])
    if "persistedQuery" not in extensions:
        return None
    persisted = extensions["persistedQuery"]
    if not isinstance(persisted, dict):
        raise ValidationFailed(
            "Invalid persisted query", ["extensions.persistedQuery: must be an object"]
        )
    version = persisted.get("version")
    if type(version) is not int or version != 1:
        raise ValidationFailed(
            "Unsupported persisted query version", ["extensions.persistedQuery.version: must be 1"]
        )
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or not _HASH.fullmatch(digest):
        raise ValidationFailed(
            "Invalid persisted query hash",
            ["extensions.persistedQuery.sha256Hash: must be 64 lowercase hex digits"],
        )
    return digest


class PersistedQueries(Protocol):
    async def get(self, sha256: str) -> str | None:
        """The text stored under ``sha256``, or ``None``."""

    async def put(self, sha256: str, query: str) -> None:
        """Keep ``query`` under ``sha256`` (which the caller has checked), if it fits."""

    async def close(self) -> None: ...


class MemoryPersistedQueries:
    """Texts in this process: least recently used first out, at most ``max_bytes`` of UTF-8."""

    def __init__(self, max_bytes: int = MEMORY_BUDGET, max_entry_bytes: int = MAX_ENTRY_BYTES):
        self._max_bytes = max_bytes
        self._max_entry_bytes = max_entry_bytes
        self._texts: OrderedDict[str, tuple[str, int]] = OrderedDict()  # hash → text, bytes
        self._bytes = 0

    async def get(self, sha256: str) -> str | None:
        kept = self._texts.get(sha256)
        if kept is None:
            return None
        self._texts.move_to_end(sha256)
        return kept[0]

    async def put(self, sha256: str, query: str) -> None:
        if sha256 in self._texts:
            self._texts.move_to_end(sha256)
            return
        size = len(query.encode())
        if size > min(self._max_entry_bytes, self._max_bytes):
            return
        self._texts[sha256] = (query, size)
        self._bytes += size
        while self._bytes > self._max_bytes:
            _, (_, evicted) = self._texts.popitem(last=False)
            self._bytes -= evicted

    async def close(self) -> None:
        self._texts.clear()
        self._bytes = 0


class RedisPersistedQueries:
    """Texts in Redis under ``gateway:apq:<hash>``, each kept for ``ttl`` seconds."""

    def __init__(
        self, url: str, ttl: int = REDIS_TTL, max_entry_bytes: int = MAX_ENTRY_BYTES
    ) -> None:
        from redis.asyncio import Redis

        self._redis: Any = Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        self._ttl = ttl
        self._max_entry_bytes = max_entry_bytes

    async def get(self, sha256: str) -> str | None:
        from redis.exceptions import RedisError

        try:
            stored = await self._redis.get(f"gateway:apq:{sha256}")
        except RedisError as exc:
            # A miss: the client resends the text, and the request still runs.
            log.warning("persisted-query store unavailable (%s); treating as a miss", exc)
            return None
        return None if stored is None else bytes(stored).decode()

    async def put(self, sha256: str, query: str) -> None:
        from redis.exceptions import RedisError

        data = query.encode()
        if len(data) > self._max_entry_bytes:
            return
        try:
            await self._redis.set(f"gateway:apq:{sha256}", data, ex=self._ttl)
        except RedisError as exc:
            log.warning("persisted-query store unavailable (%s); not storing", exc)

    async def close(self) -> None:
        await self._redis.aclose()


def build_persisted_store(settings: Settings) -> PersistedQueries:
    if settings.redis_url:
        return RedisPersistedQueries(settings.redis_url)
    return MemoryPersistedQueries()


class Allowlist:
    """The only documents the gateway runs: hash → text, or hash → ``None`` when the
    file lists hashes only (the client then sends the text, admitted by its hash)."""

    def __init__(self, entries: Mapping[str, str | None]) -> None:
        self._entries = dict(entries)

    def allows(self, sha256: str) -> bool:
        return sha256 in self._entries

    def text(self, sha256: str) -> str | None:
        return self._entries.get(sha256)

    @classmethod
    def load(cls, path: str | Path) -> Allowlist:
        """Read an Apollo persisted-query manifest, a JSON object of hash → text
        (Relay's, with SHA-256 ids), or a text file of one hash per line
        (blank lines and ``#`` comments ignored).

        Raises:
            SettingsError: the file is unreadable or malformed; the message names
                the file and the faulty line or entry.
        """
        try:
            content = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise SettingsError(f"allow-list {path}: cannot be read ({exc})") from None
        if content.lstrip().startswith("{"):
            entries: dict[str, str | None] = dict(_json_entries(path, content))
        else:
            entries = dict.fromkeys(_hash_lines(path, content))
        if not entries:
            raise SettingsError(f"allow-list {path}: lists no operation")
        return cls(entries)


def _json_entries(path: str | Path, content: str) -> dict[str, str]:
    try:
        document = json.loads(content)
    except json.JSONDecodeError as exc:
        raise SettingsError(f"allow-list {path}: invalid JSON: {exc}") from None
    if "format" in document:
        if document["format"] != MANIFEST_FORMAT:
            raise SettingsError(f"allow-list {path}: 'format' must be {MANIFEST_FORMAT!r}")
        return _manifest_entries(path, document)
    entries: dict[str, str] = {}
    for key, body in document.items():
        _check_entry(path, f"entry {key!r}", key, body)
        entries[key] = body
    return entries


def _manifest_entries(path: str | Path, manifest: dict[str, Any]) -> dict[str, str]:
    if manifest.get("version") != 1:
        raise SettingsError(f"allow-list {path}: manifest version must be 1")
    operations = manifest.get("operations")
    if not isinstance(operations, list):
        raise SettingsError(f"allow-list {path}: manifest needs an 'operations' list")
    entries: dict[str, str] = {}
    for index, operation in enumerate(operations):
        where = f"operation {index}"
        if not isinstance(operation, dict):
            raise SettingsError(f"allow-list {path}: {where}: must be an object")
        where += f" ({operation.get('name')!r})"
        _check_entry(path, where, operation.get("id"), operation.get("body"))
        entries[operation["id"]] = operation["body"]
    return entries


def _check_entry(path: str | Path, where: str, digest: object, body: object) -> None:
    if not isinstance(body, str):
        raise SettingsError(f"allow-list {path}: {where}: the query text must be a string")
    if digest != sha256_hex(body):
        raise SettingsError(
            f"allow-list {path}: {where}: the id is not the SHA-256 of the query text"
        )


def _hash_lines(path: str | Path, content: str) -> list[str]:
    hashes = []
    for number, line in enumerate(content.splitlines(), start=1):
        digest = line.split("#", 1)[0].strip().lower()
        if not digest:
            continue
        if not _HASH.fullmatch(digest):
            raise SettingsError(f"allow-list {path}: line {number}: not a SHA-256 hex hash")
        hashes.append(digest)
    return hashes


async def resolve(
    store: PersistedQueries, allowlist: Allowlist | None, query: str | None, extensions: object
) -> str | None:
    """The document to run for a request's ``query`` and ``extensions``.

    Without a persisted-query hash, ``query`` is returned as it is; with only a
    hash, its stored text; with both, ``query`` once it matches the hash (it is
    then stored). With an allow-list, only listed documents pass, and texts come
    from the list, never from the store.

    Raises:
        ValidationFailed: a malformed ``persistedQuery``, a hash that does not
            match the text, or a document not in the allow-list.
        PersistedQueryNotFound: a hash without text that is not known here.
    """
    digest = persisted_hash(extensions)
    if digest is None:
        if query is not None and allowlist is not None:
            _admit(allowlist, sha256_hex(query))
        return query
    if not query:  # as Apollo Server: an empty text is no text
        if allowlist is not None:
            _admit(allowlist, digest)
            text = allowlist.text(digest)
        else:
            text = await store.get(digest)
        if text is None:
            raise PersistedQueryNotFound()
        return text
    if sha256_hex(query) != digest:
        raise ValidationFailed("provided sha does not match query")
    if allowlist is not None:
        _admit(allowlist, digest)
    else:
        await store.put(digest, query)
    return query


def _admit(allowlist: Allowlist, digest: str) -> None:
    if not allowlist.allows(digest):
        raise ValidationFailed("Operation not in the allow-list")
