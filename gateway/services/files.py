"""Files: the policy (who, which path, what size, which type) over the shared file store."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import AsyncIterator

from gateway.errors import PayloadTooLarge, ValidationFailed
from gateway.files import (
    IMAGE_EXTENSIONS,
    SNIFF_BYTES,
    SWEEP_BATCH,
    FileStore,
    check_path,
    sniff_image,
)
from gateway.models import FileMeta
from gateway.services.policy import Actor, require_signed_in

__all__ = ["STALE_AFTER_S", "FileService"]

log = logging.getLogger("gateway")

# An upload refreshes its claim every few seconds while bytes arrive (HEARTBEAT_S):
# one silent this long is dead. Generous, so clocks of several gateways may differ.
STALE_AFTER_S = 300.0
UPLOAD_DIR = "uploads"
INVALID_FILE_TYPE = "Invalid file type"
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
# type/subtype with optional parameters (``text/plain; charset=latin-1``), kept as sent.
_MEDIA_TYPE = re.compile(r'^[\w.+-]+/[\w.+-]+(\s*;\s*[\w.+-]+=("[^"\\\x00-\x1f]*"|[\w.+-]+))*$')


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

    @property
    def max_upload_bytes(self) -> int:
        return self._max_upload

    async def meta(self, path: str | bytes) -> FileMeta:
        """Raises: ValidationFailed (bad path), NotFound."""
        return await self._store.get(check_path(path))

    async def open(self, path: str | bytes) -> tuple[FileMeta, AsyncIterator[bytes]]:
        """Raises: ValidationFailed (bad path), NotFound."""
        return await self._store.stream(check_path(path))

    async def save(
        self,
        actor: Actor | None,
        path: str | bytes,
        chunks: AsyncIterator[bytes],
        *,
        content_type: str | None,
        declared_length: int | None = None,
    ) -> FileMeta:
        """Store a file of any type at ``path`` for the signed-in caller.

        ``path`` is ``bytes`` when it is a URL's escaped form (see ``check_path``).

        Raises:
            Unauthenticated, ValidationFailed (path or content type),
            PayloadTooLarge, Conflict (path taken).
        """
        owner = require_signed_in(actor)
        path = check_path(path)
        media_type = (content_type or "application/octet-stream").strip()
        if len(media_type) > 255 or not _MEDIA_TYPE.match(media_type):
            raise ValidationFailed("Invalid content type", ["contentType: not a media type"])
        _check_length(declared_length, self._max_file)
        kind, _, parameters = media_type.partition(";")
        media_type = kind.lower() + (f";{parameters}" if parameters else "")
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
    ) -> FileMeta:
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

    async def delete(self, actor: Actor | None, path: str | bytes) -> None:
        """Raises: Unauthenticated, ValidationFailed (bad path), NotFound, Forbidden (not owner)."""
        caller = require_signed_in(actor)
        await self._store.delete(check_path(path), owner_id=None if caller.is_admin else caller.id)

    async def sweep(self, older_than_s: float = STALE_AFTER_S) -> int:
        """Remove what crashed or abandoned uploads (and deletions) left, a bounded batch
        per call; safe to run in every gateway process at once.

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
                    if count := await self._store.adopt_unclaimed():
                        log.info("gave %d files stored before path claims their claims", count)
                    adopted = True
                full = await self.sweep(older_than_s) >= SWEEP_BATCH
            except Exception as exc:
                log.warning("file sweep failed (%s); retrying", exc)
                full = False
            await asyncio.sleep(0 if full else interval_s)
