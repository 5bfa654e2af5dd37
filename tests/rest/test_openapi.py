"""The OpenAPI document is complete: every REST operation, status, body, parameter and
header that CONTRACT.md names, and the token where one is needed.

Whether the answers match the document is the fuzzer's business (test_fuzz.py);
this pins what the document says.
"""

from __future__ import annotations

import json
import re
from typing import Any

import msgspec
import pytest
import schemathesis
from litestar import Litestar
from litestar.routes import HTTPRoute

from gateway.app import create_app
from gateway.config import Settings
from tests.conftest import TEST_SECRET

Document = dict[str, Any]

# Not REST operations: metrics for Prometheus, GraphQL (its SDL documents it), and the
# documentation itself.
EXCLUDED_PREFIXES = ("/metrics", "/graphql", "/schema")
EXCLUDED_PAGES = {"/", "/docs"}  # the front page and its way to the API docs, not the API
JSON = "application/json"
# The contract's table, with its "Everywhere" rules: every status each operation can
# answer, besides 500 (documented everywhere) and 408 (a stalled body, the gateway's own
# limit) where a body is read.
STATUSES: dict[tuple[str, str], set[int]] = {
    ("GET", "/api/hello"): {200},
    ("POST", "/api/hello"): {200, 400, 413, 415},
    ("GET", "/api/users"): {200, 304, 400, 401, 503},
    ("POST", "/api/users"): {201, 400, 401, 403, 409, 413, 415, 429, 503},
    ("PUT", "/api/users"): {200, 400, 401, 403, 404, 409, 412, 413, 415, 503},
    ("DELETE", "/api/users"): {204, 400, 401, 403, 404, 412, 503},
    ("GET", "/api/users/{user_id}"): {200, 304, 401, 404, 503},
    ("PUT", "/api/users/{user_id}"): {200, 400, 401, 403, 404, 409, 412, 413, 415, 503},
    ("DELETE", "/api/users/{user_id}"): {204, 401, 403, 404, 412, 503},
    ("GET", "/api/products"): {200, 304, 400, 503},
    ("POST", "/api/products"): {201, 400, 401, 403, 413, 415, 503},
    ("GET", "/api/products/{product_id}"): {200, 304, 404, 503},
    ("GET", "/api/products/events"): {200, 400, 401, 404, 429, 503},
    ("PUT", "/api/products/{product_id}"): {200, 400, 401, 403, 404, 412, 413, 415, 503},
    ("DELETE", "/api/products/{product_id}"): {204, 401, 403, 404, 412, 503},
    ("GET", "/api/files/{path}"): {200, 206, 304, 400, 404, 416, 503},
    ("POST", "/api/files/{path}"): {201, 400, 401, 409, 413, 503},
    ("DELETE", "/api/files/{path}"): {204, 400, 401, 403, 404, 412, 503},
    ("POST", "/api/upload"): {200, 400, 401, 413, 415, 503},
    ("POST", "/api/contact"): {200, 400, 413, 415, 429, 503},
    ("POST", "/api/auth/login"): {200, 400, 401, 413, 415, 429, 503},
    ("GET", "/api/protected"): {200, 401, 503},
    ("GET", "/healthz"): {200},
    ("GET", "/readyz"): {200, 503},
}
# The operations that read a body, and as what.
BODIES = {
    ("POST", "/api/hello"): JSON,
    ("POST", "/api/users"): JSON,
    ("PUT", "/api/users"): JSON,
    ("PUT", "/api/users/{user_id}"): JSON,
    ("POST", "/api/products"): JSON,
    ("PUT", "/api/products/{product_id}"): JSON,
    ("POST", "/api/files/{path}"): "*/*",
    ("POST", "/api/upload"): "multipart/form-data",
    ("POST", "/api/contact"): JSON,
    ("POST", "/api/auth/login"): JSON,
}
SIGNED_IN = [{"bearerAuth": []}]
# Public, but the token is read (an admin may set a role).
OPTIONAL_TOKEN = [{}, {"bearerAuth": []}]
SECURITY = {
    **{
        operation: SIGNED_IN
        for operation in [
            ("GET", "/api/users"),
            ("PUT", "/api/users"),
            ("DELETE", "/api/users"),
            ("GET", "/api/users/{user_id}"),
            ("PUT", "/api/users/{user_id}"),
            ("DELETE", "/api/users/{user_id}"),
            ("POST", "/api/products"),
            ("PUT", "/api/products/{product_id}"),
            ("DELETE", "/api/products/{product_id}"),
            ("POST", "/api/files/{path}"),
            ("DELETE", "/api/files/{path}"),
            ("POST", "/api/upload"),
            ("GET", "/api/protected"),
        ]
    },
    ("POST", "/api/users"): OPTIONAL_TOKEN,
    ("GET", "/api/products/events"): OPTIONAL_TOKEN,
}
# Headers the contract names, on the success answer.
SUCCESS_HEADERS = {
    **{
        read: {"ETag", "Last-Modified", "Cache-Control"}
        for read in [
            ("GET", "/api/users/{user_id}"),
            ("GET", "/api/products"),
            ("GET", "/api/products/{product_id}"),
        ]
    },
    ("PUT", "/api/users/{user_id}"): {"ETag", "Last-Modified"},
    ("PUT", "/api/products/{product_id}"): {"ETag", "Last-Modified"},
    ("GET", "/api/users"): {"X-Total-Count", "Link", "ETag", "Last-Modified", "Cache-Control"},
    ("POST", "/api/users"): {"Location"},
    ("POST", "/api/products"): {"Location"},
    ("GET", "/api/files/{path}"): {
        "Content-Disposition",
        "Content-Length",
        "ETag",
        "Last-Modified",
        "Accept-Ranges",
        "Cache-Control",
    },
    ("POST", "/api/files/{path}"): {"Location"},
    ("POST", "/api/contact"): {"X-Contact-Processed", "Set-Cookie"},
    ("GET", "/api/products/events"): {"Cache-Control", "X-Accel-Buffering"},
}
ERROR_HEADERS = {
    401: "WWW-Authenticate", 416: "Content-Range", 429: "Retry-After", 503: "Retry-After"
}  # fmt: skip
# Headers of the other answers: a range, a revalidation.
PARTIAL_HEADERS = {"Content-Range", "Content-Length", "ETag"}
NOT_MODIFIED_HEADERS = {"ETag", "Last-Modified", "Cache-Control"}


