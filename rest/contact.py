"""``/api/contact``: the legacy contact form, with its ``{"errors": [...]}`` shape."""

from __future__ import annotations

from typing import Any, TypedDict

from litestar import Request, Response, post
from litestar.datastructures import Cookie
from litestar.openapi import ResponseSpec

from gateway.errors import ContactInvalid
from gateway.http import ServicesDep, client_address
from gateway.models import ContactInput
from rest._http import plain_query, read_json
from rest.openapi import CONTACT_INVALID, header, json_body, operation, parameter

__all__ = ["submit_contact"]

SUCCESS = {"success": True, "message": "Contact form submitted successfully"}


class ContactSent(TypedDict):
    success: bool
    message: str


# --- the OpenAPI document (rest/openapi.py) ---
_FORM = json_body(
    ContactInput,
    "The form; every problem is reported at once (400).",
    required=["name", "email", "message"],
)
_SOURCE = parameter("source", "query", "Where the form was sent from; stored with the message.")
_SESSION = parameter("sessionId", "cookie", "The visitor's session; stored with the message.")
_SENT_HEADERS = {
    "X-Contact-Processed": header("`true`."),
    "Set-Cookie": header("`contact-sent=true; HttpOnly; Path=/; SameSite=lax`."),
}


@post(
    "/api/contact",
    status_code=200,
    summary="Send the contact form",
    tags=["contact"],
    responses={200: ResponseSpec(ContactSent, description="Sent.", generate_examples=False)},
    operation_class=operation(
        body=_FORM,
        parameters=[_SOURCE, _SESSION],
        headers=_SENT_HEADERS,
        errors=(400, 408, 413, 415, 429, 503),
        bad_request=CONTACT_INVALID,
    ),
)
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
