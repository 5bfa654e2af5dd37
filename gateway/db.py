"""The database connection and the few helpers that keep queries portable.

Every query shape used by the services is standard MongoDB; the helpers here
exist where the embedded server (nx-27017 0.8.1) differs, so each difference
is handled once:

* references between records (``authorId``, ``userId``, ``ownerId``, GridFS
  ``files_id``) are stored as 24-hex strings, because the embedded server
  finds nothing on an equality match of a non-``_id`` ObjectId field and
  refuses ObjectIds inside aggregation ``$match``;
* counting with a filter goes through ``count`` (``$match`` + ``$count``),
  not ``count_documents``, which the embedded server evaluates slowly;
* ``aggregate`` results may carry ``_id`` as a string (``$facet`` does):
  services read an ``_id`` out of an aggregation only through ``str()``;
* ``$in`` on a field other than ``_id`` is evaluated by scanning the whole
  collection, index or not (5.5 ms for 20 authors' posts among 5,000), while
  an aggregation ``$match`` on one value is quick: the records of many
  parents load through ``per_key`` (one ``$unionWith`` branch per parent,
  3.4 ms there), which on a real MongoDB is an index range scan per parent
  and also bounds what each parent reads;
* a ``find`` filtered on a field tests each document in turn, which a large
  ``skip`` makes slow: ``find_page`` asks offset pages as an aggregation;
* a datetime written by an update operator (``$set``, ``$setOnInsert``) is
  stored as a string; ``stamped`` sets ``updatedAt`` with the standard
  ``$currentDate`` instead, and datetimes are otherwise only ever inserted;
* the emulated GridFS collections return ``uploadDate`` as a naive ISO
  string: read dates from them with ``as_utc``;
* range queries on dates (and on ``_id``) are evaluated document by document,
  a hundred times slower than on numbers: records listed by creation time also
  keep it as epoch milliseconds (``createdMs``, see ``created_ms``) to sort on;
* an index whose key includes ``_id`` makes every later insert fail, so the
  sort indexes get their ``_id`` tie-breaker only on a real MongoDB
  (``ensure_indexes`` asks the server which it is).
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import pymongo
from bson import ObjectId
from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from gateway.config import Settings
from gateway.errors import NotFound

__all__ = [
    "INDEX_TIMEOUT_S",
    "Collection",
    "Database",
    "PerKey",
    "aggregate",
    "as_utc",
    "build_client",
    "count",
    "created_ms",
    "ensure_indexes",
    "find_one",
    "find_page",
    "id_filter",
    "is_embedded",
    "parse_oid",
    "per_key",
    "stamped",
    "utcnow",
]

Document = dict[str, Any]
Database = AsyncDatabase[Document]
Collection = AsyncCollection[Document]

# The deadline of index creation (``ensure_indexes``), in place of the per-query one.
INDEX_TIMEOUT_S = 600.0


def build_client(uri: str, settings: Settings, listeners: Sequence[Any] = ()) -> Any:
    """Build the database client: PyMongo's async API, or Motor when configured.

    Both expose the same collection methods the services use; ``aggregate``
    below smooths over the one call whose shape differs.

    Every operation gets ``GATEWAY_MONGO_TIMEOUT_MS`` as its deadline
    (``timeoutMS``, the driver's client-side operation timeout): server
    selection, waiting for a pooled connection, the round trip and any retry
    all come out of that one budget, and commands carry the rest of it as
    ``maxTimeMS``. Without it a command sent to a server that accepted it and
    then went silent (a stopped process, a dead peer behind a live socket)
    waited on its socket with no timeout at all, until the driver's monitor,
    on its next heartbeat (every 10 s), found the server gone and cancelled
    the pool's operations: the first requests of a stall took up to 10 s plus
    two monitor timeouts. ``socketTimeoutMS`` and ``waitQueueTimeoutMS`` are
    superseded by ``timeoutMS`` and left unset. A deadline bounds one
    operation, not a request: GridFS is read a window of chunks per query and
    written a chunk per insert, so a long transfer is many bounded operations.
    """
    options: dict[str, Any] = {
        "tz_aware": True,
        "timeoutMS": settings.mongo_timeout_ms,
        "serverSelectionTimeoutMS": settings.mongo_timeout_ms,
        "connectTimeoutMS": settings.mongo_timeout_ms,
        "appname": "gateway",
        "event_listeners": list(listeners),
    }
    if settings.mongo_driver == "motor":
        from motor.motor_asyncio import AsyncIOMotorClient

        return AsyncIOMotorClient(uri, **options)
    return AsyncMongoClient(uri, **options)


async def close_client(client: Any) -> None:
    """Close either driver's client (Motor's ``close`` is synchronous)."""
    result = client.close()
    if inspect.isawaitable(result):
        await result


async def aggregate(
    collection: Collection, pipeline: list[Document], batch_size: int | None = None
) -> list[Document]:
    """Run an aggregation and return all of its (small) output.

    ``batch_size`` sizes the first batch, so that an output of known size comes
    back in one round trip, as one command (see ``find_page``).
    """
    cursor_options = {} if batch_size is None else {"batchSize": batch_size}
    command = {"aggregate": collection.name, "pipeline": pipeline, "cursor": cursor_options}
    return await _first_batch(collection, command, lambda: _aggregate_cursor(collection, pipeline))


async def _aggregate_cursor(collection: Collection, pipeline: list[Document]) -> list[Document]:
    """The whole output of an aggregation, read through the driver's cursor."""
    cursor: Any = collection.aggregate(pipeline)
    if inspect.isawaitable(cursor):  # PyMongo async; Motor returns the cursor directly
        cursor = await cursor
    result: list[Document] = await cursor.to_list(None)
    return result