@pytest.fixture(scope="module")
def app() -> Litestar:
    return create_app(Settings(jwt_secret=TEST_SECRET))


@pytest.fixture(scope="module")
def document(app: Litestar) -> Document:
    """The document as clients get it (JSON)."""
    found: Document = json.loads(msgspec.json.encode(app.openapi_schema.to_schema()))
    return found


def operations(document: Document) -> dict[tuple[str, str], Document]:
    return {
        (method.upper(), path): operation
        for path, item in document["paths"].items()
        if not path.startswith(EXCLUDED_PREFIXES)
        for method, operation in item.items()
        if method in {"get", "put", "post", "delete", "patch"}
    }


def resolve(document: Document, node: Document) -> Document:
    """``node``, or what its ``$ref`` points to."""
    while "$ref" in node:
        *_, kind, name = node["$ref"].split("/")
        node = document["components"][kind][name]
    return node


def test_the_document_is_valid_openapi(document: Document) -> None:
    assert document["openapi"].startswith("3.1")
    schemathesis.openapi.from_dict(document).validate()


def test_every_rest_route_and_method_is_documented(app: Litestar, document: Document) -> None:
    routes = {
        (method, route.path_format)
        for route in app.routes
        if isinstance(route, HTTPRoute)
        and not route.path_format.startswith(EXCLUDED_PREFIXES)
        and route.path_format not in EXCLUDED_PAGES
        for method in route.methods - {"OPTIONS", "HEAD"}
    }
    assert routes == set(STATUSES)
    assert set(operations(document)) == set(STATUSES)
    assert "/metrics" not in document["paths"]


@pytest.mark.parametrize("key", sorted(STATUSES), ids=" ".join)
def test_each_operation_documents_the_contracts_statuses(document: Document, key: Any) -> None:
    operation = operations(document)[key]
    stalled = {408} if key in BODIES else set()
    assert {int(status) for status in operation["responses"]} == STATUSES[key] | stalled | {500}
    for status, response in operation["responses"].items():
        response = resolve(document, response)
        assert response["description"]
        if status in {"204", "304"}:
            assert "content" not in response
            if status == "304":
                assert set(response["headers"]) >= NOT_MODIFIED_HEADERS
            continue
        if status == "206":
            assert set(response["headers"]) >= PARTIAL_HEADERS
        assert response["content"], (key, status)
        if int(status) >= 400:
            schema = resolve(document, response["content"][JSON]["schema"])
            bodies = schema.get("anyOf", [schema])  # the contact form: legacy or general
            assert any(body["required"] in (["error"], ["errors"]) for body in bodies)
            if int(status) in ERROR_HEADERS:
                assert response["headers"][ERROR_HEADERS[int(status)]]["required"] is True
    success = next(r for s, r in operation["responses"].items() if s.startswith("2"))
    assert SUCCESS_HEADERS.get(key, set()) <= set(success.get("headers") or {})


