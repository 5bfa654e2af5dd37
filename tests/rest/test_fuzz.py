"""Schemathesis against the gateway's own OpenAPI document, over real HTTP.

Every REST operation of ``/schema/openapi.json`` gets generated requests (valid
ones, and ones that break the schema), sent anonymously, with a user's token and
with an admin's, to a real ``gateway serve`` process, and checked with every
check schemathesis has: no 5xx; a documented status, content type, headers and
body; requests the document calls valid are accepted and invalid ones refused;
a missing required header or a wrong method refused. The run is derandomized,
so it is the same run each time.

``GET /api/products/events`` is left out: an event stream never ends, so there is
no answer to check (tests/rest/test_product_events.py reads it as a client does).
One check is left out for one operation, because a schema cannot say it:
``POST /api/upload`` judges the image by its bytes (JPEG, PNG or GIF), so a
schema-valid upload (any bytes) is rightly refused; its acceptance of a real
image is checked in ``test_answers_about_real_records_are_documented``.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from pymongo import MongoClient
from schemathesis.specs.openapi.checks import positive_data_acceptance

from gateway.app import create_app
from gateway.config import Settings
from tests.conftest import ADMIN_PASSWORD, TEST_SECRET, USER_PASSWORD
from tests.live import gateway_env, live_gateway, run_cli

MAX_EXAMPLES = 25  # per operation and caller: a modest run inside `make test`
# Checks that cannot hold for an operation, and why (see the module's docstring).
EXCLUDED_CHECKS = {"POST /api/upload": [positive_data_acceptance]}
CALLERS = ["anonymous", "user", "admin"]
# The REST API: GraphQL has its own schema (and tests).
REST_PATHS = r"^/(api/|healthz$|readyz$)"


@dataclass(frozen=True)
class Gateway:
    base_url: str
    headers: dict[str, dict[str, str]]
    user_id: str


def _token(base_url: str, email: str, password: str) -> dict[str, str]:
    response = httpx.post(
        f"{base_url}/api/auth/login", json={"email": email, "password": password}, timeout=30
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.fixture(scope="module")
def gateway(mongo_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A gateway process on a database of its own, with a user and an admin."""
    data_dir: Path = tmp_path_factory.mktemp("fuzz")
    db_name = f"fuzz_{uuid.uuid4().hex[:12]}"
    env = gateway_env(data_dir, mongodb_uri=mongo_uri, db_name=db_name)
    admin_email, user_email = "fuzz-admin@example.com", "fuzz-user@example.com"
    created = run_cli(
        ["create-admin", "--email", admin_email, "--password", ADMIN_PASSWORD, "--name", "Admin"],
        env,
    )
    assert created.returncode == 0, created.stderr
    try:
        with live_gateway(env) as live:
            served = httpx.get(f"{live.base_url}/schema/openapi.json", timeout=30)
            assert served.json() == DOCUMENT
            signed_up = httpx.post(
                f"{live.base_url}/api/users",
                json={"name": "Fuzz User", "email": user_email, "password": USER_PASSWORD},
                timeout=30,
            )
            assert signed_up.status_code == 201, signed_up.text
            yield Gateway(
                live.base_url,
                {
                    "anonymous": {},
                    "user": _token(live.base_url, user_email, USER_PASSWORD),
                    "admin": _token(live.base_url, admin_email, ADMIN_PASSWORD),
                },
                signed_up.json()["id"],
            )
    finally:
        with MongoClient(mongo_uri) as client:
            client.drop_database(db_name)


def _document() -> dict[str, Any]:
    """The OpenAPI document as the gateway makes it (no database needed to read it).

    Schemathesis needs it to collect the tests; ``gateway`` checks that the
    running gateway serves this very document.
    """
    app = create_app(Settings(jwt_secret=TEST_SECRET))
    document: dict[str, Any] = json.loads(msgspec.json.encode(app.openapi_schema.to_schema()))
    return document


