"""``/api/upload``: multipart images judged by their bytes, stored through the file service."""

from __future__ import annotations

import pytest

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x01" * 64
GIF = b"GIF89a" + b"\x02" * 64


async def _upload(client, user, data, filename="photo.png", claimed="image/png", field="file"):
    return await client.post(
        "/api/upload", files={field: (filename, data, claimed)}, headers=user.get("headers", {})
    )


@pytest.mark.parametrize(
    ("data", "claimed", "kind", "ext"),
    [
        (PNG, "image/png", "image/png", "png"),
        (JPEG, "image/png", "image/jpeg", "jpg"),
        (GIF, "application/octet-stream", "image/gif", "gif"),
    ],
)
async def test_upload_then_download(client, alice, data, claimed, kind, ext):
    response = await _upload(client, alice, data, claimed=claimed)
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert (body["size"], body["type"]) == (len(data), kind)
    assert body["fileName"].endswith(f".{ext}")
    assert body["url"] == f"/api/files/uploads/{body['fileName']}"
    download = await client.get(body["url"])
    assert download.status_code == 200
    assert download.content == data
    assert download.headers["content-type"] == kind


async def test_names_are_unique(client, alice):
    first = (await _upload(client, alice, PNG)).json()["fileName"]
    second = (await _upload(client, alice, PNG)).json()["fileName"]
    assert first != second


async def test_hostile_filename_is_sanitised(client, alice):
    response = await _upload(client, alice, PNG, filename="../../etc/pa ss\\wd.png")
    assert response.status_code == 200
    name = response.json()["fileName"]
    assert "/" not in name
    assert "\\" not in name
    assert ".." not in name


@pytest.mark.parametrize(
    ("data", "claimed"),
    [
        (b"<svg xmlns='http://www.w3.org/2000/svg'/>", "image/png"),
        (b"MZ\x90\x00", "image/gif"),
        (b"", "image/png"),
    ],
)
async def test_not_an_image_is_refused(client, stored_files, alice, data, claimed):
    response = await _upload(client, alice, data, claimed=claimed)
    assert response.status_code == 400
    assert response.json() == {"error": "Invalid file type"}
    assert await stored_files() == (0, 0)


async def test_over_the_limit_is_413_and_stores_nothing(client, stored_files, alice, settings):
    data = PNG + b"\x00" * settings.max_upload_bytes
    response = await _upload(client, alice, data)
    assert response.status_code == 413
    assert response.json()["error"]
    assert await stored_files() == (0, 0)
    # Far over the limit: refused while reading the body.
    response = await _upload(client, alice, data * 3)
    assert response.status_code == 413
    assert await stored_files() == (0, 0)


async def test_at_the_limit_is_accepted(client, alice, settings):
    data = PNG + b"\x00" * (settings.max_upload_bytes - len(PNG))
    response = await _upload(client, alice, data)
    assert response.status_code == 200
    assert response.json()["size"] == settings.max_upload_bytes


async def test_sign_in_required(client, stored_files):
    response = await _upload(client, {}, PNG)
    assert response.status_code == 401
    assert await stored_files() == (0, 0)


async def test_missing_file_field_and_wrong_content_type(client, stored_files, alice):
    response = await _upload(client, alice, PNG, field="picture")
    assert response.status_code == 400
    assert response.json()["error"] == "No file uploaded"
    response = await client.post("/api/upload", json={"file": "x"}, headers=alice["headers"])
    assert response.status_code == 415
    response = await client.post(
        "/api/upload", data={"file": "just text"}, headers=alice["headers"]
    )
    assert response.status_code in (400, 415)
    assert await stored_files() == (0, 0)