@pytest.mark.parametrize("key", sorted(STATUSES), ids=" ".join)
def test_request_bodies_and_tokens_are_documented(document: Document, key: Any) -> None:
    operation = operations(document)[key]
    if key in BODIES:
        body = operation["requestBody"]
        # No body is an empty file; every other body is required.
        assert body["required"] is (key != ("POST", "/api/files/{path}"))
        assert list(body["content"]) == [BODIES[key]]
    else:
        assert "requestBody" not in operation
    assert operation.get("security") == SECURITY.get(key)
    assert operation["summary"]
    assert operation["tags"]


def test_bodies_carry_the_models_rules(document: Document) -> None:
    def body(method: str, path: str) -> Document:
        content = operations(document)[method, path]["requestBody"]["content"]
        return resolve(document, content[next(iter(content))]["schema"])

    sign_up = body("POST", "/api/users")
    assert sign_up["required"] == ["name", "email", "password"]
    assert sign_up["additionalProperties"] is False
    assert (
        sign_up["properties"]["password"] | {"minLength": 8, "maxLength": 128}
        == (sign_up["properties"]["password"])
    )
    name = re.compile(sign_up["properties"]["name"]["pattern"])
    assert [bool(name.match(value)) for value in ["Al", " Al ", " A ", "x" * 51, "A\x00l"]] == [
        True,
        True,
        False,
        False,
        False,
    ]
    assert sign_up["properties"]["email"]["maxLength"] == 254  # RFC 5321, as the code
    assert "pattern" in sign_up["properties"]["email"]
    assert sign_up["properties"]["role"]["enum"] == ["admin", "user"]
    assert body("PUT", "/api/users/{user_id}")["required"] == []
    product = body("POST", "/api/products")
    assert product["properties"]["price"]["minimum"] == 0
    assert product["required"] == ["name", "category", "price"]
    assert body("POST", "/api/contact")["required"] == ["name", "email", "message"]
    assert body("POST", "/api/auth/login")["required"] == ["email", "password"]
    upload = body("POST", "/api/upload")
    assert upload["required"] == ["file"]
    assert upload["properties"]["file"]["format"] == "binary"
    assert body("POST", "/api/hello") == {}  # any JSON


def test_parameters_read_by_hand_are_documented(document: Document) -> None:
    def parameters(method: str, path: str) -> dict[str, Document]:
        found = operations(document)[method, path].get("parameters", [])
        return {f"{p['in']}:{p['name']}": p for p in found}

    users = parameters("GET", "/api/users")
    assert (
        users["query:limit"]["schema"] | {"minimum": 1, "maximum": 100, "default": 20}
        == (users["query:limit"]["schema"])
    )
    assert users["query:page"]["schema"]["minimum"] == 1
    products = parameters("GET", "/api/products")
    assert set(products) == {
        "query:category", "query:page", "query:limit",
        "header:If-None-Match", "header:If-Modified-Since",
    }  # fmt: skip
    for write in [("PUT", "/api/products/{product_id}"), ("DELETE", "/api/users/{user_id}")]:
        assert "header:If-Match" in parameters(*write)
    assert products["query:limit"]["schema"]["default"] == 10
    assert parameters("PUT", "/api/users")["query:id"]["required"] is True
    assert parameters("DELETE", "/api/users")["query:id"]["required"] is True
    assert set(parameters("POST", "/api/contact")) == {"query:source", "cookie:sessionId"}
    assert parameters("GET", "/api/files/{path}")["path:path"]["schema"]["maxLength"] == 1024
    for key in operations(document):
        for name in (part[1:-1] for part in key[1].split("/") if part.startswith("{")):
            assert parameters(*key)[f"path:{name}"]["required"] is True


def test_the_token_is_an_http_bearer_jwt(document: Document) -> None:
    scheme = document["components"]["securitySchemes"]["bearerAuth"]
    assert scheme | {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"} == scheme
