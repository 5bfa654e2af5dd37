"""File storage, written once: path rules, size limits, type sniffing, streaming GridFS.

Files are stored as standard GridFS (``fs.files`` + ``fs.chunks``), written and
read here chunk by chunk so memory stays flat whatever the file size. Reads go
in bounded windows of chunk numbers (``n`` ranges), because the embedded
server ignores ``batchSize`` and would otherwise return a whole file in one
message. File ids are strings (see ``gateway.db`` on references).

The operations are the ones PyMongo's own GridFS uses (insert chunks then the
file document; find chunks by ``files_id`` and ``n``; delete the file document
by ``_id`` then its chunks by ``files_id``), because the embedded server
emulates GridFS collections and answers only those.
"""

from __future__ import annotations

import asyncio
import contextlib
import unicodedata
from collections.abc import AsyncIterator
from typing import Any, Protocol
from urllib.parse import quote

from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from gateway.db import Database, as_utc, utcnow
from gateway.errors import Conflict, NotFound, PayloadTooLarge, ValidationFailed
from gateway.models import FileMeta

__all__ = [
    "CHUNK_SIZE",
    "FileStore",
    "check_path",
    "file_url",
    "read_chunks",
    "sniff_image",
]

CHUNK_SIZE = 255 * 1024  # the GridFS default
WINDOW = 4  # chunks per read query: ~1 MiB in flight at most
MAX_PATH = 1024

_IMAGE_SIGNATURES = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
IMAGE_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/gif": "gif"}
SNIFF_BYTES = 8


def check_path(path: str) -> str:
    """Return the normalised file path or refuse it.

    Raises:
        ValidationFailed: too long, or a segment empty, ``.``, ``..``, with a
            backslash or a control character.
    """
    path = path[1:] if path.startswith("/") else path  # Litestar's path parameters lead with "/"
    if not path or len(path) > MAX_PATH:
        raise ValidationFailed("Invalid file path", [f"path: 1 to {MAX_PATH} characters"])
    for segment in path.split("/"):
        if (
            segment in {"", ".", ".."}
            or "\\" in segment
            or any(unicodedata.category(ch) == "Cc" for ch in segment)
        ):
            raise ValidationFailed("Invalid file path", [f"path: invalid segment {segment!r}"])
    return path


def file_url(path: str) -> str:
    return "/api/files/" + quote(path, safe="/")


def sniff_image(head: bytes) -> str | None:
    """The image type the bytes show (JPEG, PNG, GIF), whatever the client claimed."""
    for signature, media_type in _IMAGE_SIGNATURES:
        if head.startswith(signature):
            return media_type
    return None


class SupportsAsyncRead(Protocol):
    async def read(self, size: int = -1) -> bytes: ...


