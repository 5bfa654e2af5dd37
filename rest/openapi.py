"""The REST API's OpenAPI document (``/schema/openapi.json``): its config and shared pieces.

Litestar documents what it sees in a handler's signature: path and query parameters
(declared with ``rest._http.query``, so with the core's constraints), the returned
type, and a JSON body bound through ``rest._http.StrictBody`` (the model's msgspec
schema, so its ``Meta``). What it cannot see, each handler names with
``operation_class=operation(...)``: the error statuses it answers (shared
components, ``#/components/responses/...``, with their bodies and headers; those
implied by a JSON body, a token or query values are added here), success headers,
the request headers it reads, and the bodies read by hand: files and uploads (raw
bytes, multipart).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from importlib.metadata import version
from typing import Any, Final

import msgspec
from litestar.handlers import HTTPRouteHandler
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import (
    Components,
    OpenAPIHeader,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Parameter,
    Reference,
    RequestBody,
    Schema,
    SecurityRequirement,
    SecurityScheme,
    Tag,
)
from litestar.openapi.spec.enums import OpenAPIFormat, OpenAPIType
from litestar.types import Method
from litestar.types.internal_types import PathParameterDefinition
from msgspec import UNSET, UnsetType

from rest.docs_ui import docs_plugins, docs_router

__all__ = [
    "CONDITIONAL_GET",
    "CONTACT_INVALID",
    "FILE_BODY",
    "IF_MATCH",
    "LOCATION",
    "NOT_MODIFIED",
    "OPTIONAL_TOKEN",
    "SIGNED_IN",
    "VALIDATORS",
    "header",
    "model_schema",
    "openapi_config",
    "operation",
    "parameter",
]

BEARER: Final = "bearerAuth"
SIGNED_IN: Final[list[SecurityRequirement]] = [{BEARER: []}]
# Public, but a token is read when one is sent (and refused with 401 when bad).
OPTIONAL_TOKEN: Final[list[SecurityRequirement]] = [{}, {BEARER: []}]

JSON: Final = "application/json"
# msgspec's keywords (JSON Schema) to the fields of Litestar's ``Schema``.
_SCHEMA_FIELDS: Final = {
    f.metadata.get("alias", f.name): f.name for f in dataclasses.fields(Schema)
}


class ErrorBody(msgspec.Struct):
    """Every REST error (but the contact form's validation): a message, and what failed."""

    error: str
    details: list[str] | UnsetType = UNSET


class InternalError(ErrorBody):
    """``{"error": "Internal server error"}``; ``message`` and ``stack`` in development only."""

    message: str | UnsetType = UNSET
    stack: list[str] | UnsetType = UNSET


class ContactErrors(msgspec.Struct):
    """The contact form's legacy failure: every problem found, in the legacy wording."""

    errors: list[str]


def _schema(node: Mapping[str, Any]) -> Schema:
    """A JSON Schema (as msgspec writes one, without references) as Litestar's ``Schema``."""
    fields: dict[str, Any] = {}
    for keyword, value in node.items():
        if keyword == "properties":
            value = {name: _schema(sub) for name, sub in value.items()}
        elif keyword in {"anyOf", "oneOf", "allOf"}:
            value = [_schema(sub) for sub in value]
        elif keyword in {"items", "additionalProperties"} and isinstance(value, dict):
            value = _schema(value)
        fields[_SCHEMA_FIELDS[keyword]] = value
    return Schema(**fields)


def model_schema(model: type[Any], required: Sequence[str] | None = None) -> Schema:
    """``model``'s JSON Schema: msgspec's, so its types and ``Meta`` (constraints, and the
    descriptions and patterns of rules checked in code); ``required`` replaces the required
    fields where a default stands for a refused value (the contact form). ``object`` is any
    JSON."""
    if model is object:
        return Schema()
    _, definitions = msgspec.json.schema_components([model])
    node = definitions[model.__name__]
    if required is not None:
        node["required"] = list(required)
    return _schema(node)


FILE_BODY: Final = RequestBody(
    content={
        "*/*": OpenAPIMediaType(schema=Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY))
    },
    description="The file's bytes, of any type: the request's `Content-Type` is stored as "
    "the file's type (`application/octet-stream` when absent). No body stores an empty file.",
    required=False,
)


def parameter(
    name: str,
    where: str,
    description: str,
    *,
    schema: Schema | None = None,
) -> Parameter:
    """A parameter Litestar cannot see (the handler reads it by hand), or one it describes too
    tersely (a generated parameter of the same name is replaced). A string by default."""
    return Parameter(
        name=name,
        param_in=where,
        schema=schema or Schema(type=OpenAPIType.STRING),
        description=description,
        required=where == "path",
    )


