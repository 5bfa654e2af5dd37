"""The vendored browser bundles (GraphiQL, Swagger UI): versioned URLs, compressed once.

Each asset's URL carries a digest of its bytes (``?v=<digest>``, see ``asset_url``):
a new bundle gets a new URL, so the versioned one is cached for a year as
``immutable``. A request without that version (or with another) gets the same
bytes with ``no-cache``: the browser revalidates it (``ETag``, 304).

Textual assets of ``COMPRESS_MIN_BYTES`` or more are compressed once per process,
at the best levels (brotli 11, gzip 9), when first asked for in that coding, and
kept in memory; the coding is negotiated as for every other answer
(``gateway.compression.choose_coding``), and each coding has its own strong tag.
"""

from __future__ import annotations

import functools
import hashlib
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from litestar import HttpMethod, Request, route
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.response.base import ASGIResponse

from gateway.compression import COMPRESS_MIN_BYTES, choose_coding, coded_etag, encode
from gateway.conditional import Validators, is_not_modified

__all__ = ["IMMUTABLE", "REVALIDATE", "StaticAssets", "asset_url"]

AnyRequest = Request[Any, Any, Any]

IMMUTABLE: Final = "public, max-age=31536000, immutable"
# For the pages naming the versioned assets, and for an asset asked for unversioned.
REVALIDATE: Final = "no-cache"
# Litestar's own text types get "; charset=utf-8"; these are served as they are.
MEDIA_TYPES: Final = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


@functools.cache
def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def asset_url(path: Path, prefix: str) -> str:
    """The asset's URL under ``prefix``, versioned by a digest of its bytes (once per process)."""
    return f"{prefix}/{path.name}?v={_digest(path)}"


@dataclass
class _Asset:
    """One file's bytes, validators and, once asked for, its compressed codings."""

    body: bytes
    media_type: str
    validators: Validators
    codings: dict[str, bytes] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def coded(self, coding: str | None) -> tuple[str | None, bytes]:
        """The body in ``coding`` when it is worth it, else as it is (None)."""
        if coding is None or len(self.body) < COMPRESS_MIN_BYTES:
            return None, self.body
        with self.lock:  # one compression per coding, whoever asks first
            if coding not in self.codings:
                self.codings[coding] = encode(self.body, coding, level="best")
            return coding, self.codings[coding]


class StaticAssets:
    """The files of one folder (only those with a type in ``MEDIA_TYPES``), read once."""

    def __init__(self, directory: Path) -> None:
        self._paths = {
            path.name: path
            for path in directory.iterdir()
            if path.is_file() and path.suffix in MEDIA_TYPES
        }
        self._assets: dict[str, _Asset] = {}
        self._lock = threading.Lock()

    def _asset(self, name: str) -> _Asset:
        path = self._paths.get(name)
        if path is None:
            raise NotFoundException("File not found")
        with self._lock:
            if name not in self._assets:
                modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
                self._assets[name] = _Asset(
                    path.read_bytes(), MEDIA_TYPES[path.suffix], Validators(_digest(path), modified)
                )
            return self._assets[name]

    def response(self, request: AnyRequest, name: str) -> ASGIResponse:
        """The answer to a GET or HEAD of ``name``: 200 in the negotiated coding, or 304."""
        asset = self._asset(name)
        versioned = request.query_params.get("v") == asset.validators.tag
        coding, body = asset.coded(choose_coding(request.headers.get("accept-encoding")))
        etag = asset.validators.etag
        headers = {
            "Cache-Control": IMMUTABLE if versioned else REVALIDATE,
            "ETag": coded_etag(etag, coding) if coding else etag,
            "Last-Modified": asset.validators.http_date,
            "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",  # scripts by their declared type only
        }
        if is_not_modified(
            asset.validators,
            request.headers.get("if-none-match"),
            request.headers.get("if-modified-since"),
        ):
            return ASGIResponse(status_code=304, headers=headers)
        headers["Content-Type"] = asset.media_type
        headers["Content-Length"] = str(len(body))
        if coding is not None:
            headers["Content-Encoding"] = coding
        if request.method == HttpMethod.HEAD:
            return ASGIResponse(headers=headers, is_head_response=True)
        return ASGIResponse(body=body, headers=headers)

    def handler(self, path: str) -> HTTPRouteHandler:
        """A GET and HEAD handler serving the folder's files at ``<path>/<name>``."""

        @route(
            f"{path}/{{name:str}}",
            http_method=[HttpMethod.GET, HttpMethod.HEAD],
            include_in_schema=False,
            sync_to_thread=True,  # the first request in a coding compresses the file
        )
        def static_asset(request: AnyRequest, name: FromPath[str]) -> ASGIResponse:
            return self.response(request, name)

        return static_asset
