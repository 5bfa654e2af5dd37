"""Cross-cutting REST behaviour: hello, errors, methods, content types, health."""

from __future__ import annotations

import pytest


async def test_hello_get_and_echo(client):
    response = await client.get("/api/hello")
    assert response.status_code == 200
    assert isinstance(response.json()["message"], str)
    body = {"a": [1, 2.5, None], "b": {"c": "d"}}
    response = await client.post("/api/hello", json=body)
    assert response.status_code == 200
    assert response.json() == {"received": body}


@pytest.mark.parametrize("raw", [b"{bad json", b"NaN", b'{"x": Infinity}', b""])
async def test_malformed_json_is_400(client, raw):
    response = await client.post(
        "/api/hello", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert "error" in response.json()


@pytest.mark.parametrize("raw", [b"a=b", b""])
async def test_wrong_content_type_is_415(client, raw):
    response = await client.post("/api/hello", content=raw, headers={"Content-Type": "text/plain"})
    assert response.status_code == 415
    assert response.json()["error"]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("PATCH", "/api/users", {"GET", "POST", "PUT", "DELETE"}),
        ("PATCH", "/api/hello", {"GET", "POST"}),
        ("POST", "/api/protected", {"GET"}),
        ("GET", "/api/auth/login", {"POST"}),
        ("GET", "/api/contact", {"POST"}),
        ("GET", "/api/upload", {"POST"}),
        ("PUT", "/api/files/a/b.txt", {"GET", "POST", "DELETE"}),
        ("POST", "/api/products/abc", {"GET", "PUT", "DELETE"}),
    ],
)
async def test_wrong_method_is_405_with_allow(client, method, path, allowed):
    response = await client.request(method, path)
    assert response.status_code == 405
    assert allowed <= {m.strip() for m in response.headers["allow"].split(",")}
    assert "error" in response.json()


async def test_unknown_route_is_404_json(client):
    response = await client.get("/api/nothing-here")
    assert response.status_code == 404
    assert response.json() == {"error": "Not Found"}


async def test_body_over_the_limit_is_413(client, settings):
    big = b'{"x": "' + b"a" * settings.max_body_bytes + b'"}'
    response = await client.post(
        "/api/hello", content=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert "error" in response.json()


async def test_health_and_readiness(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    response = await client.get("/readyz")
    assert response.status_code == 200