CONDITIONAL_GET: Final = [
    parameter(
        "If-None-Match",
        "header",
        "The `ETag`s of copies the client holds: 304 with no body when one is current "
        "(whatever `Cache-Control` the request carries).",
    ),
    parameter(
        "If-Modified-Since",
        "header",
        "An HTTP date, read only without `If-None-Match` (and never for a page): 304 when "
        "the record has not changed since.",
    ),
]
IF_MATCH: Final = parameter(
    "If-Match",
    "header",
    "The `ETag` the change is based on (a record's, or a list naming it): 412 and nothing "
    "written when the record has changed since. Left out (or `*`): no check.",
)


def header(
    description: str, *, schema: Schema | None = None, required: bool = True
) -> OpenAPIHeader:
    """A response header (a string by default)."""
    return OpenAPIHeader(
        schema=schema or Schema(type=OpenAPIType.STRING), description=description, required=required
    )


LOCATION: Final = header("Where the created resource is read.")
# What a record or a page answers (``rest/caching.py``), on a 200 and a 304 alike.
VALIDATORS: Final = {
    "ETag": header(
        'A strong tag of this representation: a record\'s is `"v<version>..."` (give it back '
        "as `If-None-Match` to read, `If-Match` to change or delete)."
    ),
    "Last-Modified": header("When the record (a page: its newest record) last changed."),
    "Cache-Control": header(
        "Products: `public, max-age=<GATEWAY_CACHE_MAX_AGE>`; users: `private, no-cache`."
    ),
    "Vary": header("`Authorization` on users (the email depends on the caller).", required=False),
}
# ``operation(others=NOT_MODIFIED)`` of a record's or a page's GET.
NOT_MODIFIED: Final = {
    "304": OpenAPIResponse(
        description="Not modified: `If-None-Match` names the current representation (or, "
        "without it, on a single record, `If-Modified-Since` is not before its last change), "
        "whatever `Cache-Control` the request carries. No body; the same validators.",
        headers=dict(VALIDATORS),
    )
}

# --- errors ----------------------------------------------------------------------------

CONTACT_INVALID: Final = "ContactInvalid"
_ERROR_NAMES: Final = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    408: "RequestTimeout",
    409: "Conflict",
    412: "PreconditionFailed",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    416: "RangeNotSatisfiable",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}
# What reading a JSON body can answer: bad JSON or fields, a stalled body, too large a
# body, another content type.
JSON_BODY_ERRORS: Final = (400, 408, 413, 415)
_RETRY_AFTER: Final[dict[str, OpenAPIHeader | Reference]] = {
    "Retry-After": OpenAPIHeader(
        schema=Schema(type=OpenAPIType.INTEGER, minimum=1),
        description="Seconds to wait before trying again.",
        required=True,
    )
}


def _error(
    description: str,
    model: type[Any] = ErrorBody,
    headers: dict[str, OpenAPIHeader | Reference] | None = None,
) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=description,
        content={JSON: OpenAPIMediaType(schema=model_schema(model))},
        headers=headers,
    )


def _error_responses() -> dict[str, OpenAPIResponse | Reference]:
    return {
        "BadRequest": _error(
            "Bad input: malformed JSON, a wrong type, an unknown field, a missing field, a "
            "broken rule, or a bad query value. `details` lists every failing field at once as "
            "`<field>: <problem>` (a missing one as `<field>: required`)."
        ),
        CONTACT_INVALID: OpenAPIResponse(
            description="The form is invalid: `errors` lists every problem, in the legacy "
            'wording ("Name must be at least 2 characters long", ...). A refused query '
            "value (`source` given twice, an operator-like key) is a `BadRequest` body.",
            content={
                JSON: OpenAPIMediaType(
                    schema=Schema(any_of=[model_schema(ContactErrors), model_schema(ErrorBody)])
                )
            },
        ),
        "Unauthorized": _error(
            "Not signed in: no token, or a token refused (malformed, expired, badly signed, its "
            "user deleted or their password changed since it was issued).",
            headers={"WWW-Authenticate": header("`Bearer`.")},
        ),
        "Forbidden": _error("Signed in, but not allowed (another user's record, admin only)."),
        "NotFound": _error("Not found, or the id is malformed."),
        "RequestTimeout": _error("The client stalled sending the body (`GATEWAY_BODY_TIMEOUT`)."),
        "Conflict": _error("Taken: an email already registered, a file path already used."),
        "PreconditionFailed": _error(
            "`If-Match` names none of the current versions (the record changed or went since "
            "it was read): nothing was done."
        ),
        "PayloadTooLarge": _error("The body or file is over its size limit; nothing was stored."),
        "UnsupportedMediaType": _error("The body's `Content-Type` is not the one this reads."),
        "RangeNotSatisfiable": _error(
            "The `Range` lies wholly past the end of the file.",
            headers={"Content-Range": header("`bytes */<size>`: the file's size.")},
        ),
        "TooManyRequests": _error("Rate limited.", headers=_RETRY_AFTER),
        "InternalServerError": _error("Unexpected failure.", InternalError),
        "ServiceUnavailable": _error("The database does not answer.", headers=_RETRY_AFTER),
    }


