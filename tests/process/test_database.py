"""The database going away and coming back, and the embedded server's supervision."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from pathlib import Path

import httpx
import msgspec
import psutil
import pytest

from gateway.app import create_app
from gateway.embedded import EmbeddedServer
from tests.conftest import running
from tests.live import gateway_env, live_gateway


def _children(pid: int) -> list[psutil.Process]:
    return psutil.Process(pid).children(recursive=True)


def _wait(predicate, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


async def test_unreachable_database_is_503_then_recovers(settings, tmp_path):
    server = EmbeddedServer(tmp_path / "db")
    uri = server.start()
    app = create_app(msgspec.structs.replace(settings, mongodb_uri=uri, mongo_timeout_ms=500))
    transport = httpx.ASGITransport(app=app)
    try:
        async with (
            running(app),
            httpx.AsyncClient(transport=transport, base_url="http://t") as http,
        ):
            assert (await http.get("/api/products")).status_code == 200
            server._terminate()
            started = time.monotonic()
            for path in ("/api/products", "/readyz", "/api/products/" + "0" * 24):
                response = await http.get(path)
                assert response.status_code == 503, path
                assert response.headers["retry-after"].isdigit()
                assert response.json()["error"]
            response = await http.post(
                "/api/users", json={"name": "Zoe", "email": "z@x.io", "password": "password-1"}
            )
            assert response.status_code == 503
            assert time.monotonic() - started < 10, "requests must fail fast, not hang"
            assert (await http.get("/healthz")).status_code == 200
            await asyncio.to_thread(server._spawn)  # back on the same port
            for _ in range(100):
                if (await http.get("/readyz")).status_code == 200:
                    break
                await asyncio.sleep(0.1)
            assert (await http.get("/api/products")).status_code == 200
    finally:
        server._terminate()


def test_embedded_server_is_restarted_and_never_orphaned(tmp_path):
    data = tmp_path / "data"
    env = gateway_env(data)
    with live_gateway(env) as live:
        record = json.loads((data / "embedded.json").read_text())
        [child] = [p for p in _children(live.pid) if "nx_27017" in " ".join(p.cmdline())]
        response = httpx.post(
            f"{live.base_url}/api/users",
            json={"name": "Kept", "email": "kept@x.io", "password": "password-1"},
        )
        assert response.status_code == 201
        child.kill()
        _wait(lambda: httpx.get(f"{live.base_url}/readyz").status_code == 200)
        [restarted] = [p for p in _children(live.pid) if "nx_27017" in " ".join(p.cmdline())]
        assert restarted.pid != child.pid
        assert json.loads((data / "embedded.json").read_text())["port"] == record["port"]
        login = httpx.post(
            f"{live.base_url}/api/auth/login", json={"email": "kept@x.io", "password": "password-1"}
        )
        assert login.status_code == 200, "data survives the restart"
        live.process.send_signal(signal.SIGKILL)
        live.process.wait()
        _wait(lambda: not restarted.is_running() or restarted.status() == psutil.STATUS_ZOMBIE)


def test_clean_shutdown_stops_the_embedded_server(tmp_path):
    data = tmp_path / "data"
    with live_gateway(gateway_env(data)) as live:
        [child] = [p for p in _children(live.pid) if "nx_27017" in " ".join(p.cmdline())]
    # uvicorn re-raises the signal after its graceful shutdown.
    assert live.process.returncode in (0, -signal.SIGTERM)
    _wait(lambda: not child.is_running() or child.status() == psutil.STATUS_ZOMBIE)
    assert not (data / "embedded.json").exists()


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PORT", "eighty", "GATEWAY_PORT"),
        ("PORT", "70000", "GATEWAY_PORT"),
        ("ENV", "staging", "GATEWAY_ENV"),
        ("MONGO_DRIVER", "mongoose", "GATEWAY_MONGO_DRIVER"),
        ("TOKEN_TTL", "-1", "GATEWAY_TOKEN_TTL"),
    ],
)
def test_bad_settings_stop_start_up_naming_the_variable(tmp_path: Path, variable, value, message):
    from tests.live import run_cli

    result = run_cli(["serve"], gateway_env(tmp_path, **{variable: value}))
    assert result.returncode == 2
    assert message in result.stderr


def test_production_needs_a_secret(tmp_path: Path):
    from tests.live import run_cli

    env = gateway_env(tmp_path, env="production")
    del env["GATEWAY_JWT_SECRET"]
    result = run_cli(["serve"], env)
    assert result.returncode == 2
    assert "GATEWAY_JWT_SECRET" in result.stderr
    assert not (tmp_path / "jwt-secret").exists()