async def read_chunks(source: SupportsAsyncRead, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """Adapt an uploaded file (Litestar's ``UploadFile``, Strawberry's ``Upload``) to chunks."""
    while piece := await source.read(size):
        yield piece


def _meta(doc: dict[str, Any]) -> FileMeta:
    metadata = doc.get("metadata") or {}
    return FileMeta(
        path=doc["filename"],
        name=doc["filename"].rsplit("/", 1)[-1],
        size=int(doc["length"]),
        content_type=metadata.get("contentType", "application/octet-stream"),
        url=file_url(doc["filename"]),
        created_at=as_utc(doc["uploadDate"]),
    )


class FileStore:
    """GridFS files keyed by a unique path."""

    def __init__(self, db: Database) -> None:
        self._files = db["fs.files"]
        self._chunks = db["fs.chunks"]

    async def find(self, path: str) -> FileMeta | None:
        doc = await self._files.find_one({"filename": path})
        return _meta(doc) if doc else None

    async def get(self, path: str) -> FileMeta:
        """Raises: NotFound: no file at ``path``."""
        meta = await self.find(path)
        if meta is None:
            raise NotFound("File not found")
        return meta

    async def owner(self, path: str) -> str | None:
        """The id of the user who stored the file at ``path``.

        Raises:
            NotFound: no file at ``path``.
        """
        doc = await self._files.find_one({"filename": path}, {"metadata.ownerId": 1})
        if doc is None:
            raise NotFound("File not found")
        owner: str | None = (doc.get("metadata") or {}).get("ownerId")
        return owner

    async def save(
        self,
        path: str,
        chunks: AsyncIterator[bytes],
        *,
        content_type: str,
        owner_id: str,
        max_bytes: int,
    ) -> FileMeta:
        """Stream ``chunks`` into GridFS at ``path``; all or nothing.

        Raises:
            Conflict: a file exists at ``path`` (also when another upload wins the race).
            PayloadTooLarge: more than ``max_bytes``; what was written is removed.
        """
        if await self._files.find_one({"filename": path}, {"_id": 1}):
            raise Conflict("A file already exists at this path")
        file_id = str(ObjectId())
        size = 0
        try:
            size = await self._write_chunks(file_id, chunks, max_bytes)
            doc = {
                "_id": file_id,
                "length": size,
                "chunkSize": CHUNK_SIZE,
                "uploadDate": utcnow(),
                "filename": path,
                "metadata": {"contentType": content_type, "ownerId": owner_id},
            }
            await self._files.insert_one(doc)
        except DuplicateKeyError:
            await self._drop_chunks(file_id)
            raise Conflict("A file already exists at this path") from None
        except BaseException:
            # Too large, a client gone mid-upload, a cancelled request: leave nothing behind.
            await asyncio.shield(self._drop_chunks(file_id))
            raise
        return _meta(doc)

    async def _write_chunks(
        self, file_id: str, chunks: AsyncIterator[bytes], max_bytes: int
    ) -> int:
        buffer = bytearray()
        size = n = 0
        async for piece in chunks:
            size += len(piece)
            if size > max_bytes:
                raise PayloadTooLarge(f"File too large (limit {max_bytes} bytes)")
            buffer += piece
            while len(buffer) >= CHUNK_SIZE:
                await self._chunks.insert_one(
                    {"files_id": file_id, "n": n, "data": bytes(buffer[:CHUNK_SIZE])}
                )
                del buffer[:CHUNK_SIZE]
                n += 1
        if buffer or n == 0:
            await self._chunks.insert_one({"files_id": file_id, "n": n, "data": bytes(buffer)})
        return size

    async def _drop_chunks(self, file_id: str) -> None:
        with contextlib.suppress(Exception):
            await self._chunks.delete_many({"files_id": file_id})
            # The embedded server keeps a placeholder file record for orphan chunks.
            await self._files.delete_one({"_id": file_id})

    async def stream(self, path: str) -> tuple[FileMeta, AsyncIterator[bytes]]:
        """The file's metadata and an iterator over its bytes, a window of chunks at a time.

        Raises:
            NotFound: no file at ``path``.
        """
        doc = await self._files.find_one({"filename": path})
        if doc is None:
            raise NotFound("File not found")
        return _meta(doc), self._read(doc["_id"], int(doc["length"]), int(doc["chunkSize"]))

    async def _read(self, file_id: Any, length: int, chunk_size: int) -> AsyncIterator[bytes]:
        total = -(-length // chunk_size) if length else 0
        for start in range(0, total, WINDOW):
            window = self._chunks.find(
                {"files_id": file_id, "n": {"$gte": start, "$lt": start + WINDOW}}
            ).sort("n", 1)
            expected = start
            for chunk in await window.to_list(None):
                if chunk["n"] != expected:
                    raise RuntimeError(f"GridFS file {file_id} is missing chunk {expected}")
                expected += 1
                yield bytes(chunk["data"])
            if expected != min(start + WINDOW, total):
                raise RuntimeError(f"GridFS file {file_id} is missing chunk {expected}")

    async def delete(self, path: str) -> None:
        """Remove the file record first (so it vanishes at once), then its chunks."""
        doc = await self._files.find_one({"filename": path}, {"_id": 1})
        if doc is None or (await self._files.delete_one({"_id": doc["_id"]})).deleted_count == 0:
            raise NotFound("File not found")
        await self._chunks.delete_many({"files_id": doc["_id"]})
