"""File metadata and the image-upload result."""

from __future__ import annotations

from datetime import datetime

from gateway.models.base import Output

__all__ = ["FileMeta", "UploadResult"]


class FileMeta(Output):
    path: str
    name: str
    size: int
    content_type: str
    url: str
    created_at: datetime


class UploadResult(Output):
    success: bool
    file_name: str
    size: int
    type: str
    url: str
