"""Edges of the REST contract: empty paging values, OPTIONS, mistyped token claims,
clients that leave mid-request."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import jwt
import pytest

from tests.conftest import TEST_SECRET


@pytest.mark.parametrize("path", ["/api/users", "/api/products"])
@pytest.mark.parametrize("field", ["page", "limit"])
async def test_an_empty_paging_value_is_400_naming_the_field(client, alice, path, field):
    response = await client.get(f"{path}?{field}=", headers=alice["headers"])
    assert response.status_code == 400
    assert response.json()["details"] == [f"{field}: must be a positive integer"]
    # Left out, it takes its default.
    assert (await client.get(path, headers=alice["headers"])).status_code == 200


@pytest.mark.parametrize(
    ("path", "methods"),
    [
        ("/api/hello", {"GET", "POST", "OPTIONS"}),
        ("/api/products", {"GET", "POST", "OPTIONS"}),
        ("/api/products/" + "0" * 24, {"GET", "PUT", "DELETE", "OPTIONS"}),
        ("/api/users", {"GET", "POST", "PUT", "DELETE", "OPTIONS"}),
        ("/api/users/" + "0" * 24, {"GET", "PUT", "DELETE", "OPTIONS"}),
        ("/api/files/x", {"GET", "HEAD", "POST", "DELETE", "OPTIONS"}),
        ("/api/auth/login", {"POST", "OPTIONS"}),
    ],
)
async def test_options_lists_every_method_of_the_path(client, path, methods):
    response = await client.options(path)
    assert response.status_code == 204
    assert set(response.headers["allow"].split(", ")) == methods
    # A 405 on the same path names the same methods.
    refused = await client.patch(path)
    assert refused.status_code == 405
    assert set(refused.headers["allow"].split(", ")) == methods


def _forged(**changes: Any) -> dict[str, str]:
    now = int(time.time())
    claims = {"role": "user", "iat": now, "exp": now + 3600, "pwv": 0, **changes}
    return {"Authorization": f"Bearer {jwt.encode(claims, TEST_SECRET, algorithm='HS256')}"}


MISTYPED = [
    pytest.param({"exp": str(int(time.time()) + 3600)}, id="exp-numeric-string"),
    pytest.param({"exp": float(int(time.time()) + 3600)}, id="exp-float"),
    pytest.param({"iat": str(int(time.time()))}, id="iat-string"),
    pytest.param({"sub": 12345}, id="sub-number"),
    pytest.param({"sub": {"$oid": "0" * 24}}, id="sub-object"),
    pytest.param({"pwv": "0"}, id="pwv-string"),
    pytest.param({"pwv": 0.0}, id="pwv-float"),
    pytest.param({"pwv": False}, id="pwv-bool"),
    pytest.param({"role": ["admin"]}, id="role-list"),
]


@pytest.mark.parametrize("changes", MISTYPED)
async def test_a_token_with_mistyped_claims_is_an_invalid_token(client, alice, changes):
    headers = _forged(**{"sub": alice["id"], **changes})
    for _ in range(2):  # the second use is answered from the verified-token cache
        for path in ("/api/protected", "/api/users"):
            response = await client.get(path, headers=headers)
            assert (response.status_code, response.json()) == (401, {"error": "Invalid token"})
            assert response.headers["www-authenticate"] == "Bearer"
        body = (
            await client.post("/graphql", json={"query": "{ me { id } }"}, headers=headers)
        ).json()
        assert [(e["extensions"]["code"], e["message"]) for e in body["errors"]] == [
            ("UNAUTHENTICATED", "Invalid token")
        ]
    # The same token with well-typed claims is accepted.
    assert (await client.get("/api/protected", headers=_forged(sub=alice["id"]))).status_code == 200


def _http_scope(method: str, path: str, headers: list[tuple[bytes, bytes]]) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
        "extensions": {},
    }


async def test_a_client_that_leaves_mid_body_is_recorded_as_499(app, client, caplog):
    caplog.set_level(logging.INFO, logger="gateway.access")
    messages: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    for message in (
        {"type": "http.request", "body": b'{"half": ', "more_body": True},
        {"type": "http.disconnect"},
    ):
        messages.put_nowait(message)
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = _http_scope(
        "POST", "/api/hello", [(b"content-type", b"application/json"), (b"content-length", b"100")]
    )
    await app(scope, messages.get, send)

    metrics = (await client.get("/metrics")).text
    assert (
        'gateway_http_requests_total{method="POST",route="/api/hello",status="499"} 1.0' in metrics
    )
    assert 'route="/api/hello",status="500"' not in metrics
    [record] = [
        r for r in caplog.records if r.name == "gateway.access" and r.fields["path"] == "/api/hello"
    ]
    assert record.fields["status"] == 499
