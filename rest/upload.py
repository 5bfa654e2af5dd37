"""``/api/upload``: the legacy multipart image upload."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.datastructures import UploadFile
from litestar.handlers import HTTPRouteHandler

from gateway.errors import UnsupportedMediaType, ValidationFailed
from gateway.files import read_chunks
from gateway.models import UploadResult
from gateway.services.policy import require_signed_in
from rest._http import ActorDep, ServicesDep

__all__ = ["upload_route"]

# Room for the multipart envelope around a file at the limit; the file's own
# size is then enforced exactly by the file service.
MULTIPART_OVERHEAD = 64 * 1024


async def upload_image(
    request: Request[Any, Any, Any], services: ServicesDep, actor: ActorDep
) -> UploadResult:
    if request.content_type[0] != "multipart/form-data":
        raise UnsupportedMediaType("Content-Type must be multipart/form-data")
    require_signed_in(actor)  # before the body is read and spooled
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise ValidationFailed("No file uploaded", ["file: required"])
    try:
        meta = await services.files.upload_image(actor, upload.filename, read_chunks(upload))
    finally:
        await upload.close()
    return UploadResult(
        success=True, file_name=meta.name, size=meta.size, type=meta.content_type, url=meta.url
    )


def upload_route(max_upload_bytes: int) -> HTTPRouteHandler:
    """The handler, with a body limit that follows the configured upload limit."""
    return post(
        "/api/upload",
        status_code=200,
        request_max_body_size=max_upload_bytes + MULTIPART_OVERHEAD,
    )(upload_image)
