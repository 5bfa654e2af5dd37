"""The whole REST path once more on Motor, the opt-in driver."""

from __future__ import annotations

import httpx
import msgspec

from gateway.app import create_app
from tests.conftest import running

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


async def test_rest_round_trip_on_motor(settings, db):
    app = create_app(msgspec.structs.replace(settings, mongo_driver="motor"))
    transport = httpx.ASGITransport(app=app)
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        assert type(app.state.services.users._users.database.client).__module__.startswith("motor")
        signup = {"name": "Mo", "email": "mo@x.io", "password": "motor-pass-1"}
        assert (await http.post("/api/users", json=signup)).status_code == 201
        login = await http.post(
            "/api/auth/login", json={"email": "mo@x.io", "password": "motor-pass-1"}
        )
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        users = await http.get("/api/users?limit=5", headers=headers)
        assert users.headers["x-total-count"] == "1"
        upload = await http.post(
            "/api/upload", files={"file": ("p.png", PNG, "image/png")}, headers=headers
        )
        assert upload.status_code == 200
        assert (await http.get(upload.json()["url"])).content == PNG
        assert (await http.get("/api/products")).json()["pagination"]["total"] == 0
