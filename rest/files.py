"""``/api/files/<path>``: raw-body uploads, streamed downloads, deletion."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, Response, delete, get, post
from litestar.params import FromPath
from litestar.response import Stream

from gateway.models import FileMeta
from rest._http import ActorDep, ServicesDep

__all__ = ["FileController", "content_disposition"]

AnyRequest = Request[Any, Any, Any]


def content_disposition(name: str) -> str:
    """``attachment`` with a quoted ASCII filename, plus RFC 5987 ``filename*`` when needed."""
    fallback = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in name)
    header = f'attachment; filename="{fallback}"'
    if fallback != name:
        header += f"; filename*=UTF-8''{quote(name, safe='')}"
    return header


def _declared_length(request: AnyRequest) -> int | None:
    value = request.headers.get("content-length")
    return int(value) if value and value.isdigit() else None


class FileController(Controller):
    # A static prefix keeps this catch-all from shadowing other routes
    # (litestar-org/litestar#4991 concerns parameter-first siblings only).
    path = "/api/files"

    @get("/{path:path}")
    async def download(self, services: ServicesDep, path: FromPath[str]) -> Stream:
        meta, chunks = await services.files.open(path)
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

    @post("/{path:path}", request_max_body_size=None)
    async def upload(
        self, request: AnyRequest, services: ServicesDep, actor: ActorDep, path: FromPath[str]
    ) -> Response[FileMeta]:
        meta = await services.files.save(
            actor,
            path,
            request.stream(),
            content_type=request.headers.get("content-type"),
            declared_length=_declared_length(request),
        )
        return Response(meta, status_code=201, headers={"Location": meta.url})

    @delete("/{path:path}")
    async def remove(self, services: ServicesDep, actor: ActorDep, path: FromPath[str]) -> None:
        await services.files.delete(actor, path)
