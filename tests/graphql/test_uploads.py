"""``uploadFile`` (any type, at a path) and ``uploadImage`` (sniffed images, named for
you) over the GraphQL multipart request spec, and what a refused upload leaves (nothing)."""

from __future__ import annotations

import json
import os
from typing import Any

import httpx
import msgspec
import pytest

from gateway.db import count
from gateway.errors import NotFound
from tests.graphql.support import code, data, serving

UPLOAD = """mutation($file: Upload!, $path: String!) {
  uploadFile(file: $file, path: $path) { path name size contentType url createdAt }
}"""
UPLOAD_IMAGE = """mutation($file: Upload!) {
  uploadImage(file: $file) { path name size contentType url createdAt }
}"""
PREFLIGHT = {"Apollo-Require-Preflight": "true"}
PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(600 * 1024)  # more than two GridFS chunks
GIF = b"GIF89a" + b"\x00" * 64


async def upload(
    client: httpx.AsyncClient,
    content: bytes,
    path: str | None,
    headers: dict[str, str],
    *,
    filename: str = "picture.png",
    claimed_type: str = "image/png",
) -> httpx.Response:
    """A multipart request as the spec lays it out: ``operations``, ``map``, then the file.

    ``uploadFile`` at ``path``, or ``uploadImage`` when ``path`` is ``None``.
    """
    operations: dict[str, Any] = (
        {"query": UPLOAD_IMAGE, "variables": {"file": None}}
        if path is None
        else {"query": UPLOAD, "variables": {"file": None, "path": path}}
    )
    return await client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"0": ["variables.file"]})},
        files={"0": (filename, content, claimed_type)},
        headers=headers,
    )


async def assert_nothing_stored(services, db, path: str) -> None:
    with pytest.raises(NotFound):
        await services.files.meta(path)
    assert await count(db["fs.files"], {}) == 0
    assert await count(db["fs.chunks"], {}) == 0  # no orphan chunks either


def only_error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert body.get("data") is None
    assert len(body["errors"]) == 1, body
    err: dict[str, Any] = body["errors"][0]
    return err


async def test_upload_file_stores_any_type_at_its_path(client, alice):
    for content, path, claimed in (
        (PNG, "pics/cat.png", "image/png"),
        (b"%PDF-1.7 not really", "docs/report.pdf", "application/pdf"),
        (b"<html>hello</html>", "site/index.html", "Text/HTML; charset=utf-8"),
        (b"", "empty.bin", "application/octet-stream"),
    ):
        response = await upload(
            client, content, path, {**alice["headers"], **PREFLIGHT}, claimed_type=claimed
        )
        assert response.status_code == 200, response.text
        meta = response.json()["data"]["uploadFile"]
        assert meta["path"] == path
        assert meta["name"] == path.rsplit("/", 1)[-1]
        assert meta["size"] == len(content)
        assert meta["contentType"] == claimed.replace("Text/HTML", "text/html")  # as REST
        assert meta["url"] == f"/api/files/{path}"
        download = await client.get(meta["url"])
        assert download.status_code == 200
        assert download.content == content
        assert download.headers["content-type"] == meta["contentType"]
    looked_up = await data(client, '{ file(path: "pics/cat.png") { size contentType } }')
    assert looked_up["file"] == {"size": len(PNG), "contentType": "image/png"}


async def test_upload_image_stores_a_sniffed_image_under_a_unique_name(client, alice):
    response = await upload(
        client, PNG, None, {**alice["headers"], **PREFLIGHT}, claimed_type="image/jpeg"
    )
    assert response.status_code == 200, response.text
    meta = response.json()["data"]["uploadImage"]
    assert meta["path"].startswith("uploads/")
    assert meta["path"].endswith("-picture.png")
    assert meta["name"] == meta["path"].removeprefix("uploads/")
    assert meta["contentType"] == "image/png"  # what the bytes show, not what was claimed
    assert (meta["size"], meta["url"]) == (len(PNG), f"/api/files/{meta['path']}")
    download = await client.get(meta["url"])
    assert (download.content, download.headers["content-type"]) == (PNG, "image/png")
    again = await upload(client, PNG, None, {**alice["headers"], **PREFLIGHT})
    assert again.json()["data"]["uploadImage"]["path"] != meta["path"]


@pytest.mark.parametrize(
    "header",
    [
        "Apollo-Require-Preflight",
        "X-Apollo-Operation-Name",
        "GraphQL-Require-Preflight",
        "X-Requested-With",
    ],
)
async def test_any_preflight_header_admits_an_upload(client, alice, header):
    response = await upload(client, GIF, "a.gif", {**alice["headers"], header: "1"})
    assert response.json()["data"]["uploadFile"]["size"] == len(GIF)


@pytest.mark.parametrize("path", ["csrf.gif", None])
async def test_an_upload_without_a_preflight_header_is_refused(client, services, db, alice, path):
    for headers in (alice["headers"], {**alice["headers"], "Apollo-Require-Preflight": " "}):
        response = await upload(client, GIF, path, headers)
        assert response.status_code == 400
        err = only_error(response)
        assert code(err) == "BAD_USER_INPUT"
        assert "Apollo-Require-Preflight" in err["message"]
    await assert_nothing_stored(services, db, "csrf.gif")


