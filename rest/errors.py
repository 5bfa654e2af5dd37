"""The one REST mapping of errors to status codes and JSON bodies."""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

from litestar import Response
from litestar.exceptions import HTTPException, ValidationException

from gateway.errors import (
    ContactInvalid,
    GatewayError,
    Unavailable,
    to_gateway_error,
)
from gateway.http import AnyRequest, http_status
from rest._http import query_name
from rest.caching import NO_STORE

__all__ = ["exception_handlers"]

log = logging.getLogger("gateway.errors")


def gateway_error_response(exc: GatewayError) -> Response[Any]:
    body: dict[str, Any]
    if isinstance(exc, ContactInvalid):
        body = {"errors": exc.details or [exc.message]}
    else:
        body = {"error": exc.message}
        details = getattr(exc, "details", None)
        if details:
            body["details"] = details
    return Response(body, status_code=exc.status_code, headers={**exc.headers, **NO_STORE})


# msgspec's words for a broken bound, as Litestar's binding reports it.
_BOUND = re.compile(r"Expected `\w+`( of length)? (?P<op>>=|<=) (?P<bound>\S+)")
_BOUND_WORDS = {">=": "at least", "<=": "at most"}


def _problem(message: str) -> str:
    """A query value's problem in the contract's words (``must be at most 100``)."""
    match = _BOUND.fullmatch(message)
    if match is None:
        return message
    unit = " characters" if match[1] else ""
    return f"must be {_BOUND_WORDS[match['op']]} {match['bound']}{unit}"


def _http_exception(request: AnyRequest, exc: HTTPException) -> Response[Any]:
    body: dict[str, Any] = {"error": exc.detail}
    if isinstance(exc, ValidationException) and isinstance(exc.extra, list):
        items = [item for item in exc.extra if isinstance(item, dict)]
        # A declared query value (``rest._http.query``) failed its type or constraint:
        # Litestar's detail restates the URL, and its key is the handler's argument.
        if any(item.get("source") == "query" for item in items):
            body["error"] = "Invalid query parameter"
        body["details"] = [
            f"{query_name(request.route_handler, str(item.get('key', 'request')))}: "
            f"{_problem(str(item.get('message', 'invalid')))}"
            for item in items
        ]
    return Response(body, status_code=http_status(exc), headers={**(exc.headers or {}), **NO_STORE})


def _gateway_error(_: AnyRequest, exc: GatewayError) -> Response[Any]:
    return gateway_error_response(exc)


def _unexpected(request: AnyRequest, exc: Exception) -> Response[Any]:
    known = to_gateway_error(exc)
    if known is not None:
        if isinstance(known, Unavailable):
            log.warning("database unavailable: %s", exc)
        return gateway_error_response(known)
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    body: dict[str, Any] = {"error": "Internal server error"}
    if request.app.state.settings.is_development:
        body["message"] = f"{type(exc).__name__}: {exc}"
        body["stack"] = traceback.format_exception(exc)
    return Response(body, status_code=500, headers=NO_STORE)


exception_handlers: dict[Any, Any] = {
    HTTPException: _http_exception,
    GatewayError: _gateway_error,
    Exception: _unexpected,
}
