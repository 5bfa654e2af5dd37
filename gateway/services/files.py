"""Files: the policy (who, which path, what size, which type) over the GridFS store."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import AsyncIterator
from typing import Protocol

from gateway.errors import PayloadTooLarge, ValidationFailed
from gateway.gridfs_store import SWEEP_BATCH, FileStore, StoredBytes
from gateway.models import StoredFile
from gateway.services.file_rules import (
    IMAGE_EXTENSIONS,
    SNIFF_BYTES,
    check_media_type,
    check_path,
    may_hold_file,
    sniff_image,
)
from gateway.services.policy import Actor, require_signed_in

__all__ = ["STALE_AFTER_S", "FileService", "read_chunks"]

log = logging.getLogger("gateway")

# An upload refreshes its claim every few seconds while bytes arrive (HEARTBEAT_S):
# one silent this long is dead. Generous, so clocks of several gateways may differ.
STALE_AFTER_S = 300.0
UPLOAD_DIR = "uploads"
INVALID_FILE_TYPE = "Invalid file type"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class SupportsAsyncRead(Protocol):
    async def read(self, size: int = -1) -> bytes: ...


async def read_chunks(source: SupportsAsyncRead, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    """Adapt an uploaded file (Litestar's ``UploadFile``, Strawberry's ``Upload``) to chunks."""
    while piece := await source.read(size):
        yield piece


async def _peek(chunks: AsyncIterator[bytes], size: int) -> tuple[bytes, AsyncIterator[bytes]]:
    """Read at least ``size`` bytes (if there are) and return them with an equivalent stream."""
    head = b""
    async for piece in chunks:
        head += piece
        if len(head) >= size:
            break

    async def replay() -> AsyncIterator[bytes]:
        if head:
            yield head
        async for rest in chunks:
            yield rest

    return head, replay()


def _check_length(declared: int | None, limit: int) -> None:
    if declared is not None and declared > limit:
        raise PayloadTooLarge(f"File too large (limit {limit} bytes)")


class FileService:
    def __init__(self, store: FileStore, *, max_file_bytes: int, max_upload_bytes: int) -> None:
        self._store = store
        self._max_file = max_file_bytes
        self._max_upload = max_upload_bytes

    async def meta(self, path: str | bytes) -> StoredFile:
        """Raises: ValidationFailed (bad path), NotFound."""
        return await self._store.get(check_path(path))

    async def open(self, path: str | bytes) -> tuple[StoredFile, StoredBytes]:
        """The file's metadata and its bytes, read (all, or a range) only when asked for.

        Raises: ValidationFailed (bad path), NotFound.
        """
        return await self._store.stream(check_path(path))

    async def save(
        self,
        actor: Actor | None,
        path: str | bytes,
        chunks: AsyncIterator[bytes],
        *,
        content_type: str | None,
        declared_length: int | None = None,
    ) -> StoredFile:
        """Store a file of any type at ``path`` for the signed-in caller.

        ``path`` is ``bytes`` when it is a URL's escaped form (see ``check_path``).

        Raises:
            Unauthenticated, ValidationFailed (path or content type),
            PayloadTooLarge, Conflict (path taken).
        """
        owner = require_signed_in(actor)
        path = check_path(path)
        media_type = check_media_type(content_type)
        _check_length(declared_length, self._max_file)
        return await self._store.save(
            path, chunks, content_type=media_type, owner_id=owner.id, max_bytes=self._max_file
        )

    async def upload_image(
        self,
        actor: Actor | None,
        filename: str | None,
        chunks: AsyncIterator[bytes],
        *,
        declared_length: int | None = None,
    ) -> StoredFile:
        """Store a JPEG, PNG or GIF (judged by its bytes) at ``uploads/<unique name>``,
        as legacy ``/api/upload`` did.

        Raises:
            Unauthenticated, PayloadTooLarge (over the upload limit),
            ValidationFailed ("Invalid file type").
        """
        owner = require_signed_in(actor)
        _check_length(declared_length, self._max_upload)
        head, chunks = await _peek(chunks, SNIFF_BYTES)
        media_type = sniff_image(head)
        if media_type is None:
            raise ValidationFailed(INVALID_FILE_TYPE)
        stem = _UNSAFE.sub("-", (filename or "image").rsplit(".", 1)[0]).strip("-.")[:64]
        name = f"{uuid.uuid4().hex[:16]}-{stem or 'image'}.{IMAGE_EXTENSIONS[media_type]}"
        return await self._store.save(
            f"{UPLOAD_DIR}/{name}",
            chunks,
            content_type=media_type,
            owner_id=owner.id,
            max_bytes=self._max_upload,
        )

    async def delete(
        self, actor: Actor | None, path: str | bytes, versions: frozenset[str] | None = None
    ) -> None:
        """Delete the file at ``path``; when ``versions`` is given, only if it is one of them
        (an ``If-Match``, an expected version), checked in the deletion's own write.

        Raises:
            Unauthenticated, ValidationFailed (bad path), NotFound, Forbidden (not owner),
            PreconditionFailed (not one of ``versions``).
        """
        caller = require_signed_in(actor)
        await self._store.delete(
            check_path(path),
            owner_id=None if caller.is_admin else caller.id,
            versions=versions,
        )

    async def sweep(self, older_than_s: float = STALE_AFTER_S) -> int:
        """Remove what crashed or abandoned uploads (and deletions) left, and the bytes of
        deleted files past their grace, a bounded batch of each per call; safe to run
        in every gateway process at once.

        Returns:
            How many were removed (a full batch means more may be waiting).
        """
        return await self._store.sweep(int(older_than_s * 1000))

    async def sweep_forever(self, interval_s: float, older_than_s: float = STALE_AFTER_S) -> None:
        """Sweep every ``interval_s`` seconds (at once again after a full batch), for
        the life of the application; a failed sweep (database away) is retried.

        First, files stored before paths were claimed are given their claims
        (``FileStore.adopt_unclaimed``), so an upgrade loses none of them.
        """
        adopted = False
        while True:
            try:
                if not adopted:
                    if count := await self._store.adopt_unclaimed(may_hold_file):
                        log.info("gave %d files stored before path claims their claims", count)
                    adopted = True
                full = await self.sweep(older_than_s) >= SWEEP_BATCH
            except Exception as exc:
                log.warning("file sweep failed (%s); retrying", exc)
                full = False
            await asyncio.sleep(0 if full else interval_s)