async def find_one(collection: Collection, query: Document) -> Document | None:
    """``find_one(query)``, sent as one ``find`` command (see ``find_page``)."""
    command = {"find": collection.name, "filter": query, "limit": 1, "singleBatch": True}
    batch = await _first_batch(collection, command)
    return batch[0] if batch else None


async def find_page(
    collection: Collection,
    query: Document,
    sort: Sequence[tuple[str, int]],
    limit: int,
    skip: int = 0,
) -> list[Document]:
    """``find(query).sort(sort).skip(skip).limit(limit)``, sent as one command.

    A page is bounded, so its answer comes in one batch (``batchSize`` is the
    limit) and the driver's cursor object, with its getMore bookkeeping, buys
    nothing; skipping it saved about 8% of the gateway's CPU on a GraphQL page
    (``make bench``).

    With a ``skip`` and a filter (offset pages of a category) the page is asked as
    the aggregation ``$match``, ``$sort``, ``$skip``, ``$limit``, the same index
    walk on a real MongoDB: the embedded server tests each skipped document of a
    filtered ``find`` one by one (page 50 of a category: 11 ms of its CPU, against
    1 ms). Offset pages filter on plain values only, never on ObjectIds, which the
    embedded server's ``$match`` refuses. Without a filter, ``find`` skips as
    cheaply and costs the embedded server less than the aggregation (0.78 against
    1.0 ms of its CPU a page, 10,000 products).
    """
    order = dict(sort)  # dicts keep their order, which the server reads
    if skip and query:
        pipeline: list[Document] = [
            {"$match": query},
            *([{"$sort": order}] if order else []),
            {"$skip": skip},
            {"$limit": limit},
        ]
        return await aggregate(collection, pipeline, batch_size=limit)

    async def read_with_cursor() -> list[Document]:
        cursor = collection.find(query).sort(list(sort)).skip(skip).limit(limit)
        found: list[Document] = await cursor.to_list(None)
        return found

    command: Document = {
        "find": collection.name,
        "filter": query,
        "sort": order,
        **({"skip": skip} if skip else {}),
        "limit": limit,
        "batchSize": limit,
    }
    return await _first_batch(collection, command, read_with_cursor)


async def _first_batch(
    collection: Collection,
    command: Document,
    read_with_cursor: Callable[[], Awaitable[list[Document]]] | None = None,
) -> list[Document]:
    """The answer of a read ``command`` sized to come back in its first batch.

    Should a real MongoDB still leave a cursor open (an answer over its
    16 MiB batch cap), the cursor is closed and the answer read again with
    ``read_with_cursor``; a ``singleBatch`` command, which leaves none, has none.
    """
    database = collection.database
    reply = await database.command(command, codec_options=collection.codec_options)
    cursor = reply["cursor"]
    if cursor["id"] and read_with_cursor is not None:
        await database.command({"killCursors": collection.name, "cursors": [cursor["id"]]})
        return await read_with_cursor()
    batch: list[Document] = cursor["firstBatch"]
    return batch


@dataclass(frozen=True)
class PerKey:
    """Which documents ``per_key`` reads for each key: those of ``collection``
    whose ``field`` equals it, through ``stages`` (a ``$sort`` and a ``$limit``
    of at most ``most_per_key``)."""

    collection: Collection
    field: str
    stages: Sequence[Document] = ()
    most_per_key: int = 1


async def per_key(keys: Sequence[str], *lookups: PerKey) -> list[list[Document]]:
    """Each lookup's documents for ``keys``, key by key, all in one round trip.

    Every key of every lookup is one ``$unionWith`` branch, in place of
    ``{field: {"$in": keys}}`` (see the module's notes). Several lookups share
    the command when they are in one database and each matches on a field
    that the other lookups' documents do not have (posts by ``authorId``,
    profiles by ``userId``): the field tells which lookup found a document.
    Tagging the branches instead (``$addFields``) costs the embedded server
    0.4 ms per query.
    """
    keys = list(dict.fromkeys(keys))  # a key asked twice is read once
    if not keys or not lookups:
        return [[] for _ in lookups]
    branches = [
        (lookup.collection.name, [{"$match": {lookup.field: key}}, *lookup.stages])
        for lookup in lookups
        for key in keys
    ]
    pipeline = branches[0][1] + [
        {"$unionWith": {"coll": name, "pipeline": branch}} for name, branch in branches[1:]
    ]
    most = len(keys) * sum(lookup.most_per_key for lookup in lookups)
    docs = await aggregate(lookups[0].collection, pipeline, batch_size=most)
    if len(lookups) == 1:
        return [docs]
    found: list[list[Document]] = [[] for _ in lookups]
    fields = [(lookup.field, into) for lookup, into in zip(lookups, found, strict=True)]
    for doc in docs:
        for field, into in fields:
            if field in doc:
                into.append(doc)
                break
    return found


