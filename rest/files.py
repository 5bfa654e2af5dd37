"""``/api/files/<path>``: raw-body uploads, streamed downloads (conditional, and by
range), deletion (conditional too).

A file at a path is never changed in place: an upload makes a new GridFS file
and a deletion ends it. So the GridFS file's id names the bytes (the file's
``version``, the strong ``ETag``), its upload time is ``Last-Modified``, and a
range is read from only the chunks that hold it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import msgspec
from litestar import Controller, Request, Response, delete, get, head, post
from litestar.openapi.spec import OpenAPIMediaType, OpenAPIResponse, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.response import Stream

from gateway.conditional import (
    ByteRange,
    Unsatisfiable,
    Validators,
    expected_tags,
    is_not_modified,
    parse_range,
    range_applies,
)
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
# Anyone may keep a copy, but must ask again before each use: a path's file may be
# deleted and another uploaded there, and a 304 costs two small reads.
CACHE_CONTROL = "public, no-cache"
_VALIDATOR_HEADERS = {
    "ETag": header("The file's `version` in quotes: strong, new with each upload at the path."),
    "Last-Modified": header("When the file was uploaded."),
    "Cache-Control": header(
        f"`{CACHE_CONTROL}`: revalidate before each use (a path may be deleted and re-used)."
    ),
    "Accept-Ranges": header("`bytes`."),
}
_BYTE_COUNT = Schema(type=OpenAPIType.INTEGER, minimum=0)
_DOWNLOAD_HEADERS = {
    "Content-Disposition": header('`attachment; filename="<name>"` (and `filename*` if needed).'),
    "Content-Length": header("The file's size in bytes.", schema=_BYTE_COUNT),
    **_VALIDATOR_HEADERS,
}
_DOWNLOAD_RESPONSES = {
    "206": OpenAPIResponse(
        description="The one byte range asked for by `Range` (several ranges get the whole "
        "file, 200; an `If-Range` that names another version too).",
        content=_BYTES,
        headers={
            **_DOWNLOAD_HEADERS,
            "Content-Length": header("The range's size in bytes.", schema=_BYTE_COUNT),
            "Content-Range": header("`bytes <first>-<last>/<size>`."),
        },
    ),
    "304": OpenAPIResponse(
        description="Not modified: `If-None-Match` names the file's version (or, without "
        "it, `If-Modified-Since` is not before its upload), whatever `Cache-Control` the "
        "request carries. No body.",
        headers={**_VALIDATOR_HEADERS},
    ),
}
_HEAD_RESPONSES = {"304": _DOWNLOAD_RESPONSES["304"]}
_IF_NONE_MATCH = parameter(
    "If-None-Match", "header", "ETags held: 304 if one is the file's (weak comparison)."
)
_IF_MODIFIED_SINCE = parameter(
    "If-Modified-Since", "header", "An HTTP date: 304 if the file was not uploaded after it."
)
_RANGE = parameter(
    "Range",
    "header",
    "One byte range: `bytes=<first>-<last>`, `bytes=<first>-` or `bytes=-<suffix length>` "
    "(206; 416 when it starts past the end). Several ranges get the whole file.",
)
_IF_RANGE = parameter(
    "If-Range", "header", "An ETag or the `Last-Modified` date: the range only if it is current."
)
_IF_MATCH = parameter(
    "If-Match",
    "header",
    "ETags: delete only if the file at the path is one of them (412 otherwise, nothing deleted).",
)


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


def _answer(
    request: AnyRequest, meta: StoredFile, *, ranges: bool
) -> tuple[int, dict[str, str], ByteRange | None]:
    """The status and headers of a download (or, without ``ranges``, of a HEAD, for
    which range handling is not defined), and the byte range it sends if any.

    RFC 9110 order: the validators decide a 304 first; then a ``Range``, if
    ``If-Range`` lets it apply, gives a 206 or a 416; else the whole file.
    """
    validators = Validators(meta.version, meta.created_at)
    headers = {**validators.headers(), "Cache-Control": CACHE_CONTROL, "Accept-Ranges": "bytes"}
    asked = request.headers
    if is_not_modified(validators, asked.get("if-none-match"), asked.get("if-modified-since")):
        return 304, headers, None
    part = None
    if ranges and range_applies(asked.get("if-range"), validators):
        part = parse_range(asked.get("range"), meta.size)
    if isinstance(part, Unsatisfiable):
        return 416, {**headers, "Content-Range": part.content_range}, None
    headers.update(
        {
            # Given explicitly so it is served exactly as stored (no added charset).
            "Content-Type": meta.content_type,
            "Content-Disposition": content_disposition(meta.name),
            "Content-Length": str(meta.size if part is None else part.length),
            "X-Content-Type-Options": "nosniff",
            # Stored files are user content: never let a browser run them as a page.
            "Content-Security-Policy": "sandbox; default-src 'none'",
        }
    )
    if part is None:
        return 200, headers, None
    headers["Content-Range"] = part.content_range
    return 206, headers, part


class FileController(Controller):
    # A static prefix keeps this catch-all from shadowing other routes
    # (litestar-org/litestar#4991 concerns parameter-first siblings only).
    path = "/api/files"
    tags = ("files",)

    @get(
        "/{path:path}",
        summary="Download a file",
        description="The bytes, streamed, with the `Content-Type` they were stored with; "
        "conditional (`If-None-Match`, `If-Modified-Since`: 304) and by range (`Range`, "
        "`If-Range`: 206, 416).",
        operation_id="downloadFile",
        operation_class=operation(
            parameters=[_PATH, _IF_NONE_MATCH, _IF_MODIFIED_SINCE, _RANGE, _IF_RANGE],
            content=_BYTES,
            headers=_DOWNLOAD_HEADERS,
            others=_DOWNLOAD_RESPONSES,
            errors=(400, 404, 416, 503),
        ),
    )
    async def download(self, request: AnyRequest, services: ServicesDep) -> Response[Any]:
        meta, content = await services.files.open(_raw_path(request))
        status, headers, part = _answer(request, meta, ranges=True)
        if status == 416:
            return Response({"error": "Range not satisfiable"}, status_code=416, headers=headers)
        if status == 304:
            return Response(None, status_code=304, headers=headers)
        body = content if part is None else content.read(part.start, part.end)
        return Stream(body, status_code=status, headers=headers)

    @head(
        "/{path:path}",
        summary="A file's headers",
        description="The download's headers (size, type, `ETag`...), without the body and "
        "without reading it; conditional like the download. `Range` is not applied.",
        operation_id="headFile",
        operation_class=operation(
            parameters=[_PATH, _IF_NONE_MATCH, _IF_MODIFIED_SINCE],
            headers=_DOWNLOAD_HEADERS,
            others=_HEAD_RESPONSES,
            errors=(400, 404, 503),
        ),
    )
    async def head_file(self, request: AnyRequest, services: ServicesDep) -> Response[None]:
        meta = await services.files.meta(_raw_path(request))
        status, headers, _ = _answer(request, meta, ranges=False)
        return Response(None, status_code=status, headers=headers)

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
        description="Its owner or an admin; with `If-Match`, only the version named.",
        operation_id="deleteFile",
        security=SIGNED_IN,
        operation_class=operation(
            parameters=[_PATH, _IF_MATCH], errors=(400, 401, 403, 404, 412, 503)
        ),
    )
    async def remove(self, request: AnyRequest, services: ServicesDep, actor: ActorDep) -> None:
        versions = expected_tags(request.headers.get("if-match"))
        await services.files.delete(actor, _raw_path(request), versions)