DOCUMENT = _document()
# The event stream stays open until the client leaves: no answer to check as a whole
# (tests/rest/test_product_events.py reads it as a client does).
STREAMS = "/api/products/events"
schema = (
    schemathesis.openapi.from_dict(DOCUMENT).include(path_regex=REST_PATHS).exclude(path=STREAMS)
)
schema.config.generation.update(
    modes=[schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE],
    max_examples=MAX_EXAMPLES,
    deterministic=True,
    # The caller is chosen by the test: no made-up Authorization headers.
    with_security_parameters=False,
)
# A well-formed If-Match naming another version (or any, of a file that is not there)
# is rightly refused with 412, as a taken path is with 409: state, not shape.
_acceptance = schema.config.checks.positive_data_acceptance
_acceptance.expected_statuses = [*_acceptance.expected_statuses, "412"]


def _call_and_validate(
    gateway: Gateway, caller: str, case: schemathesis.Case
) -> schemathesis.Response:
    """Send ``case`` as ``caller`` and run every check on the answer (but those excluded)."""
    operation = f"{case.method.upper()} {case.path}"
    return case.call_and_validate(
        base_url=gateway.base_url,
        headers=gateway.headers[caller],
        excluded_checks=EXCLUDED_CHECKS.get(operation, []),
        timeout=30,
    )


def _call(
    gateway: Gateway, caller: str, operation: str, status: int, **case: Any
) -> schemathesis.Response:
    """Send one request (``operation`` is "METHOD /path"); its answer must be documented,
    and have ``status``."""
    method, path = operation.split(" ")
    response = _call_and_validate(gateway, caller, schema[path][method].Case(**case))
    assert response.status_code == status, response.text
    return response


def test_answers_about_real_records_are_documented(gateway: Gateway) -> None:
    """The answers generated requests hardly reach: they need the ids of real records.

    Runs before the fuzzing, which spends the rate limits (contact: 10 in 10 minutes).
    """
    call = functools.partial(_call, gateway)
    me = {"user_id": gateway.user_id}
    call("user", "GET /api/users/{user_id}", 200, path_parameters=me)
    call("user", "PUT /api/users/{user_id}", 200, path_parameters=me, body={"name": "Fuzzy"})
    call("admin", "PUT /api/users", 200, query={"id": gateway.user_id}, body={})
    call("user", "GET /api/users", 200, query={"page": 1, "limit": 1})

    def sign_up() -> str:
        email = f"{uuid.uuid4().hex[:12]}@example.com"
        body = {"name": "Doomed", "email": email, "password": USER_PASSWORD}
        return str(call("admin", "POST /api/users", 201, body=body).json()["id"])

    call("admin", "DELETE /api/users/{user_id}", 204, path_parameters={"user_id": sign_up()})
    call("admin", "DELETE /api/users", 204, query={"id": sign_up()})

    body = {"name": "Lamp", "category": "home", "price": 19.5}
    product = {"product_id": call("admin", "POST /api/products", 201, body=body).json()["id"]}
    call("anonymous", "GET /api/products/{product_id}", 200, path_parameters=product)
    call("admin", "PUT /api/products/{product_id}", 200, path_parameters=product, body={"price": 0})
    call("anonymous", "GET /api/products", 200, query={"category": "home"})
    call("admin", "DELETE /api/products/{product_id}", 204, path_parameters=product)

    file = {"path": "fuzz/notes.txt"}
    text = {"body": b"notes", "media_type": "text/plain"}
    call("user", "POST /api/files/{path}", 201, path_parameters=file, **text)
    call("anonymous", "GET /api/files/{path}", 200, path_parameters=file)
    call("user", "DELETE /api/files/{path}", 204, path_parameters=file)
    png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"
    call("user", "POST /api/upload", 200, body={"file": png}, media_type="multipart/form-data")

    form = {"name": "Ann", "email": "ann@example.com", "message": "Hello there, gateway."}
    call("anonymous", "POST /api/contact", 200, body=form, query={"source": "fuzz"})
    call("user", "GET /api/protected", 200)


@schema.parametrize()
@pytest.mark.parametrize("caller", CALLERS)
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_every_answer_is_documented(case: schemathesis.Case, caller: str, gateway: Gateway) -> None:
    _call_and_validate(gateway, caller, case)
