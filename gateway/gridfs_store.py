"""File storage: streaming GridFS, with a claim per path. It knows files, not policy.

Files are stored as standard GridFS (``fs.files`` + ``fs.chunks``, see
``gateway.documents.gridfs``), written and read here chunk by chunk so memory
stays flat whatever the file size. Reads go in bounded windows of chunk
numbers (``n`` ranges), because the embedded server ignores ``batchSize`` and
would otherwise return a whole file in one message.

The operations are the ones PyMongo's own GridFS uses (insert chunks then the
file document; find chunks by ``files_id`` and ``n``; delete chunks by
``files_id`` and the file document by ``_id``), because the embedded server
emulates GridFS collections and answers only those. Which file a path holds,
and whether it is finished, is kept beside GridFS in ``file_paths`` (see
``FileStore``), not in ``fs.files``. Which paths, types and sizes are allowed
is the file service's to say (``gateway.services.files``).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from gateway.db import Database, as_utc, utcnow
from gateway.documents import file_paths, file_purges, gridfs
from gateway.documents.file_paths import DELETING, READY, UPLOADING, new_claim
from gateway.documents.file_purges import new_purge
from gateway.documents.gridfs import CHUNK_SIZE, new_chunk, new_file
from gateway.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    PreconditionFailed,
    RequestTimeout,
)
from gateway.models import StoredFile

__all__ = ["PURGE_GRACE_MS", "SWEEP_BATCH", "FileStore", "StoredBytes"]

HEARTBEAT_S = 10.0  # how often a running upload refreshes its claim
SWEEP_BATCH = 100  # claims one sweep looks at, at most
CHANGED = "The file is not the version named: it was deleted or replaced since"
SWEPT = "Upload abandoned: it stalled past the sweeper's limit"
WINDOW = 4  # chunks per read query: ~1 MiB in flight at most
# How long a deleted file's bytes outlive it by default (GATEWAY_DELETED_FILE_GRACE),
# for downloads that began before the deletion (one still running then is cut short).
PURGE_GRACE_MS = 10 * 60 * 1000


def _stored(doc: dict[str, Any]) -> StoredFile:
    metadata = doc.get("metadata") or {}
    return StoredFile(
        path=doc["filename"],
        name=doc["filename"].rsplit("/", 1)[-1],
        size=int(doc["length"]),
        content_type=metadata.get("contentType", "application/octet-stream"),
        created_at=as_utc(doc["uploadDate"]),
        # The GridFS file's id: new on every upload, and a file is never changed in
        # place, so it names the bytes at the path until they are deleted.
        version=str(doc["_id"]),
    )


class StoredBytes:
    """A stored file's bytes, read a window of chunks at a time: iterated, the whole
    file; ``read(first, last)``, only the chunks that hold those bytes."""

    def __init__(self, chunks: Any, file_id: Any, size: int, chunk_size: int) -> None:
        self._chunks = chunks
        self._file_id = file_id
        self.size = size
        self._chunk_size = chunk_size

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self.read(0, self.size - 1)

    async def read(self, first: int, last: int) -> AsyncIterator[bytes]:
        """Bytes ``first`` to ``last`` inclusive (none when ``last < first``): chunks
        ``first // chunkSize`` to ``last // chunkSize``, the first and last trimmed."""
        if last < first:
            return
        size = self._chunk_size
        low, high = first // size, last // size
        for start in range(low, high + 1, WINDOW):
            stop = min(start + WINDOW, high + 1)
            window = self._chunks.find(
                {"files_id": self._file_id, "n": {"$gte": start, "$lt": stop}}
            ).sort("n", 1)
            expected = start
            for chunk in await window.to_list(None):
                if chunk["n"] != expected:
                    break
                data = bytes(chunk["data"])
                begin = first - expected * size if expected == low else 0
                end = last - expected * size + 1 if expected == high else len(data)
                expected += 1
                yield data[begin:end]
            if expected != stop:
                raise RuntimeError(f"GridFS file {self._file_id} is missing chunk {expected}")


