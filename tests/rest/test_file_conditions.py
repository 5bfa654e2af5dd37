"""``/api/files/<path>`` conditional and partial: validators, 304, ranges, HEAD, If-Match."""

from __future__ import annotations

import asyncio

import pytest

from gateway.documents.gridfs import CHUNK_SIZE
from tests.conftest import listened_app
from tests.services.test_file_store import ChunkReads

DATA = bytes(range(256)) * 4000  # 1,024,000 bytes: four GridFS chunks and a piece
SIZE = len(DATA)
URL = "/api/files/media/clip.bin"


async def _put(client, user, path="media/clip.bin", data=DATA):
    response = await client.post(
        f"/api/files/{path}",
        content=data,
        headers={**user["headers"], "Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 201, response.text
    return response.json()


async def test_validators_come_from_the_stored_file(client, alice):
    meta = await _put(client, alice)
    response = await client.get(URL)
    assert response.status_code == 200
    assert response.headers["etag"] == f'"{meta["version"]}"'
    assert response.headers["last-modified"].endswith(" GMT")
    assert response.headers["cache-control"] == "public, no-cache"
    assert response.headers["accept-ranges"] == "bytes"
    assert (await client.get(URL)).headers["etag"] == response.headers["etag"]
    # The same path deleted and uploaded again holds other bytes: another tag.
    assert (await client.delete(URL, headers=alice["headers"])).status_code == 204
    again = await _put(client, alice, data=b"other")
    assert again["version"] != meta["version"]
    assert (await client.get(URL)).headers["etag"] == f'"{again["version"]}"'


@pytest.mark.parametrize("cache_control", [None, "no-cache", "max-age=0"])
@pytest.mark.parametrize("validator", ["If-None-Match", "If-Modified-Since"])
async def test_304_whatever_cache_control_the_client_sends(client, alice, validator, cache_control):
    await _put(client, alice)
    first = await client.get(URL)
    given = (
        first.headers["etag"] if validator == "If-None-Match" else first.headers["last-modified"]
    )
    headers = {validator: given}
    if cache_control:
        headers["Cache-Control"] = cache_control
    response = await client.get(URL, headers=headers)
    assert response.status_code == 304
    assert response.content == b""
    for name in ("etag", "last-modified", "cache-control", "accept-ranges"):
        assert response.headers[name] == first.headers[name]
    assert "content-disposition" not in response.headers


async def test_a_stale_validator_gets_the_file(client, alice):
    await _put(client, alice)
    for headers in (
        {"If-None-Match": '"0123456789abcdef01234567", W/"other"'},
        {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"},
        # If-None-Match decides when present, even with a date that would give a 304.
        {"If-None-Match": '"stale"', "If-Modified-Since": "Fri, 01 Jan 2100 00:00:00 GMT"},
    ):
        response = await client.get(URL, headers=headers)
        assert response.status_code == 200
        assert response.content == DATA


@pytest.mark.parametrize(
    ("asked", "first", "last"),
    [
        ("bytes=0-99", 0, 99),  # the first bytes
        ("bytes=300000-600000", 300_000, 600_000),  # the middle, across chunk boundaries
        (f"bytes={CHUNK_SIZE}-{CHUNK_SIZE}", CHUNK_SIZE, CHUNK_SIZE),  # one byte, a chunk's first
        ("bytes=-1000", SIZE - 1000, SIZE - 1),  # a suffix
        (f"bytes=-{SIZE * 2}", 0, SIZE - 1),  # a suffix longer than the file: all of it
        ("bytes=1000000-", 1_000_000, SIZE - 1),  # open-ended
        (f"bytes=1000-{SIZE * 5}", 1000, SIZE - 1),  # an end past the end is cut to it
    ],
)
async def test_a_single_range_is_206(client, alice, asked, first, last):
    await _put(client, alice)
    response = await client.get(URL, headers={"Range": asked})
    assert response.status_code == 206
    assert response.content == DATA[first : last + 1]
    assert response.headers["content-range"] == f"bytes {first}-{last}/{SIZE}"
    assert response.headers["content-length"] == str(last - first + 1)
    assert response.headers["content-type"] == "application/octet-stream"
    assert response.headers["etag"] == (await client.get(URL)).headers["etag"]
    assert "content-encoding" not in response.headers


@pytest.mark.parametrize("asked", [f"bytes={SIZE}-", f"bytes={SIZE + 10}-{SIZE + 20}", "bytes=-0"])
async def test_a_range_past_the_end_is_416(client, alice, asked):
    await _put(client, alice)
    response = await client.get(URL, headers={"Range": asked})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{SIZE}"
    assert response.json() == {"error": "Range not satisfiable"}


async def test_any_range_of_an_empty_file_is_416(client, alice):
    await _put(client, alice, "empty.bin", b"")
    response = await client.get("/api/files/empty.bin", headers={"Range": "bytes=0-"})
    assert (response.status_code, response.headers["content-range"]) == (416, "bytes */0")


@pytest.mark.parametrize("asked", ["bytes=0-9,20-29", "bytes=5-1", "items=0-9", "bytes=x-"])
async def test_several_or_unreadable_ranges_get_the_whole_file(client, alice, asked):
    await _put(client, alice)
    response = await client.get(URL, headers={"Range": asked})
    assert response.status_code == 200
    assert response.content == DATA
    assert "content-range" not in response.headers


async def test_if_range_serves_the_range_only_for_the_current_file(client, alice):
    await _put(client, alice)
    whole = await client.get(URL)
    for current in (whole.headers["etag"], whole.headers["last-modified"]):
        response = await client.get(URL, headers={"Range": "bytes=0-9", "If-Range": current})
        assert (response.status_code, response.content) == (206, DATA[:10])
    for stale in (
        '"another-version"',
        f"W/{whole.headers['etag']}",
        "Mon, 01 Jan 2001 00:00:00 GMT",
    ):
        response = await client.get(URL, headers={"Range": "bytes=0-9", "If-Range": stale})
        assert (response.status_code, response.content) == (200, DATA)


async def test_head_gives_the_headers_without_the_body(client, alice):
    await _put(client, alice)
    full = await client.get(URL)
    response = await client.head(URL)
    assert response.status_code == 200
    assert response.content == b""
    for name in (
        "content-length", "content-type", "content-disposition", "etag", "last-modified",
        "accept-ranges", "cache-control",
    ):  # fmt: skip
        assert response.headers[name] == full.headers[name], name
    assert response.headers["content-length"] == str(SIZE)
    conditional = await client.head(URL, headers={"If-None-Match": full.headers["etag"]})
    assert (conditional.status_code, conditional.content) == (304, b"")
    assert (await client.head("/api/files/none.bin")).status_code == 404


async def test_if_match_on_delete(client, purged_files, alice):
    meta = await _put(client, alice)
    etag = f'"{meta["version"]}"'
    for stale in ('"0123456789abcdef01234567"', f"W/{etag}", "not a tag"):
        response = await client.delete(URL, headers={**alice["headers"], "If-Match": stale})
        assert response.status_code == 412
        assert response.json()["error"].startswith("The file is not the version named")
    assert (await client.get(URL)).content == DATA  # nothing deleted
    matching = {**alice["headers"], "If-Match": f'"other", {etag}'}
    assert (await client.delete(URL, headers=matching)).status_code == 204
    assert (await client.get(URL)).status_code == 404
    assert await purged_files() == (0, 0)
    # The tag of a file since deleted: 412, also when none is there any more.
    assert (await client.delete(URL, headers=matching)).status_code == 412
    await _put(client, alice, data=b"new")
    assert (await client.delete(URL, headers=matching)).status_code == 412
    assert (await client.get(URL)).content == b"new"


async def test_if_match_does_not_pass_ownership(client, alice, bob):
    meta = await _put(client, alice)
    headers = {**bob["headers"], "If-Match": f'"{meta["version"]}"'}
    assert (await client.delete(URL, headers=headers)).status_code == 403
    assert (await client.get(URL)).status_code == 200


async def test_concurrent_deletes_with_one_tag_one_wins(client, purged_files, alice):
    meta = await _put(client, alice)
    headers = {**alice["headers"], "If-Match": f'"{meta["version"]}"'}
    answers = await asyncio.gather(*(client.delete(URL, headers=headers) for _ in range(8)))
    assert sorted(answer.status_code for answer in answers) == [204] + [412] * 7
    assert await purged_files() == (0, 0)


async def test_head_and_304_read_no_chunk(settings, mongo_uri, db, alice):
    """HEAD and a revalidation read the file's record, never its bytes."""
    reads = ChunkReads()
    async with listened_app(settings, mongo_uri, reads) as (_, http):
        await _put(http, alice)
        etag = (await http.get(URL)).headers["etag"]
        assert reads.chunks == -(-SIZE // CHUNK_SIZE)  # the whole download: every chunk
        reads.queries = reads.chunks = 0
        assert (await http.head(URL)).status_code == 200
        assert (await http.get(URL, headers={"If-None-Match": etag})).status_code == 304
        assert (reads.queries, reads.chunks) == (0, 0)
