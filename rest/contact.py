"""``/api/contact``: the legacy contact form, with its ``{"errors": [...]}`` shape."""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

from litestar import Request, Response, post
from litestar.datastructures import Cookie
from litestar.openapi import ResponseSpec
from litestar.params import CookieParameter, JSONBody

from gateway.errors import ContactInvalid
from gateway.http import ServicesDep, client_key
from gateway.models import ContactSubmission
from rest._http import StrictBody, check_request, query
from rest.openapi import CONTACT_INVALID, header, operation

__all__ = ["submit_contact"]

SUCCESS = {"success": True, "message": "Contact form submitted successfully"}


class ContactSent(TypedDict):
    success: bool
    message: str


class StrictContactBody(StrictBody[ContactSubmission]):
    """The form, refused with the legacy ``{"errors": [...]}``; the document calls the
    fields the model lets default (to get their legacy messages) required."""

    error = ContactInvalid
    documented_required = ("name", "email", "message")


# --- the OpenAPI document (rest/openapi.py) ---
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
    dto=StrictContactBody,
    before_request=check_request,
    operation_class=operation(
        headers=_SENT_HEADERS,
        errors=(429, 503),
        bad_request=CONTACT_INVALID,
    ),
)
async def submit_contact(
    request: Request[Any, Any, Any],
    data: JSONBody[ContactSubmission],
    services: ServicesDep,
    source: Annotated[
        str | None, query(description="Where the form was sent from; stored with the message.")
    ] = None,
    session_id: Annotated[
        str | None,
        CookieParameter(
            name="sessionId", description="The visitor's session; stored with the message."
        ),
    ] = None,
) -> Response[dict[str, Any]]:
    await services.contact.submit(
        data,
        source=source,
        user_agent=request.headers.get("user-agent"),
        session_id=session_id,
        client=client_key(request),
    )
    return Response(
        SUCCESS,
        headers={"X-Contact-Processed": "true"},
        cookies=[Cookie(key="contact-sent", value="true", path="/", httponly=True)],
    )
