"""Stored files as the file service returns them, and as the REST door shows them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

from gateway.models.base import Output

__all__ = ["FileMeta", "FileVersion", "StoredFile", "UploadResult"]

FileVersion = Annotated[
    str,
    msgspec.Meta(
        description="Names these bytes: a new upload at the path gets a new one. The "
        "download's `ETag` is it in quotes; `If-Match` on a deletion names it."
    ),
]


class StoredFile(Output):
    """A stored file: where it is kept, not how a door links to it (each door renders
    its URL from ``path``)."""

    path: str
    name: str
    size: int
    content_type: str
    created_at: datetime
    version: FileVersion


class FileMeta(Output):
    """A stored file with the URL it downloads from: REST's file metadata."""

    path: str
    name: str
    size: int
    content_type: str
    url: str
    created_at: datetime
    version: FileVersion


class UploadResult(Output):
    success: bool
    file_name: str
    size: int
    type: str
    url: str
