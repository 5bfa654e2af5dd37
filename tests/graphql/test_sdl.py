"""``schema.graphql`` is the printed schema: regenerate it with ``python -m schema.export``."""

from __future__ import annotations

import subprocess
import sys

from schema.export import SDL_PATH, main, sdl


def test_schema_graphql_is_in_sync():
    assert SDL_PATH.read_text(encoding="utf-8") == sdl(), "run: python -m schema.export"


def test_check_mode_reports_a_stale_file(tmp_path, monkeypatch, capsys):
    stale = tmp_path / "schema.graphql"
    stale.write_text("type Query { old: String }\n", encoding="utf-8")
    monkeypatch.setattr("schema.export.SDL_PATH", stale)
    assert main(["--check"]) == 1
    assert "out of date" in capsys.readouterr().err
    assert main([]) == 0
    assert stale.read_text(encoding="utf-8") == sdl()
    assert main(["--check"]) == 0


def test_the_command_runs_as_a_module():
    result = subprocess.run(
        [sys.executable, "-m", "schema.export", "--check"],
        cwd=SDL_PATH.parent,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_schema_has_the_contracted_shape():
    text = sdl()
    for line in (
        "login(email: String!, password: String!): AuthPayload!",
        "deleteUser(id: ID!, expectedVersion: Int): Boolean!",
        "deleteProduct(id: ID!, expectedVersion: Int): Boolean!",
        "deleteFile(path: String!, expectedVersion: String = null): Boolean!",
        "uploadFile(file: Upload!, path: String!): File!",
        "posts: [Post!]!",
        "scalar Upload",
    ):
        assert line in text
