"""The one GraphQL mapping of errors to messages and ``extensions.code`` (REST: ``rest/errors``).

* A domain error (``gateway.errors``), or a driver failure ``to_gateway_error``
  recognises, keeps its message and gives its code: ``BAD_USER_INPUT`` (with
  ``details``), ``UNAUTHENTICATED``, ``FORBIDDEN``, ``NOT_FOUND``, ``CONFLICT``,
  ``RATE_LIMITED`` (with ``retryAfter``), ``INTERNAL_SERVER_ERROR`` for an
  unreachable database (with ``retryAfter``).
* An error of GraphQL itself (syntax, validation, depth and alias limits, a
  variable of the wrong type) is the client's: ``BAD_USER_INPUT``, message kept.
* Anything else is ``INTERNAL_SERVER_ERROR``, "Internal server error"; only in
  development does ``extensions.exception`` carry the original message and stack.
"""

from __future__ import annotations

import logging
import re
import traceback

from graphql import GraphQLError, GraphQLFormattedError

from gateway.errors import (
    GatewayError,
    Unavailable,
    ValidationFailed,
    to_gateway_error,
)

__all__ = [
    "INTERNAL_ERROR",
    "classify",
    "format_error",
    "format_refusal",
    "log_unexpected",
    "release",
]

INTERNAL_ERROR = "Internal server error"

log = logging.getLogger("gateway.errors")

_SUGGESTION = re.compile(r" Did you mean [^?]*\?")


def _cause(error: GraphQLError) -> BaseException | None:
    """The exception behind ``error``, or None when GraphQL itself refused the request."""
    cause = error.original_error
    while isinstance(cause, GraphQLError):
        cause = cause.original_error
    return cause


def classify(error: GraphQLError) -> GatewayError | None:
    """The domain error ``error`` stands for; None when it is unexpected."""
    cause = _cause(error)
    if cause is None:
        return ValidationFailed(error.message)
    return to_gateway_error(cause)


def format_error(
    error: GraphQLError, *, debug: bool, suggestions: bool = True
) -> GraphQLFormattedError:
    """The error as the client sees it; without ``suggestions``, with no "Did you mean"
    (validation leaves them out itself; values of variables are checked later, and say it)."""
    formatted = error.formatted
    known = classify(error)
    if known is None:
        formatted["message"] = INTERNAL_ERROR
        formatted["extensions"] = {"code": "INTERNAL_SERVER_ERROR"}
        cause = _cause(error)
        if debug and cause is not None:
            formatted["extensions"]["exception"] = {
                "message": f"{type(cause).__name__}: {cause}",
                "stacktrace": traceback.format_exception(cause),
            }
        return formatted
    formatted["message"] = known.message if suggestions else _SUGGESTION.sub("", known.message)
    formatted["extensions"] = known.extensions
    return formatted


def format_refusal(error: GatewayError) -> GraphQLFormattedError:
    """A domain error that refused the request before GraphQL ran, as the client sees it."""
    return {"message": error.message, "extensions": error.extensions}


def log_unexpected(error: GraphQLError) -> None:
    """Log what the client is only told was an internal error (and database outages)."""
    known = classify(error)
    if known is None:
        log.error("unexpected error in GraphQL at %s", error.path, exc_info=_cause(error))
    elif isinstance(known, Unavailable):
        log.warning("database unavailable: %s", _cause(error))


def release(errors: list[GraphQLError]) -> None:
    """Drop the tracebacks of errors already answered and logged.

    A traceback's frames hold the error (and the executor, and the answer
    being built): a reference cycle, freed only by a full garbage collection.
    """
    for error in errors:
        seen: set[int] = set()
        current: BaseException | None = error
        while current is not None and id(current) not in seen:
            seen.add(id(current))
            current.__traceback__ = None
            if isinstance(current, GraphQLError):
                current = current.original_error
            else:
                current = current.__cause__ or current.__context__