class FileStore:
    """GridFS files, one per path, each path held by a claim.

    A claim is a document of ``file_paths`` whose ``_id`` is the path: inserting
    it is how an upload takes the path, because a duplicate ``_id`` is refused
    on every server, while a unique index on ``fs.files.filename`` is not
    enforced by the embedded server's GridFS emulation. The claim names the
    owner and the GridFS file id and says how far the file is:

    * ``uploading``: taken before the first byte is stored, so a losing
      upload stores nothing; its ``aliveMs`` is refreshed while bytes arrive;
    * ``ready``: set once the file document is written; only a ready claim
      is ever read, so an unfinished upload is never visible;
    * ``deleting``: a deletion (or a sweep) won the claim; it records the file
      for purging (``file_purges``), then removes the claim, freeing the path.
      The bytes stay for ``purge_grace_ms``, so that downloads that began
      before the deletion finish whole; then ``purge_due`` removes them.

    A claim left ``uploading`` or ``deleting`` by a crash, a lost client or a
    database outage stops being refreshed, and ``sweep`` removes it with its
    chunks. Each step that decides something is one conditional write, so
    several gateway processes can share the store. ``aliveMs`` is epoch
    milliseconds of the writing process's clock: a number, because the embedded
    server stores dates written by ``$set`` as strings and compares them slowly.
    """

    def __init__(self, db: Database, *, purge_grace_ms: int = PURGE_GRACE_MS) -> None:
        self._files = db[gridfs.FILES]
        self._chunks = db[gridfs.CHUNKS]
        self._claims = db[file_paths.COLLECTION]
        self._purges = db[file_purges.COLLECTION]
        self._purge_grace_ms = purge_grace_ms

    async def get(self, path: str) -> StoredFile:
        """Raises: NotFound: no file at ``path``."""
        return _stored(await self._file_doc(path))

    async def _ready_claim(self, path: str) -> dict[str, Any]:
        """The claim of the finished file at ``path``; one still uploading is not there yet.

        Raises:
            NotFound: no finished file at ``path``.
        """
        claim: dict[str, Any] | None = await self._claims.find_one({"_id": path, "state": READY})
        if claim is None:
            raise NotFound("File not found")
        return claim

    async def _file_doc(self, path: str) -> dict[str, Any]:
        """Raises: NotFound: no finished file at ``path``."""
        claim = await self._ready_claim(path)
        doc: dict[str, Any] | None = await self._files.find_one({"_id": claim["fileId"]})
        if doc is None:  # deleted since the claim was read
            raise NotFound("File not found")
        return doc

    async def save(
        self,
        path: str,
        chunks: AsyncIterator[bytes],
        *,
        content_type: str,
        owner_id: str,
        max_bytes: int,
    ) -> StoredFile:
        """Claim ``path``, stream ``chunks`` into GridFS, then mark the claim ready; all or nothing.

        Raises:
            Conflict: ``path`` is taken (a file, or another upload in progress).
            PayloadTooLarge: more than ``max_bytes``; what was written is removed.
            RequestTimeout: the upload went unrefreshed so long that it was swept.
        """
        file_id = str(ObjectId())
        claim = {"_id": path, "fileId": file_id}
        try:
            await self._claims.insert_one(
                new_claim(path, file_id, owner_id=owner_id, state=UPLOADING, alive_ms=_now_ms())
            )
        except DuplicateKeyError:
            raise Conflict("A file already exists at this path") from None
        try:
            size = await self._write_chunks(claim, chunks, max_bytes)
            doc = new_file(
                file_id=file_id,
                path=path,
                length=size,
                content_type=content_type,
                owner_id=owner_id,
                uploaded_at=utcnow(),
            )
            try:
                await self._files.insert_one(doc)
            except DuplicateKeyError:
                # A real MongoDB's unique filename index met a file stored without a claim.
                raise Conflict("A file already exists at this path") from None
            done = await self._claims.update_one(
                {**claim, "state": UPLOADING}, {"$set": {"state": READY}}
            )
            if done.matched_count == 0:
                raise RequestTimeout(SWEPT)
        except BaseException:
            # Too large, a client gone mid-upload, a cancelled request: leave nothing
            # behind. Should this fail too (the database is away), the claim stays
            # "uploading" and the sweeper removes it all later.
            await asyncio.shield(self._abandon(claim))
            raise
        return _stored(doc)

    async def _write_chunks(
        self, claim: dict[str, str], chunks: AsyncIterator[bytes], max_bytes: int
    ) -> int:
        """Store ``chunks`` as ``claim``'s GridFS chunks, refreshing the claim as they come."""
        file_id = claim["fileId"]
        buffer = bytearray()
        size = n = 0
        refreshed = time.monotonic()
        async for piece in chunks:
            size += len(piece)
            if size > max_bytes:
                raise PayloadTooLarge(f"File too large (limit {max_bytes} bytes)")
            buffer += piece
            while len(buffer) >= CHUNK_SIZE:
                await self._chunks.insert_one(new_chunk(file_id, n, bytes(buffer[:CHUNK_SIZE])))
                del buffer[:CHUNK_SIZE]
                n += 1
            if time.monotonic() - refreshed >= HEARTBEAT_S:
                await self._refresh(claim)
                refreshed = time.monotonic()
        if buffer or n == 0:
            await self._chunks.insert_one(new_chunk(file_id, n, bytes(buffer)))
        return size

    async def _refresh(self, claim: dict[str, str]) -> None:
        """Tell sweepers the upload is alive; fail it if one already took its claim."""
        alive = await self._claims.update_one(
            {**claim, "state": UPLOADING}, {"$set": {"aliveMs": _now_ms()}}
        )
        if alive.matched_count == 0:
            raise RequestTimeout(SWEPT)

    async def _abandon(self, claim: dict[str, str]) -> None:
        with contextlib.suppress(Exception):
            await self._purge(claim["fileId"])
            await self._claims.delete_one(claim)

    async def _purge(self, file_id: str) -> None:
        """Remove a file's chunks and document (the embedded server also keeps a
        placeholder file document for chunks without one). Idempotent."""
        await self._chunks.delete_many({"files_id": file_id})
        await self._files.delete_one({"_id": file_id})

    async def stream(self, path: str) -> tuple[StoredFile, StoredBytes]:
        """The file's metadata and its bytes (read only when iterated).

        Raises:
            NotFound: no file at ``path``.
        """
        doc = await self._file_doc(path)
        length, chunk_size = int(doc["length"]), int(doc["chunkSize"])
        return _stored(doc), StoredBytes(self._chunks, doc["_id"], length, chunk_size)

    async def delete(
        self,
        path: str,
        *,
        owner_id: str | None = None,
        versions: frozenset[str] | None = None,
    ) -> None:
        """Remove the file at ``path`` (only if ``owner_id`` owns it, and only if it is
        one of ``versions``, when given).

        The claim turns ``deleting`` first, in one conditional write on the file
        id just read: the file vanishes at once, of concurrent deletions exactly
        one goes on, and a file put at the path since then is left alone. Then
        the file and its chunks go, and the claim last, so that a crash midway
        leaves a claim for the sweeper to finish.

        Raises:
            NotFound: no file at ``path`` (or another deletion won).
            Forbidden: ``owner_id`` is not the file's owner.
            PreconditionFailed: ``versions`` given, and the file at ``path`` is none
                of them (or there is none any more).
        """
        try:
            claim = await self._ready_claim(path)
        except NotFound:
            if versions is None:
                raise
            raise PreconditionFailed(CHANGED) from None
        if owner_id is not None and claim["ownerId"] != owner_id:
            raise Forbidden("You may only delete your own files")
        if versions is not None and str(claim["fileId"]) not in versions:
            raise PreconditionFailed(CHANGED)
        if not await self._take({"_id": path, "fileId": claim["fileId"], "state": READY}):
            if versions is not None:
                raise PreconditionFailed(CHANGED)
            raise NotFound("File not found")
        await self._finish_deleting(path, claim["fileId"])

    async def _take(self, claim: dict[str, Any]) -> bool:
        """Turn the claim matching ``claim`` ``deleting``; whether this caller won it."""
        taken = await self._claims.update_one(
            claim, {"$set": {"state": DELETING, "aliveMs": _now_ms()}}
        )
        return taken.modified_count == 1

    async def _finish_deleting(self, path: str, file_id: str, *, was_ready: bool = True) -> None:
        """Free the path now; leave a file that was ready to downloads already reading it.

        The purge is recorded before the claim goes, so a crash in between
        leaves a ``deleting`` claim, which a sweeper finishes the same way. An
        upload that never finished was never read: its bytes go at once.
        """
        if not was_ready:
            await self._purge(file_id)
        else:
            with contextlib.suppress(DuplicateKeyError):
                await self._purges.insert_one(
                    new_purge(file_id, due_ms=_now_ms() + self._purge_grace_ms)
                )
        await self._claims.delete_one({"_id": path, "fileId": file_id, "state": DELETING})

    async def purge_due(self, limit: int = SWEEP_BATCH) -> int:
        """Remove the bytes of up to ``limit`` deleted files whose grace has passed.

        Returns:
            How many files were purged.
        """
        due = (
            await self._purges.find({"dueMs": {"$lte": _now_ms()}}, {"_id": 1})
            .limit(limit)
            .to_list(None)
        )
        for purge in due:
            await self._purge(purge["_id"])
            await self._purges.delete_one({"_id": purge["_id"]})
        return len(due)

    async def sweep(self, older_than_ms: int, limit: int = SWEEP_BATCH) -> int:
        """Remove up to ``limit`` unfinished uploads and deletions idle for ``older_than_ms``,
        and the bytes of up to ``limit`` deleted files whose grace has passed.

        Each is first taken with a write conditional on the very state and
        ``aliveMs`` just read, so a live upload that refreshed its claim in the
        meantime is left alone, and of several sweepers only one removes it.

        Returns:
            How many claims and files this call removed.
        """
        cutoff = _now_ms() - older_than_ms
        stale: list[dict[str, Any]] = []
        for state in (UPLOADING, DELETING):  # an equality each: ``$in`` scans (see gateway.db)
            if len(stale) < limit:  # (and ``limit(0)`` would mean no limit)
                stale += (
                    await self._claims.find(
                        {"state": state, "aliveMs": {"$lt": cutoff}},
                        {"fileId": 1, "state": 1, "aliveMs": 1},
                    )
                    .limit(limit - len(stale))
                    .to_list(None)
                )
        swept = 0
        for claim in stale:
            if await self._take(claim):
                was_ready = claim["state"] == DELETING
                await self._finish_deleting(claim["_id"], claim["fileId"], was_ready=was_ready)
                swept += 1
        return swept + await self.purge_due(limit)

    async def adopt_unclaimed(
        self, may_hold: Callable[[str], bool], batch: int = SWEEP_BATCH
    ) -> int:
        """Give each file stored before claims existed a ready claim, so it stays visible:
        each whose name is a path the caller says ``may_hold`` a file.

        Idempotent, and safe beside live uploads and other processes: a path
        already claimed (a file, an upload in progress) refuses the insert.
        Read in batches. Returns how many files were adopted.
        """
        adopted, seen = 0, 0
        while True:
            # Pages by position: the embedded server's GridFS answers no range on _id.
            docs = await self._files.find({}).sort("_id", 1).skip(seen).limit(batch).to_list(None)
            seen += len(docs)
            for doc in docs:
                if not _named(doc) or not may_hold(doc["filename"]):
                    continue
                claim = new_claim(
                    doc["filename"],
                    doc["_id"],
                    owner_id=(doc.get("metadata") or {}).get("ownerId"),
                    state=READY,
                    alive_ms=0,
                )
                with contextlib.suppress(DuplicateKeyError):
                    await self._claims.insert_one(claim)
                    adopted += 1
            if len(docs) < batch:
                return adopted


def _named(doc: dict[str, Any]) -> bool:
    """Whether a GridFS file document is a whole file with a name (the embedded server
    also lists chunks whose file document is missing, under no name)."""
    return isinstance(doc.get("filename"), str) and "length" in doc


def _now_ms() -> int:
    return time.time_ns() // 1_000_000
