"""``/api/upload``: the legacy multipart image upload."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.datastructures import UploadFile
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.spec import Encoding, OpenAPIMediaType, RequestBody, Schema
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType

from gateway.errors import UnsupportedMediaType, ValidationFailed
from gateway.http import ActorDep, ServicesDep
from gateway.models import UploadResult
from gateway.services.files import read_chunks
from gateway.services.policy import require_signed_in
from rest.files import download_url
from rest.openapi import SIGNED_IN, operation

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
        success=True,
        file_name=meta.name,
        size=meta.size,
        type=meta.content_type,
        url=download_url(meta.path),
    )


def _image_body(max_upload_bytes: int) -> RequestBody:
    """The OpenAPI document's request body: a form with the image in ``file``."""
    image = Schema(
        type=OpenAPIType.STRING,
        format=OpenAPIFormat.BINARY,
        description=f"A JPEG, PNG or GIF (judged by its bytes), at most {max_upload_bytes} "
        "bytes (413).",
    )
    form = Schema(type=OpenAPIType.OBJECT, properties={"file": image}, required=["file"])
    return RequestBody(
        content={
            "multipart/form-data": OpenAPIMediaType(
                schema=form,
                encoding={"file": Encoding(content_type="image/jpeg, image/png, image/gif")},
            )
        },
        required=True,
    )


def upload_route(max_upload_bytes: int) -> HTTPRouteHandler:
    """The handler, with a body limit that follows the configured upload limit."""
    return post(
        "/api/upload",
        status_code=200,
        request_max_body_size=max_upload_bytes + MULTIPART_OVERHEAD,
        summary="Upload an image",
        description="Stored at `uploads/<fileName>` under a unique name; `type` is the type "
        "the bytes show, and `url` where the file is downloaded.",
        tags=["files"],
        security=SIGNED_IN,
        operation_class=operation(
            body=_image_body(max_upload_bytes), errors=(400, 401, 408, 413, 415, 503)
        ),
    )(upload_image)