async def test_an_image_over_the_upload_limit_is_refused_and_leaves_nothing(
    client, services, db, settings, alice
):
    too_big = b"\x89PNG\r\n\x1a\n" + b"\x00" * settings.max_upload_bytes
    response = await upload(client, too_big, None, {**alice["headers"], **PREFLIGHT})
    err = only_error(response)
    assert code(err) == "BAD_USER_INPUT"
    assert err["message"] == f"File too large (limit {settings.max_upload_bytes} bytes)"
    await assert_nothing_stored(services, db, "big.png")


async def test_a_file_over_the_file_limit_is_refused_and_leaves_nothing(
    settings, mongo, services, db, alice
):
    # uploadFile has the limit of POST /api/files/PATH (GATEWAY_MAX_FILE_BYTES).
    small = msgspec.structs.replace(settings, max_file_bytes=4096)
    async with serving(small, mongo) as client:
        response = await upload(client, b"f" * 4097, "big.bin", {**alice["headers"], **PREFLIGHT})
        err = only_error(response)
        assert (code(err), err["message"]) == (
            "BAD_USER_INPUT",
            "File too large (limit 4096 bytes)",
        )
        fits = await upload(client, b"f" * 4096, "fits.bin", {**alice["headers"], **PREFLIGHT})
        assert fits.json()["data"]["uploadFile"]["size"] == 4096
    await services.files.meta("fits.bin")
    with pytest.raises(NotFound):
        await services.files.meta("big.bin")


@pytest.mark.parametrize("path", ["huge.png", None])
async def test_a_body_past_the_multipart_limit_is_refused_before_parsing(
    client, services, db, settings, alice, path
):
    # The multipart limit: room for a file of the larger file limit and an operation.
    room = max(settings.max_upload_bytes, settings.max_file_bytes) + settings.max_body_bytes
    huge = b"\x89PNG\r\n\x1a\n" + b"\x00" * room
    response = await upload(client, huge, path, {**alice["headers"], **PREFLIGHT})
    assert response.status_code == 413
    assert code(only_error(response)) == "BAD_USER_INPUT"
    await assert_nothing_stored(services, db, "huge.png")


@pytest.mark.parametrize("content", [b"<html>not an image</html>", b"", b"GIF8"])
async def test_a_mistyped_image_is_refused_and_leaves_nothing(client, services, db, alice, content):
    response = await upload(client, content, None, {**alice["headers"], **PREFLIGHT})
    err = only_error(response)
    assert (code(err), err["message"]) == ("BAD_USER_INPUT", "Invalid file type")
    await assert_nothing_stored(services, db, "fake.png")


@pytest.mark.parametrize("path", ["anon.gif", None])
async def test_an_anonymous_upload_is_refused(client, services, db, path):
    response = await upload(client, GIF, path, PREFLIGHT)
    err = only_error(response)
    assert (code(err), err["message"]) == ("UNAUTHENTICATED", "No token provided")
    await assert_nothing_stored(services, db, "anon.gif")


async def test_an_upload_to_a_taken_path_is_a_conflict(client, db, alice, bob):
    first = await upload(client, GIF, "shared/x.gif", {**alice["headers"], **PREFLIGHT})
    assert first.json()["data"]["uploadFile"]["size"] == len(GIF)
    second = await upload(client, PNG, "shared/x.gif", {**bob["headers"], **PREFLIGHT})
    err = only_error(second)
    assert (code(err), err["message"]) == ("CONFLICT", "A file already exists at this path")
    assert (await client.get("/api/files/shared/x.gif")).content == GIF
    assert await count(db["fs.chunks"], {}) == 1


@pytest.mark.parametrize("path", ["../escape.gif", "a//b.gif", "/a.gif", "a/", "a/\u0085b"])
async def test_an_upload_to_a_bad_path_is_refused(client, services, db, alice, path):
    response = await upload(client, GIF, path, {**alice["headers"], **PREFLIGHT})
    err = only_error(response)
    assert (code(err), err["message"]) == ("BAD_USER_INPUT", "Invalid file path")
    await assert_nothing_stored(services, db, "a.gif")


@pytest.mark.parametrize(
    ("query", "variables"),
    [(UPLOAD, {"file": "R0lGODlh", "path": "json.gif"}), (UPLOAD_IMAGE, {"file": "R0lGODlh"})],
)
async def test_a_file_variable_sent_as_json_is_bad_input(client, db, alice, query, variables):
    body = {"query": query, "variables": variables}
    response = await client.post("/graphql", json=body, headers=alice["headers"])
    err = only_error(response)
    assert (code(err), err["message"]) == ("BAD_USER_INPUT", "No file uploaded")
    assert await count(db["fs.files"], {}) == 0


async def test_a_map_naming_a_missing_part_is_refused(client, db, alice):
    operations = {"query": UPLOAD, "variables": {"file": None, "path": "m.gif"}}
    response = await client.post(
        "/graphql",
        data={"operations": json.dumps(operations), "map": json.dumps({"1": ["variables.file"]})},
        files={"0": ("a.gif", GIF, "image/gif")},
        headers={**alice["headers"], **PREFLIGHT},
    )
    assert response.status_code == 400
    assert code(only_error(response)) == "BAD_USER_INPUT"
    assert await count(db["fs.files"], {}) == 0
