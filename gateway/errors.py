"""Domain errors, raised by services and mapped once per front door.

The hierarchy::

    GatewayError                  500 INTERNAL_SERVER_ERROR
    ├── ValidationFailed          400 BAD_USER_INPUT (``details`` per field)
    │   └── ContactInvalid        400, legacy ``{"errors": [...]}`` body
    ├── Unauthenticated           401 UNAUTHENTICATED
    ├── Forbidden                 403 FORBIDDEN
    ├── NotFound                  404 NOT_FOUND
    ├── Conflict                  409 CONFLICT
    ├── PreconditionFailed        412 CONFLICT (``If-Match``, an expected version)
    ├── RequestTimeout            408 BAD_USER_INPUT (the client stalled its body)
    ├── PayloadTooLarge           413 BAD_USER_INPUT
    ├── UnsupportedMediaType      415 BAD_USER_INPUT
    ├── RateLimited               429 RATE_LIMITED (``retry_after``)
    └── Unavailable               503 INTERNAL_SERVER_ERROR (``retry_after``)

Each carries its GraphQL ``extensions`` (``retryAfter`` included) and the HTTP
``headers`` of a refusal (``WWW-Authenticate``, ``Retry-After``), so both doors
answer alike without restating which error gets which.

``to_gateway_error`` turns anything else (driver failures included) into one of these.
"""

from __future__ import annotations

from collections.abc import Sequence

from pymongo.errors import (
    ConnectionFailure,
    OperationFailure,
    PyMongoError,
    ServerSelectionTimeoutError,
)

__all__ = [
    "Conflict",
    "ContactInvalid",
    "Forbidden",
    "GatewayError",
    "NotFound",
    "PayloadTooLarge",
    "PreconditionFailed",
    "RateLimited",
    "RequestTimeout",
    "Unauthenticated",
    "Unavailable",
    "UnsupportedMediaType",
    "ValidationFailed",
    "to_gateway_error",
]


class GatewayError(Exception):
    """Base of every error a service raises on purpose."""

    status_code = 500
    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str = "Internal server error") -> None:
        super().__init__(message)
        self.message = message

    @property
    def extensions(self) -> dict[str, object]:
        """What GraphQL clients see under ``extensions``."""
        return {"code": self.code}

    @property
    def headers(self) -> dict[str, str]:
        """The HTTP headers an answer refusing with this error carries (both doors)."""
        return {}


class ValidationFailed(GatewayError):
    """Input broke a rule; ``details`` lists ``"<field>: <problem>"``."""

    status_code = 400
    code = "BAD_USER_INPUT"

    def __init__(self, message: str = "Invalid input", details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.details = list(details)

    @property
    def extensions(self) -> dict[str, object]:
        extensions = super().extensions
        if self.details:
            extensions["details"] = self.details
        return extensions


class ContactInvalid(ValidationFailed):
    """The contact form failed; REST keeps the legacy ``{"errors": [...]}`` body."""


class Unauthenticated(GatewayError):
    """No valid credentials: no token, a refused token, or wrong login details."""

    status_code = 401
    code = "UNAUTHENTICATED"

    @property
    def headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(GatewayError):
    """The caller is known but may not do this."""

    status_code = 403
    code = "FORBIDDEN"


class NotFound(GatewayError):
    """The record does not exist, or its id is malformed."""

    status_code = 404
    code = "NOT_FOUND"


class Conflict(GatewayError):
    """A unique value is taken (email, file path)."""

    status_code = 409
    code = "CONFLICT"


class PreconditionFailed(GatewayError):
    """The record is not the one the caller named (``If-Match``, an expected version):
    it changed or went since they read it, and nothing was done."""

    status_code = 412
    code = "CONFLICT"


class RequestTimeout(GatewayError):
    """The client sent its body too slowly; the request is abandoned."""

    status_code = 408
    code = "BAD_USER_INPUT"


class PayloadTooLarge(GatewayError):
    """A body or file is over its limit; nothing was stored."""

    status_code = 413
    code = "BAD_USER_INPUT"


class UnsupportedMediaType(GatewayError):
    """The request's content type is not the one the endpoint reads."""

    status_code = 415
    code = "BAD_USER_INPUT"


class _RetryLater(GatewayError):
    """An error the client may retry after ``retry_after`` seconds (body and header say so)."""

    retry_after: int

    @property
    def extensions(self) -> dict[str, object]:
        return {**super().extensions, "retryAfter": self.retry_after}

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class RateLimited(_RetryLater):
    """Too many requests; retry after ``retry_after`` seconds."""

    status_code = 429
    code = "RATE_LIMITED"

    def __init__(self, message: str = "Too many requests", retry_after: int = 1) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(_RetryLater):
    """The database does not answer; retry after ``retry_after`` seconds."""

    status_code = 503
    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str = "Database unavailable", retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def to_gateway_error(exc: BaseException) -> GatewayError | None:
    """Classify ``exc``: a domain error as is, an unreachable database as ``Unavailable``.

    Returns ``None`` for anything unexpected, which each front door masks as a 500.
    """
    if isinstance(exc, GatewayError):
        return exc
    if isinstance(exc, ConnectionFailure | ServerSelectionTimeoutError):
        return Unavailable()
    if isinstance(exc, PyMongoError) and exc.timeout:
        # The operation's deadline (GATEWAY_MONGO_TIMEOUT_MS) passed: ExecutionTimeout,
        # or "operation exceeded time limit" from the server.
        return Unavailable()
    if isinstance(exc, OperationFailure) and exc.code in {11600, 11602, 13435, 189, 91}:
        # Interrupted, not primary, shutting down: the cluster is failing over.
        return Unavailable()
    return None
