"""The deployment files: valid Compose, an authenticated replica set, a lean locked image.

No Docker engine runs here: the files are checked against the Compose
specification and for the properties operators rely on.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from gateway.config import Settings
from gateway.http_protocol import FILES_KEPT

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = (ROOT / "docker-compose.yml").read_text()
DOCKERFILE = (ROOT / "Dockerfile").read_text()


def _services() -> dict[str, dict]:
    services: dict[str, dict] = yaml.safe_load(COMPOSE)["services"]
    return services


def test_compose_file_is_valid_against_the_compose_specification():
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.compose-spec",
            str(ROOT / "docker-compose.yml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_compose_command_works_with_nothing_exported():
    # ${VAR:?message} fails `ps`, `logs` and `down` too; secrets come from an env
    # file instead, which is optional to load (its absence stops only `up`).
    interpolated = re.findall(r"(?<!\$)\$\{([^}]*)\}", COMPOSE)
    assert interpolated, "the test reads the interpolations"
    assert all(":-" in expression for expression in interpolated), interpolated
    for name in ("mongo", "mongo-init", "gateway"):
        assert _services()[name]["env_file"] == [{"path": "compose.env", "required": False}]


def test_mongodb_runs_with_authentication_as_a_replica_set_initialised_before_the_gateway():
    services = _services()
    mongo, init, gateway = services["mongo"], services["mongo-init"], services["gateway"]
    script = mongo["entrypoint"][-1]
    assert "--replSet rs0" in script and "--keyFile" in script
    assert "MONGO_INITDB_ROOT_PASSWORD:?" in script  # refuses to start without auth
    assert "healthcheck" in mongo
    assert init["depends_on"]["mongo"]["condition"] == "service_healthy"
    assert "rs.initiate" in init["entrypoint"][-1] and "createUser" in init["entrypoint"][-1]
    assert gateway["depends_on"]["mongo-init"]["condition"] == "service_completed_successfully"
    assert "GATEWAY_MONGODB_URI" not in gateway["environment"]  # it holds a password


def _made_env_file() -> str:
    return subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "compose_env.py")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_the_env_file_script_writes_every_secret_the_compose_file_reads():
    made = _made_env_file()
    values = dict(
        line.split("=", 1) for line in made.splitlines() if line and not line.startswith("#")
    )
    for name in re.findall(r"\$\$\{?(\w+)", COMPOSE):
        assert name in values or name == "GATEWAY_SITE_ADDRESS", name
    assert values["GATEWAY_MONGODB_URI"] == (
        f"mongodb://gateway:{values['MONGO_GATEWAY_PASSWORD']}@mongo:27017/gateway"
        "?authSource=admin&replicaSet=rs0"
    )
    assert _made_env_file() != made  # fresh secrets each time


def test_a_tls_proxy_faces_clients_and_the_gateway_believes_only_it():
    services = _services()
    proxy, gateway = services["proxy"], services["gateway"]
    assert proxy["image"].startswith("caddy:")
    assert sorted(proxy["ports"]) == ["443:443", "80:80"]
    assert "ports" not in gateway  # reached through the proxy only
    trusted = gateway["environment"]["GATEWAY_TRUSTED_PROXIES"]
    assert trusted == proxy["networks"]["default"]["ipv4_address"]
    caddyfile = yaml.safe_load(COMPOSE)["configs"]["caddyfile"]["content"]
    for timeout in ("read_header", "read_body", "idle"):
        assert timeout in caddyfile
    assert "reverse_proxy gateway:8000" in caddyfile


def test_the_image_is_multi_stage_built_from_the_lock_as_a_numeric_user():
    stages = re.findall(r"^FROM \S+ AS (\w+)", DOCKERFILE, flags=re.MULTILINE)
    assert stages == ["build", "runtime"]
    build = DOCKERFILE.split("AS runtime")[0]
    # the dependency layer comes from the lock alone, before any code is copied
    lock = build.index("--require-hashes --no-deps -r /tmp/requirements.lock")
    assert lock < build.index("COPY gateway ")
    copied = set(re.findall(r"^COPY (\w+) ", build, flags=re.MULTILINE))
    assert {"gateway", "rest", "schema", "resolvers"} <= copied
    assert re.search(r"^USER \d+:\d+$", DOCKERFILE, flags=re.MULTILINE)


def test_the_build_context_leaves_out_secrets_history_and_the_virtualenv():
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    ignore = [line for line in lines if line and not line.startswith("#")]
    assert ignore[0] == "*"  # everything out, then only what is named
    admitted = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert admitted == {
        "pyproject.toml",
        "README.md",
        "requirements.lock",
        "gateway",
        "rest",
        "schema",
        "resolvers",
    }


def test_the_locks_pin_every_package_with_hashes_and_the_runtime_lock_has_no_test_tools():
    runtime = (ROOT / "requirements.lock").read_text()
    full = (ROOT / "requirements-test.lock").read_text()
    pins = re.findall(r"^([A-Za-z0-9_.-]+)==\S+ \\$", runtime, flags=re.MULTILINE)
    assert len(pins) > 20
    for lock in (runtime, full):
        blocks = re.split(r"\n(?=[A-Za-z0-9])", lock.split("\n", 2)[2])
        assert all("--hash=sha256:" in block for block in blocks if "==" in block)
    for tool in ("pytest", "mypy", "playwright", "schemathesis"):
        assert not re.search(rf"^{tool}==", runtime, flags=re.MULTILINE)
        assert re.search(rf"^{tool}==", full, flags=re.MULTILINE)


def test_the_gateway_may_open_the_files_its_connection_cap_needs():
    nofile = _services()["gateway"]["ulimits"]["nofile"]
    needed = Settings().max_connections + FILES_KEPT
    assert nofile["soft"] >= needed
    assert nofile["hard"] >= nofile["soft"]
