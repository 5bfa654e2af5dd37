"""``/api/files/<path>``: raw uploads, downloads with headers, ownership, path rules."""

from __future__ import annotations

import pytest


async def _put(client, user, path, data=b"hello world", content_type="text/plain"):
    return await client.post(
        f"/api/files/{path}",
        content=data,
        headers={**user["headers"], "Content-Type": content_type},
    )


async def test_upload_and_download(client, alice):
    response = await _put(client, alice, "docs/readme.txt")
    assert response.status_code == 201
    meta = response.json()
    assert list(meta) == ["path", "name", "size", "contentType", "url", "createdAt", "version"]
    assert response.headers["location"] == meta["url"]
    assert meta["path"] == "docs/readme.txt"
    assert (meta["name"], meta["size"], meta["contentType"]) == ("readme.txt", 11, "text/plain")
    assert meta["url"] == "/api/files/docs/readme.txt"
    response = await client.get(meta["url"])
    assert response.status_code == 200
    assert response.content == b"hello world"
    assert response.headers["content-type"].startswith("text/plain")
    assert response.headers["content-disposition"] == 'attachment; filename="readme.txt"'
    assert response.headers["content-length"] == "11"
    assert response.headers["etag"] == f'"{meta["version"]}"'


async def test_binary_round_trip_across_chunks(client, alice):
    data = bytes(range(256)) * 4000  # ~1 MiB: several GridFS chunks
    response = await _put(client, alice, "bin/blob.dat", data, "application/octet-stream")
    assert response.status_code == 201
    assert response.json()["size"] == len(data)
    assert (await client.get("/api/files/bin/blob.dat")).content == data


async def test_empty_file(client, alice):
    assert (await _put(client, alice, "empty.txt", b"")).status_code == 201
    response = await client.get("/api/files/empty.txt")
    assert response.status_code == 200
    assert response.content == b""


async def test_unicode_name_download_header(client, alice):
    uploaded = await _put(client, alice, "été/naïve file.txt")
    assert uploaded.status_code == 201
    assert uploaded.json()["url"] == "/api/files/%C3%A9t%C3%A9/na%C3%AFve%20file.txt"
    response = await client.get(uploaded.json()["url"])
    assert response.status_code == 200
    disposition = response.headers["content-disposition"]
    assert disposition.startswith('attachment; filename="na_ve file.txt"')
    assert "filename*=UTF-8''na%C3%AFve%20file.txt" in disposition


async def test_existing_path_is_409_and_keeps_the_original(client, alice, bob):
    assert (await _put(client, alice, "a.txt", b"first")).status_code == 201
    response = await _put(client, bob, "a.txt", b"second")
    assert response.status_code == 409
    assert (await client.get("/api/files/a.txt")).content == b"first"


async def test_missing_file(client):
    response = await client.get("/api/files/nothing/here.txt")
    assert response.status_code == 404
    assert response.json() == {"error": "File not found"}


