"""The deployment files: valid Compose, and an image that carries every package."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


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


def test_compose_wires_the_gateway_to_mongodb_with_health_checks():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    gateway, mongo = compose["services"]["gateway"], compose["services"]["mongo"]
    assert gateway["environment"]["GATEWAY_MONGODB_URI"] == "mongodb://mongo:27017"
    assert gateway["environment"]["GATEWAY_ENV"] == "production"
    assert gateway["depends_on"]["mongo"]["condition"] == "service_healthy"
    assert gateway["build"]["dockerfile"] == "Dockerfile"
    assert "healthcheck" in gateway
    assert "healthcheck" in mongo


def test_dockerfile_copies_every_package():
    dockerfile = (ROOT / "Dockerfile").read_text()
    copied = set(re.findall(r"^COPY (\w+) ", dockerfile, flags=re.MULTILINE))
    assert {"gateway", "rest", "schema", "resolvers"} <= copied
