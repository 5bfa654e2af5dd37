"""The ``gateway`` command, with and without a gateway serving the same data directory."""

from __future__ import annotations

import os
import pty
import select
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.live import gateway_env, live_gateway, run_cli


def _nx_processes(data: Path) -> set[int]:
    """The embedded database processes serving ``data`` (not those of other test runs)."""
    return {
        p.pid
        for p in psutil.process_iter(["cmdline"])
        if "nx_27017" in (line := " ".join(p.info["cmdline"] or [])) and str(data) in line
    }


ADMIN = ["create-admin", "--email", "Root@Example.com", "--name", "Root", "--password-stdin"]
SEED = ["seed", "--users", "3", "--posts", "2", "--products", "12", "--categories", "3"]


def test_create_admin_and_seed_act_on_the_served_database(tmp_path):
    data = tmp_path / "data"
    env = gateway_env(data)
    # No gateway running: the command starts the embedded database and stops it again.
    result = run_cli([*ADMIN, "--init"], env, stdin="root-pass-1\n")
    assert result.returncode == 0, result.stderr
    assert "created admin root@example.com" in result.stdout
    assert f"database: a new embedded database in {data}" in result.stderr
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
        first = run_cli(SEED, env)
        assert first.returncode == 0, first.stderr
        assert "served by the running gateway" in first.stderr
        assert "products" in first.stderr  # the progress bar
        assert "users             added      3   already there      0" in first.stdout
        assert "demo logins: demo1@example.com ... demo3@example.com" in first.stdout
        again = run_cli(SEED, env)  # idempotent, and says so
        assert again.returncode == 0, again.stderr
        assert "[" not in again.stderr, "no progress bar when nothing is added"
        assert "products          added      0   already there     12" in again.stdout
        products = httpx.get(f"{live.base_url}/api/products?limit=100").json()
        assert products["pagination"]["total"] == 12
        assert len({p["category"] for p in products["products"]}) == 3
        users = httpx.get(f"{live.base_url}/api/users", headers=headers)
        assert users.headers["x-total-count"] == "4"
        demo = next(u for u in users.json() if u["name"] == "Demo User 1")
        detail = httpx.get(f"{live.base_url}/api/users/{demo['id']}", headers=headers).json()
        assert [p["title"] for p in detail["posts"]] == ["Demo post 1", "Demo post 2"]
        assert detail["profile"]["bio"]
        # Running create-admin again promotes and resets instead of failing; the
        # password may come from the environment.
        result = run_cli(ADMIN[:-1], {**env, "GATEWAY_ADMIN_PASSWORD": "root-pass-2"})
        assert result.returncode == 0, result.stderr
        assert httpx.get(f"{live.base_url}/api/protected", headers=headers).status_code == 401


def test_commands_refuse_to_make_a_new_database_unless_asked(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    for args in ([*ADMIN], SEED):
        result = run_cli(args, gateway_env(elsewhere), stdin="root-pass-1\n")
        assert result.returncode == 2
        assert f"no embedded database in {elsewhere}" in result.stderr
        assert "--init" in result.stderr
    assert not elsewhere.exists(), "nothing made: no database, no JWT secret"


class Terminal:
    """A command run on a pseudo-terminal, as a person at a shell runs it."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # pragma: no cover - the child
            os.execve(sys.executable, [sys.executable, *argv], env)  # noqa: S606
        self.seen = ""

    def expect(self, text: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            assert time.monotonic() < deadline, f"waited for {text!r}; saw {self.seen!r}"
            ready, _, _ = select.select([self.fd], [], [], 0.5)
            if ready:
                try:
                    self.seen += os.read(self.fd, 4096).decode(errors="replace")
                except OSError:  # the child closed the terminal
                    assert text in self.seen, f"waited for {text!r}; saw {self.seen!r}"

    def type(self, line: str) -> None:
        os.write(self.fd, line.encode() + b"\r")

    def exit_status(self) -> int:
        _, status = os.waitpid(self.pid, 0)
        os.close(self.fd)
        return os.waitstatus_to_exitcode(status)


def _typed_twice(tmp_path: Path, first: str, second: str) -> Terminal:
    terminal = Terminal(
        ["-m", "gateway.cli", *ADMIN[:-1], "--init"], gateway_env(tmp_path / "data")
    )
    terminal.expect("Password for the admin: ")
    terminal.type(first)
    terminal.expect("Again: ")
    terminal.type(second)
    return terminal


def test_the_password_prompt_reads_from_a_terminal_without_echo(tmp_path):
    terminal = _typed_twice(tmp_path, "typed-pass-1", "typed-pass-1")
    terminal.expect("created admin root@example.com")
    assert terminal.exit_status() == 0
    assert "typed-pass-1" not in terminal.seen, "the prompt does not echo"


def test_two_different_entries_at_the_prompt_store_nothing(tmp_path):
    terminal = _typed_twice(tmp_path, "typed-pass-1", "typed-pass-2")
    terminal.expect("the two entries differ")
    assert terminal.exit_status() == 2


def test_create_admin_without_a_way_to_ask_for_the_password_says_how(tmp_path):
    result = run_cli([*ADMIN[:-1], "--init"], gateway_env(tmp_path / "data"))
    assert result.returncode == 2
    assert "--password-stdin" in result.stderr and "GATEWAY_ADMIN_PASSWORD" in result.stderr


def test_create_admin_validates_input(tmp_path):
    result = run_cli(
        ["create-admin", "--email", "not-an-email", "--name", "R", "--password-stdin", "--init"],
        gateway_env(tmp_path / "data"),
        stdin="short\n",
    )
    assert result.returncode == 2
    for field in ("email", "password", "name"):
        assert f"{field}: " in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["seed", "--users", "-3"], "argument --users: must be from 0 to 100,000, not -3"),
        (["seed", "--products", "many"], "argument --products: not a whole number: 'many'"),
        (["serve", "--port", "0"], "argument --port: must be from 1 to 65,535, not 0"),
    ],
)
def test_counts_are_checked(tmp_path, args, message):
    result = run_cli(args, gateway_env(tmp_path / "data"))
    assert result.returncode == 2
    assert message in result.stderr


def test_version_and_help(tmp_path):
    env = gateway_env(tmp_path / "data")
    version = run_cli(["--version"], env)
    assert version.returncode == 0 and version.stdout.startswith("gateway 0.")
    helped = run_cli(["--help"], env)
    assert "examples:" in helped.stdout and "``" not in helped.stdout


def test_every_bad_setting_stops_a_command_before_anything_runs(tmp_path):
    env = {**gateway_env(tmp_path / "data"), "GATEWAY_PORT": "x", "GATEWAY_ENV": "staging"}
    result = run_cli(["serve"], env)
    assert result.returncode == 2
    assert "GATEWAY_PORT: " in result.stderr and "GATEWAY_ENV: " in result.stderr


def test_serve_refuses_a_bad_start_up_setting_without_a_traceback(tmp_path):
    # Found while the app is built (an allow-list, the versions fast execution was
    # verified with): a configuration error, not a traceback.
    env = {**gateway_env(tmp_path / "data"), "GATEWAY_GRAPHQL_ALLOWLIST": str(tmp_path / "none")}
    result = run_cli(["serve"], env)
    assert result.returncode == 2
    assert "configuration error:\n  allow-list" in result.stderr
    assert "Traceback" not in result.stderr