async def test_upload_needs_sign_in_and_stores_nothing(client, purged_files):
    response = await client.post(
        "/api/files/x.txt", content=b"data", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 401
    assert await purged_files() == (0, 0)


@pytest.mark.parametrize(
    "path",
    [
        "a/%2e%2e/b.txt",
        "%2e%2e/etc/passwd",
        "a/%2e/b.txt",
        "a%5Cb.txt",
        "a/%00b.txt",
        "a/%0Ab.txt",
        "a/%7Fb.txt",
        "a/%01b.txt",
        "a/%C2%85b.txt",  # U+0085, a C1 control character
        # Empty segments: refused, not normalised (Litestar's own path merges them).
        "a//b",
        "a/",
        "///a",
        "a/b/",
        "a%2F",
        # Percent-escapes that are not UTF-8 (Litestar's own path makes them U+FFFD).
        "%ff%fe",
        "%c0%ae",
        "a/%e9t%e9.txt",
        "x" * 1025,
        "a/" + "b" * 1023,
    ],
)
async def test_bad_paths_are_400_and_store_nothing(client, purged_files, alice, path):
    response = await _put(client, alice, path)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "Invalid file path"
    assert await purged_files() == (0, 0)
    assert (await client.get(f"/api/files/{path}")).status_code == 400
    assert (await client.delete(f"/api/files/{path}", headers=alice["headers"])).status_code == 400


async def test_a_path_has_one_spelling(client, purged_files, alice):
    assert (await _put(client, alice, "a/b.txt", b"one")).status_code == 201
    for other in ("a//b.txt", "/a/b.txt", "a/b.txt/", "a/%2e/b.txt"):
        assert (await _put(client, alice, other)).status_code == 400
        assert (await client.get(f"/api/files/{other}")).status_code == 400
    assert (await client.get("/api/files/a%2Fb%2Etxt")).content == b"one"  # escapes decode
    assert await purged_files() == (1, 1)


async def test_a_path_prefix_spelled_otherwise_is_refused(client, purged_files, alice):
    response = await client.post(
        "/api/%66iles/x.txt", content=b"x", headers={**alice["headers"], "Content-Type": "a/b"}
    )
    assert response.status_code in {400, 404}
    assert await purged_files() == (0, 0)


async def test_longest_path_is_accepted(client, alice):
    assert (await _put(client, alice, "a/" + "b" * 1022)).status_code == 201


async def test_too_large_is_413_and_leaves_nothing(client, purged_files, alice, settings):
    data = b"x" * (settings.max_file_bytes + 1)
    response = await _put(client, alice, "big.bin", data, "application/octet-stream")
    assert response.status_code == 413
    assert await purged_files() == (0, 0)

    async def unsized():
        for _ in range(settings.max_file_bytes // (1024 * 1024) + 1):
            yield b"y" * (1024 * 1024)

    response = await client.post(
        "/api/files/big2.bin",
        content=unsized(),
        headers={**alice["headers"], "Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 413
    assert await purged_files() == (0, 0)


async def test_delete_owner_or_admin(client, purged_files, services, alice, bob, admin):
    assert (await _put(client, alice, "mine.txt")).status_code == 201
    assert (await client.delete("/api/files/mine.txt")).status_code == 401
    assert (await client.delete("/api/files/mine.txt", headers=bob["headers"])).status_code == 403
    assert (await client.get("/api/files/mine.txt")).status_code == 200
    assert (await client.delete("/api/files/mine.txt", headers=alice["headers"])).status_code == 204
    assert (await client.get("/api/files/mine.txt")).status_code == 404
    assert await purged_files() == (0, 0)
    assert (await _put(client, bob, "his.txt")).status_code == 201
    assert (await client.delete("/api/files/his.txt", headers=admin["headers"])).status_code == 204
    assert (await client.delete("/api/files/his.txt", headers=admin["headers"])).status_code == 404


async def test_catch_all_does_not_shadow_other_routes(client, alice):
    assert (await _put(client, alice, "api/upload")).status_code == 201
    assert (await client.get("/api/hello")).status_code == 200
    response = await client.post("/api/upload", headers=alice["headers"])
    assert response.status_code == 415
    assert (await client.get("/api/users", headers=alice["headers"])).status_code == 200


async def test_content_type_is_served_as_stored(client, alice):
    response = await _put(
        client, alice, "latin.txt", "café".encode("latin-1"), "Text/Plain; charset=latin-1"
    )
    assert response.status_code == 201
    assert response.json()["contentType"] == "text/plain; charset=latin-1"
    download = await client.get("/api/files/latin.txt")
    assert download.headers["content-type"] == "text/plain; charset=latin-1"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert "sandbox" in download.headers["content-security-policy"]


@pytest.mark.parametrize("content_type", ["nonsense", "text/plain; x", "a/b\\x", "/"])
async def test_bad_content_type_is_400(client, purged_files, alice, content_type):
    response = await _put(client, alice, "bad.txt", b"x", content_type)
    assert response.status_code == 400
    assert await purged_files() == (0, 0)