def operation(
    *,
    errors: Iterable[int] = (),
    body: RequestBody | None = None,
    parameters: Sequence[Parameter] = (),
    headers: Mapping[str, OpenAPIHeader] | None = None,
    content: Mapping[str, OpenAPIMediaType] | None = None,
    bad_request: str = _ERROR_NAMES[400],
    others: Mapping[str, OpenAPIResponse] | None = None,
) -> type[Operation]:
    """An ``operation_class`` completing what Litestar generates for a handler.

    Args:
        errors: the error statuses the operation answers. Added to them: 500 always,
            ``JSON_BODY_ERRORS`` with a ``StrictBody``, 401 where a token is read
            (``security``), 400 where query parameters are declared (bad values, and
            ``rest._http.check_query`` refuses operator-like and repeated keys).
        body: the request body, where Litestar cannot document it (no ``StrictBody``).
        parameters: parameters read by hand, or replacing generated ones of the same name.
        headers: headers of the success response.
        content: the success response's content, when the returned type does not tell it.
        bad_request: the response component for 400.
        others: further responses that are not errors, by status (206, 304).
    """
    names = {**_ERROR_NAMES, 400: bad_request}

    def references(statuses: Iterable[int]) -> dict[str, OpenAPIResponse | Reference]:
        return {
            str(status): Reference(ref=f"#/components/responses/{names[status]}")
            for status in sorted({*statuses, 500})
        }

    @dataclasses.dataclass
    class DocumentedOperation(Operation):
        def __post_init__(self) -> None:
            statuses = {*errors, *(JSON_BODY_ERRORS if self.request_body and not body else ())}
            if self.security:
                statuses.add(401)
            if body is not None:
                self.request_body = body
            given = {
                (p.name, p.param_in): p for p in self.parameters or () if isinstance(p, Parameter)
            }
            given.update({(p.name, p.param_in): p for p in parameters})
            if any(where == "query" for _, where in given):
                statuses.add(400)
            self.parameters = list(given.values()) or None
            # Litestar's generated errors (a 400 for any handler with parameters) have
            # Litestar's body, not the gateway's: only the success response is kept.
            success = {
                status: response
                for status, response in (self.responses or {}).items()
                if status.startswith("2") and isinstance(response, OpenAPIResponse)
            }
            for response in success.values():
                if content is not None:
                    response.content = dict(content)
                response.headers = {**(response.headers or {}), **(headers or {})} or None
            self.responses = {**success, **(others or {}), **references(statuses)}

    return DocumentedOperation


# --- the document ----------------------------------------------------------------------

_DESCRIPTION: Final = """\
The gateway's REST API: the legacy endpoints, as their clients know them.

JSON in and out (UTF-8); dates are ISO 8601 in UTC; ids are 24-hex strings, and a
malformed id is a 404. Request bodies are strict: an unknown field or a wrong type is
a 400. Errors are `{"error": "...", "details": ["<field>: <problem>", ...]}`, every
failing field in one answer (the contact form keeps its legacy `{"errors": [...]}`).
Names, emails, titles and categories refuse control characters, and names and emails
bidi overrides and isolates; free text (descriptions, post content, bios) keeps tab,
line feed and carriage return but refuses other control characters. A method a path
does not take is a 405 with an `Allow` header.

Sign in with `POST /api/auth/login` and send the token as `Authorization: Bearer
<token>` (the Authorize button, here). A token that is sent is checked wherever the
caller matters, and a refused one is a 401 there even on a public operation.
"""

_TAGS: Final = [
    Tag(name="auth", description="Logging in and checking a token."),
    Tag(
        name="users", description="Accounts: sign-up, reading (signed in), changes (self or admin)."
    ),
    Tag(name="products", description="The catalogue: anyone reads, admins write."),
    Tag(name="files", description="Files by path: anyone reads, signed-in users upload."),
    Tag(name="contact", description="The legacy contact form."),
    Tag(name="hello", description="The legacy greeting and echo."),
    Tag(name="health", description="Probes for orchestrators."),
]


def _operation_id(
    handler: HTTPRouteHandler, method: Method, path_components: list[str | PathParameterDefinition]
) -> str:
    """``listUsers`` for ``list_users``: the handler's name, as clients' generators like it."""
    first, *rest = handler.handler_name.split("_")
    return first + "".join(word.title() for word in rest)


def openapi_config(swagger_ui: bool = True) -> OpenAPIConfig:
    """The document's config, with the offline docs page unless ``swagger_ui`` is off (a
    new one per app: Litestar changes it in place)."""
    return OpenAPIConfig(
        title="gateway",
        version=version("gateway"),
        description=_DESCRIPTION,
        tags=_TAGS,
        components=Components(
            responses=_error_responses(),
            security_schemes={
                BEARER: SecurityScheme(
                    type="http",
                    scheme="bearer",
                    bearer_format="JWT",
                    description="The `token` from `POST /api/auth/login`.",
                )
            },
        ),
        operation_id_creator=_operation_id,
        render_plugins=docs_plugins(swagger_ui),
        openapi_router=docs_router(),
    )
