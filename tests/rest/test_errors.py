"""Unexpected failures: a generic 500, with details only in development mode."""

from __future__ import annotations

import httpx
import msgspec
import pytest

from gateway.app import create_app
from tests.conftest import running


async def _boom(*_args, **_kwargs):
    raise RuntimeError("secret internals")


@pytest.mark.parametrize("env", ["development", "production"])
async def test_unexpected_error_is_a_masked_500(settings, mongo, db, monkeypatch, env):
    app = create_app(msgspec.structs.replace(settings, env=env), client=mongo)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        # Fault injection: the service itself fails in an unforeseen way.
        monkeypatch.setattr(app.state.services.products, "get", _boom)
        response = await http.get("/api/products/" + "0" * 24)
    assert response.status_code == 500
    body = response.json()
    assert body["error"] == "Internal server error"
    if env == "development":
        assert "secret internals" in body["message"]
        assert any("RuntimeError" in line for line in body["stack"])
    else:
        assert body == {"error": "Internal server error"}
