"""``fs.files`` and ``fs.chunks``: standard GridFS, as PyMongo's own GridFS writes it.

File ids are strings (see ``gateway.db`` on references); the owner and the
content type go in the file document's ``metadata``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = ["CHUNKS", "CHUNK_SIZE", "FILES", "new_chunk", "new_file"]

FILES = "fs.files"
CHUNKS = "fs.chunks"
CHUNK_SIZE = 255 * 1024  # the GridFS default


def new_file(
    *,
    file_id: str,
    path: str,
    length: int,
    content_type: str,
    owner_id: str,
    uploaded_at: datetime,
) -> dict[str, Any]:
    """The file document, written once every chunk is stored."""
    return {
        "_id": file_id,
        "length": length,
        "chunkSize": CHUNK_SIZE,
        "uploadDate": uploaded_at,
        "filename": path,
        "metadata": {"contentType": content_type, "ownerId": owner_id},
    }


def new_chunk(file_id: str, n: int, data: bytes) -> dict[str, Any]:
    """The ``n``-th chunk of a file: ``CHUNK_SIZE`` bytes, the last one fewer."""
    return {"files_id": file_id, "n": n, "data": data}
