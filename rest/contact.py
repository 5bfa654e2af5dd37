"""``/api/contact``: the legacy contact form, with its ``{"errors": [...]}`` shape."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post
from litestar.datastructures import Cookie

from gateway.errors import ContactInvalid
from gateway.models import ContactInput
from rest._http import ServicesDep, client_address, plain_query, read_json

__all__ = ["submit_contact"]

SUCCESS = {"success": True, "message": "Contact form submitted successfully"}


@post("/api/contact", status_code=200)
async def submit_contact(
    request: Request[Any, Any, Any], services: ServicesDep
) -> Response[dict[str, Any]]:
    form = await read_json(request, ContactInput, ContactInvalid)
    await services.contact.submit(
        form,
        source=plain_query(request, "source")["source"],
        user_agent=request.headers.get("user-agent"),
        session_id=request.cookies.get("sessionId"),
        client=client_address(request),
    )
    return Response(
        SUCCESS,
        headers={"X-Contact-Processed": "true"},
        cookies=[Cookie(key="contact-sent", value="true", path="/", httponly=True)],
    )
