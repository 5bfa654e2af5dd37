"""The ``gateway`` command, with and without a gateway serving the same data directory."""

from __future__ import annotations

from pathlib import Path

import httpx
import psutil

from tests.live import gateway_env, live_gateway, run_cli


def _nx_processes(data: Path) -> set[int]:
    """The embedded database processes serving ``data`` (not those of other test runs)."""
    return {
        p.pid
        for p in psutil.process_iter(["cmdline"])
        if "nx_27017" in (line := " ".join(p.info["cmdline"] or [])) and str(data) in line
    }


def test_create_admin_and_seed_act_on_the_served_database(tmp_path):
    data = tmp_path / "data"
    env = gateway_env(data)
    # No gateway running: the command starts the embedded database and stops it again.
    result = run_cli(
        [
            "create-admin",
            "--email",
            "Root@Example.com",
            "--password",
            "root-pass-1",
            "--name",
            "Root",
        ],
        env,
    )
    assert result.returncode == 0, result.stderr
    assert "created admin root@example.com" in result.stdout
    assert _nx_processes(data) == set()
    with live_gateway(env) as live:
        login = httpx.post(
            f"{live.base_url}/api/auth/login",
            json={"email": "root@example.com", "password": "root-pass-1"},
        )
        assert login.status_code == 200
        token = login.json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        # Gateway running: the commands attach to its embedded database.
        args = ["seed", "--users", "3", "--posts", "2", "--products", "12", "--categories", "3"]
        for _ in range(2):  # idempotent
            result = run_cli(args, env)
            assert result.returncode == 0, result.stderr
            assert "products" in result.stderr  # the progress bar
        products = httpx.get(f"{live.base_url}/api/products?limit=100").json()
        assert products["pagination"]["total"] == 12
        assert len({p["category"] for p in products["products"]}) == 3
        users = httpx.get(f"{live.base_url}/api/users", headers=headers)
        assert users.headers["x-total-count"] == "4"
        demo = next(u for u in users.json() if u["name"] == "Demo User 1")
        detail = httpx.get(f"{live.base_url}/api/users/{demo['id']}", headers=headers).json()
        assert [p["title"] for p in detail["posts"]] == ["Demo post 1", "Demo post 2"]
        assert detail["profile"]["bio"]
        # Running create-admin again promotes and resets instead of failing.
        result = run_cli(
            [
                "create-admin",
                "--email",
                "root@example.com",
                "--password",
                "root-pass-2",
                "--name",
                "Root",
            ],
            env,
        )
        assert result.returncode == 0, result.stderr
        assert httpx.get(f"{live.base_url}/api/protected", headers=headers).status_code == 401


def test_create_admin_validates_input(tmp_path):
    result = run_cli(
        ["create-admin", "--email", "not-an-email", "--password", "short", "--name", "R"],
        gateway_env(tmp_path / "data"),
    )
    assert result.returncode == 2
    assert "email" in result.stderr or "password" in result.stderr or "name" in result.stderr


def test_serve_refuses_a_bad_start_up_setting_in_one_line(tmp_path):
    # Found while the app is built (an allow-list, the versions fast execution was
    # verified with): a configuration error, not a traceback.
    env = {**gateway_env(tmp_path / "data"), "GATEWAY_GRAPHQL_ALLOWLIST": str(tmp_path / "none")}
    result = run_cli(["serve"], env)
    assert result.returncode == 2
    assert "configuration error: allow-list" in result.stderr
    assert "Traceback" not in result.stderr