async def count(collection: Collection, query: Document) -> int:
    """Count the documents matching ``query`` with ``$match`` + ``$count``."""
    pipeline: list[Document] = [{"$match": query}] if query else []
    rows = await aggregate(collection, [*pipeline, {"$count": "n"}])
    return int(rows[0]["n"]) if rows else 0


def parse_oid(value: str) -> ObjectId | None:
    """Parse a 24-hex id; ``None`` when malformed."""
    if isinstance(value, str) and len(value) == 24 and ObjectId.is_valid(value):
        return ObjectId(value)
    return None


def id_filter(value: str, what: str) -> Document:
    """The ``_id`` filter for a client-supplied id.

    Raises:
        NotFound: the id is malformed (the contract treats it as naming nothing).
    """
    oid = parse_oid(value)
    if oid is None:
        raise NotFound(f"{what} not found")
    return {"_id": oid}


async def is_embedded(db: Database) -> bool:
    """Whether the server is the embedded nx-27017 (it says so in ``buildInfo``)."""
    info = await db.command("buildInfo")
    return bool(info.get("process") == "nx_27017")


async def ensure_indexes(db: Database) -> None:
    """Create the indexes the services rely on (idempotent).

    Building a new index on a large collection takes longer than a query may:
    these run under ``INDEX_TIMEOUT_S`` instead of the client's deadline.
    """
    with pymongo.timeout(INDEX_TIMEOUT_S):
        await _ensure_indexes(db)


async def _ensure_indexes(db: Database) -> None:
    tiebreak = [] if await is_embedded(db) else [("_id", ASCENDING)]
    await db["users"].create_indexes(
        [
            IndexModel([("email", ASCENDING)], unique=True),
            IndexModel([("createdMs", ASCENDING), *tiebreak]),
        ]
    )
    await db["products"].create_indexes(
        [IndexModel([(field, ASCENDING), *tiebreak]) for field in ("createdMs", "price", "name")]
        + [IndexModel([("category", ASCENDING), ("createdMs", ASCENDING), *tiebreak])]
    )
    # An author's newest posts (``PostService.newest_by_author``) in the order of their
    # sort, tie-breaker included, so that a real MongoDB reads them off the index
    # without sorting them in memory.
    newest_first = [("_id", DESCENDING)] if tiebreak else []
    await db["posts"].create_indexes(
        [IndexModel([("authorId", ASCENDING), ("createdAt", DESCENDING), *newest_first])]
    )
    await db["profiles"].create_indexes([IndexModel([("userId", ASCENDING)], unique=True)])
    await db["fs.files"].create_indexes(
        [
            IndexModel([("filename", ASCENDING)], unique=True),
            IndexModel([("metadata.ownerId", ASCENDING)]),
        ]
    )
    await db["fs.chunks"].create_indexes(
        [IndexModel([("files_id", ASCENDING), ("n", ASCENDING)], unique=True)]
    )
    # The sweeper's question: unfinished claims idle since before a cutoff.
    await db["file_paths"].create_indexes(
        [IndexModel([("state", ASCENDING), ("aliveMs", ASCENDING)])]
    )
    await db["file_purges"].create_indexes([IndexModel([("dueMs", ASCENDING)])])
    await db["contact_messages"].create_indexes([IndexModel([("createdAt", DESCENDING)])])
    await _version_unversioned(db)


async def _version_unversioned(db: Database) -> None:
    """Give the users and products stored before records had versions their first one.

    Idempotent, and safe with several processes starting at once: each sets the same
    value on the records that still lack it.
    """
    for name in ("users", "products"):
        await db[name].update_many({"version": {"$exists": False}}, {"$set": {"version": 1}})


def as_utc(value: datetime | str) -> datetime:
    """A stored date as an aware UTC datetime, whether the server gave a date or a string."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def stamped(update: Document) -> Document:
    """``update`` that also raises the record's ``version`` by one and sets ``updatedAt``
    to the server's time, in the same write (a record without a ``version`` yet gets 1)."""
    return {
        **update,
        "$inc": {**update.get("$inc", {}), "version": 1},
        "$currentDate": {"updatedAt": True},
    }


def created_ms(when: datetime) -> int:
    """``when`` as epoch milliseconds: the sort key of records listed by creation time."""
    return int(when.timestamp() * 1000)


def utcnow() -> datetime:
    """Now in UTC, cut to the millisecond BSON keeps, so a record reads back as written."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)
