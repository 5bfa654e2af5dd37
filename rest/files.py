"""``/api/files/<path>``: raw-body uploads, streamed downloads, deletion."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import msgspec
from litestar import Controller, Request, Response, delete, get, post
from litestar.openapi.spec import OpenAPIMediaType, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.response import Stream

from gateway.http import ActorDep, ServicesDep
from gateway.models import FileMeta, StoredFile
from gateway.services.file_rules import MAX_PATH
from rest.openapi import FILE_BODY, LOCATION, SIGNED_IN, header, operation, parameter

__all__ = ["FileController", "content_disposition", "download_url"]

AnyRequest = Request[Any, Any, Any]

# --- the OpenAPI document (rest/openapi.py) ---
# A segment: anything but "/", a backslash or a control character, and not "." or "..".
_CHAR = r"[^/\\\x00-\x1f\x7f-\x9f]"
_NOT_DOT = r"[^/\\.\x00-\x1f\x7f-\x9f]"
_SEGMENT = rf"(?:{_NOT_DOT}{_CHAR}*|\.{_NOT_DOT}{_CHAR}*|\.\.{_CHAR}+)"
_PATH = parameter(
    "path",
    "path",
    "The file's path: `/`-separated segments, at most 1024 characters. A segment that is "
    "empty (so doubled, leading or trailing slashes too), `.` or `..`, or that holds a "
    "backslash or a control character, or a percent-escape that does not decode as UTF-8, "
    "is refused (400).",
    schema=Schema(
        type=OpenAPIType.STRING,
        min_length=1,
        max_length=MAX_PATH,
        pattern=rf"^{_SEGMENT}(?:/{_SEGMENT})*$",
    ),
)
_BYTES = {
    "*/*": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY))
}
_DOWNLOAD_HEADERS = {
    "Content-Disposition": header('`attachment; filename="<name>"` (and `filename*` if needed).'),
    "Content-Length": header(
        "The file's size in bytes.", schema=Schema(type=OpenAPIType.INTEGER, minimum=0)
    ),
}


def content_disposition(name: str) -> str:
    """``attachment`` with a quoted ASCII filename, plus RFC 5987 ``filename*`` when needed."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in name)
    header = f'attachment; filename="{fallback}"'
    if fallback != name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


_PREFIX = b"/api/files/"


def download_url(path: str) -> str:
    """Where ``download`` serves the file at ``path``."""
    return _PREFIX.decode() + quote(path, safe="/")


def _shown(stored: StoredFile) -> FileMeta:
    return FileMeta(**msgspec.structs.asdict(stored), url=download_url(stored.path))


def _raw_path(request: AnyRequest) -> bytes:
    """The file path as the request line has it, escapes and empty segments kept.

    Litestar's decoded ``path`` parameter has merged doubled slashes, dropped a
    trailing one and turned escapes that are not UTF-8 into U+FFFD, which would
    store one file under many spellings: the path rules need the raw form.
    A prefix spelled otherwise (``/api/%66iles/x``) is left on, and refused.
    """
    raw: bytes | None = request.scope.get("raw_path")  # optional in ASGI
    if raw is None:  # a server that keeps no raw path: its decoded one, re-encoded
        raw = request.scope["path"].encode()
    return raw.removeprefix(_PREFIX)


def _declared_length(request: AnyRequest) -> int | None:
    value = request.headers.get("content-length")
    # isdigit() alone lets "²" through: a digit to str, not to int().
    return int(value) if value and value.isascii() and value.isdigit() else None


class FileController(Controller):
    # A static prefix keeps this catch-all from shadowing other routes
    # (litestar-org/litestar#4991 concerns parameter-first siblings only).
    path = "/api/files"
    tags = ("files",)

    @get(
        "/{path:path}",
        summary="Download a file",
        description="The bytes, streamed, with the `Content-Type` they were stored with.",
        operation_id="downloadFile",
        operation_class=operation(
            parameters=[_PATH],
            content=_BYTES,
            headers=_DOWNLOAD_HEADERS,
            errors=(400, 404, 503),
        ),
    )
    async def download(self, request: AnyRequest, services: ServicesDep) -> Stream:
        meta, chunks = await services.files.open(_raw_path(request))
        return Stream(
            chunks,
            headers={
                # Given explicitly so it is served exactly as stored (no added charset).
                "Content-Type": meta.content_type,
                "Content-Disposition": content_disposition(meta.name),
                "Content-Length": str(meta.size),
                "X-Content-Type-Options": "nosniff",
                # Stored files are user content: never let a browser run them as a page.
                "Content-Security-Policy": "sandbox; default-src 'none'",
            },
        )

    @post(
        "/{path:path}",
        request_max_body_size=None,
        summary="Upload a file",
        description="The raw body is the file, streamed to storage; its size is limited by "
        "`GATEWAY_MAX_FILE_BYTES` (413).",
        operation_id="uploadFile",
        security=SIGNED_IN,
        operation_class=operation(
            body=FILE_BODY,
            parameters=[_PATH],
            headers={"Location": LOCATION},
            errors=(400, 401, 408, 409, 413, 503),
        ),
    )
    async def upload(
        self, request: AnyRequest, services: ServicesDep, actor: ActorDep
    ) -> Response[FileMeta]:
        stored = await services.files.save(
            actor,
            _raw_path(request),
            request.stream(),
            content_type=request.headers.get("content-type"),
            declared_length=_declared_length(request),
        )
        meta = _shown(stored)
        return Response(meta, status_code=201, headers={"Location": meta.url})

    @delete(
        "/{path:path}",
        summary="Delete a file",
        description="Its owner or an admin.",
        operation_id="deleteFile",
        security=SIGNED_IN,
        operation_class=operation(parameters=[_PATH], errors=(400, 401, 403, 404, 503)),
    )
    async def remove(self, request: AnyRequest, services: ServicesDep, actor: ActorDep) -> None:
        await services.files.delete(actor, _raw_path(request))
