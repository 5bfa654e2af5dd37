"""The file store and its rules, below HTTP: path rules, sniffing, streaming, cleanup."""

from __future__ import annotations

import pytest

from gateway.errors import Conflict, NotFound, PayloadTooLarge, ValidationFailed
from gateway.files import CHUNK_SIZE, FileStore, check_path, sniff_image

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.mark.parametrize(
    "path",
    ["", "/", "a//b", "a/./b", "a/../b", "..", "a/", "a\\b", "a/\x00", "a/\tb", "x" * 1025],
)
def test_bad_paths(path):
    with pytest.raises(ValidationFailed):
        check_path(path)


@pytest.mark.parametrize(
    ("path", "normal"),
    [("a/b.txt", "a/b.txt"), ("/a/b.txt", "a/b.txt"), ("été/ü.png", "été/ü.png"), ("...", "...")],
)
def test_good_paths(path, normal):
    assert check_path(path) == normal


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"\xff\xd8\xff\xe0rest", "image/jpeg"),
        (PNG, "image/png"),
        (b"GIF89a...", "image/gif"),
        (b"GIF87a...", "image/gif"),
        (b"<svg></svg>", None),
        (b"\x89PNX", None),
        (b"", None),
    ],
)
def test_sniff(head, kind):
    assert sniff_image(head) == kind


async def _chunks(*parts: bytes):
    for part in parts:
        yield part


async def test_round_trip_in_windows(driver_db):
    store = FileStore(driver_db)
    data = bytes(range(251)) * (CHUNK_SIZE * 9 // 251 + 7)  # 9+ chunks: three read windows
    meta = await store.save(
        "w/data.bin",
        _chunks(data[:1000], data[1000:]),
        content_type="application/x",
        owner_id="u",
        max_bytes=len(data),
    )
    assert meta.size == len(data)
    found, stream = await store.stream("w/data.bin")
    assert found == meta
    assert b"".join([piece async for piece in stream]) == data
    assert await store.owner("w/data.bin") == "u"


async def test_limit_and_conflict_leave_the_store_clean(driver_db):
    store = FileStore(driver_db)
    with pytest.raises(PayloadTooLarge):
        await store.save(
            "big",
            _chunks(b"x" * CHUNK_SIZE, b"x" * CHUNK_SIZE),
            content_type="a/b",
            owner_id="u",
            max_bytes=CHUNK_SIZE + 1,
        )
    with pytest.raises(NotFound):
        await store.get("big")
    await store.save("taken", _chunks(b"1"), content_type="a/b", owner_id="u", max_bytes=10)
    with pytest.raises(Conflict):
        await store.save("taken", _chunks(b"2"), content_type="a/b", owner_id="v", max_bytes=10)
    _, stream = await store.stream("taken")
    assert b"".join([piece async for piece in stream]) == b"1"
    await store.delete("taken")
    with pytest.raises(NotFound):
        await store.delete("taken")


async def test_a_failing_client_stream_leaves_nothing(driver_db):
    store = FileStore(driver_db)

    async def broken():
        yield b"x" * (CHUNK_SIZE * 2 + 10)
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await store.save("gone", broken(), content_type="a/b", owner_id="u", max_bytes=10**9)
    with pytest.raises(NotFound):
        await store.get("gone")
