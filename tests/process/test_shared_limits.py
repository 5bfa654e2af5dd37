"""Two gateway processes share their rate-limit counters through Redis."""

from __future__ import annotations

import asyncio

import httpx

from tests.live import gateway_env, live_gateway


def _login(base_url: str, email: str) -> httpx.Response:
    return httpx.post(f"{base_url}/api/auth/login", json={"email": email, "password": "wrong-pass"})


async def test_login_limit_is_shared_by_two_processes(settings, redis_url, tmp_path, db):
    def run() -> None:
        common = {
            "mongodb_uri": settings.mongodb_uri,
            "db_name": settings.db_name,
            "redis_url": redis_url,
            "rate_login_email": "3/300",
        }
        with (
            live_gateway(gateway_env(tmp_path / "a", **common)) as first,
            live_gateway(gateway_env(tmp_path / "b", **common)) as second,
        ):
            email = f"shared-{tmp_path.name}@example.com"
            assert _login(first.base_url, email).status_code == 401
            assert _login(second.base_url, email).status_code == 401
            assert _login(first.base_url, email).status_code == 401
            refused = _login(second.base_url, email)
            assert refused.status_code == 429
            assert int(refused.headers["retry-after"]) >= 1

    await asyncio.to_thread(run)
