"""The file store and its rules, below HTTP: path rules, sniffing, streaming, cleanup."""

from __future__ import annotations

import asyncio
import os

import pytest
from pymongo import AsyncMongoClient, monitoring

from gateway.db import utcnow
from gateway.documents.file_paths import COLLECTION as CLAIMS
from gateway.documents.gridfs import CHUNK_SIZE, CHUNKS
from gateway.errors import (
    Conflict,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    RequestTimeout,
    ValidationFailed,
)
from gateway.gridfs_store import WINDOW, FileStore
from gateway.services.file_rules import check_path, may_hold_file, sniff_image

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.mark.parametrize(
    "path",
    [
        "", "/", "a//b", "/a", "///a", "a/b/", "a/./b", "a/../b", "..", "a/", "a\\b", "a/\x00",
        "a/\tb", "a/\x85b", "a/\ud800", "x" * 1025,
        # A URL's escaped form: escapes that are not UTF-8, or that decode to a bad path.
        b"%ff%fe", b"%c0%ae", b"a/%e9t%e9", b"a/%ed%a0%80", b"a//b", b"a%2F", b"%2e%2e/x",
        b"a/%00", b"a/\xff",
    ],
)  # fmt: skip
def test_bad_paths(path):
    with pytest.raises(ValidationFailed) as refused:
        check_path(path)
    assert refused.value.message == "Invalid file path"


@pytest.mark.parametrize(
    ("path", "normal"),
    [
        ("a/b.txt", "a/b.txt"),
        ("été/ü.png", "été/ü.png"),
        ("...", "..."),
        (b"%C3%A9t%C3%A9/na%C3%AFve%20file.txt", "été/naïve file.txt"),
        (b"a%2Fb", "a/b"),
        (b"caf\xc3\xa9", "café"),  # raw UTF-8 in a request line
    ],
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
    with pytest.raises(Forbidden):
        await store.delete("taken", owner_id="v")
    await store.delete("taken", owner_id="u")
    with pytest.raises(NotFound):
        await store.delete("taken")
    assert await driver_db[CLAIMS].count_documents({}) == 0


async def test_a_failing_client_stream_leaves_nothing(driver_db):
    store = FileStore(driver_db)

    async def broken():
        yield b"x" * (CHUNK_SIZE * 2 + 10)
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await store.save("gone", broken(), content_type="a/b", owner_id="u", max_bytes=10**9)
    with pytest.raises(NotFound):
        await store.get("gone")
    assert await driver_db[CLAIMS].count_documents({}) == 0
    await store.save("gone", _chunks(b"again"), content_type="a/b", owner_id="u", max_bytes=10)


async def _leftovers(db, file_id: str) -> tuple[int, int, int]:
    """Claims, file documents and chunks of one file (the embedded server's GridFS
    answers chunk queries only by ``files_id``)."""
    return (
        await db[CLAIMS].count_documents({"fileId": file_id}),
        len(await db["fs.files"].find({"_id": file_id}).to_list(None)),
        len(await db["fs.chunks"].find({"files_id": file_id}).to_list(None)),
    )


async def _crashed_upload(db, path: str, state: str, alive_ms: int) -> str:
    """What a gateway killed mid-upload (or mid-delete) leaves: a claim, chunks, maybe a file."""
    file_id = f"{abs(hash(path)):024x}"[:24]
    await db[CLAIMS].insert_one(
        {"_id": path, "fileId": file_id, "state": state, "ownerId": "u", "aliveMs": alive_ms}
    )
    for n in range(3):
        await db["fs.chunks"].insert_one({"files_id": file_id, "n": n, "data": b"x" * 10})
    if state == "deleting":
        await db["fs.files"].insert_one(
            {
                "_id": file_id,
                "length": 30,
                "chunkSize": 10,
                "uploadDate": utcnow(),
                "filename": path,
            }
        )
    return file_id


async def test_sweep_removes_stale_unfinished_uploads_and_deletions_only(driver_db):
    store = FileStore(driver_db, purge_grace_ms=0)
    await store.save("kept", _chunks(b"ready"), content_type="a/b", owner_id="u", max_bytes=10)
    stale = [
        await _crashed_upload(driver_db, f"stale/{i}", state, alive_ms=1_000)
        for i, state in enumerate(["uploading", "uploading", "deleting"])
    ]
    fresh = await _crashed_upload(driver_db, "fresh", "uploading", alive_ms=2**62)
    with pytest.raises(NotFound):
        await store.get("stale/0")  # never visible
    with pytest.raises(Conflict):  # still held until swept
        await store.save("stale/0", _chunks(b"x"), content_type="a/b", owner_id="v", max_bytes=9)
    assert await store.sweep(60_000, limit=2) == 2  # bounded work per call
    assert await store.sweep(60_000, limit=2) == 2  # the deletion, then its bytes
    assert await store.sweep(60_000) == 0
    for file_id in stale:
        assert await _leftovers(driver_db, file_id) == (0, 0, 0)
    claims, _, chunks = await _leftovers(driver_db, fresh)  # (the embedded server adds a
    assert (claims, chunks) == (1, 3)  # placeholder file document for chunks without one)
    assert (await store.get("kept")).size == 5
    await store.save("stale/0", _chunks(b"x"), content_type="a/b", owner_id="v", max_bytes=9)


async def test_concurrent_sweepers_remove_each_leftover_once(driver_db):
    stores = [FileStore(driver_db) for _ in range(4)]
    ids = [await _crashed_upload(driver_db, f"s/{i}", "uploading", 1_000) for i in range(6)]
    swept = await asyncio.gather(*(store.sweep(1_000) for store in stores))
    assert sum(swept) == 6
    for file_id in ids:
        assert await _leftovers(driver_db, file_id) == (0, 0, 0)


async def test_an_upload_swept_while_stalled_fails_and_leaves_nothing(driver_db):
    store = FileStore(driver_db)
    stalled, resume = asyncio.Event(), asyncio.Event()

    async def stalling():
        yield b"x" * (CHUNK_SIZE + 1)
        stalled.set()  # the first chunk is stored
        await resume.wait()
        yield b"y" * CHUNK_SIZE

    upload = asyncio.create_task(
        store.save("slow", stalling(), content_type="a/b", owner_id="u", max_bytes=10**9)
    )
    await stalled.wait()
    claim = await driver_db[CLAIMS].find_one({"_id": "slow"})
    assert await _leftovers(driver_db, claim["fileId"]) == (1, 1, 1)  # a placeholder file document
    with pytest.raises(NotFound):
        await store.get("slow")  # an unfinished upload is never visible
    assert await store.sweep(0) == 1
    resume.set()
    with pytest.raises(RequestTimeout):
        await upload
    assert await _leftovers(driver_db, claim["fileId"]) == (0, 0, 0)


async def test_the_sweeper_loop_keeps_sweeping_through_failures(core, driver_db, monkeypatch):
    file_id = await _crashed_upload(driver_db, "loop", "uploading", alive_ms=1_000)
    real_sweep, calls, swept = core.files.sweep, [], asyncio.Event()

    async def flaky(older_than_s: float) -> int:
        calls.append(older_than_s)
        if len(calls) == 1:
            raise ConnectionError("database away")
        removed = await real_sweep(older_than_s)
        if removed:
            swept.set()
        return removed

    monkeypatch.setattr(core.files, "sweep", flaky)
    sweeper = asyncio.create_task(core.files.sweep_forever(0.01, older_than_s=60))
    try:
        async with asyncio.timeout(10):
            await swept.wait()
    finally:
        sweeper.cancel()
    assert await _leftovers(driver_db, file_id) == (0, 0, 0)
    assert len(calls) >= 2
    assert set(calls) == {60}


async def test_files_stored_before_claims_are_adopted(driver_db):
    """An upgrade loses no file: a GridFS file without a claim gets a ready one, once."""
    store = FileStore(driver_db)
    legacy = {
        "_id": "legacy-file-id",
        "length": 3,
        "chunkSize": CHUNK_SIZE,
        "uploadDate": utcnow(),
        "filename": "old/notes.txt",
        "metadata": {"contentType": "text/plain", "ownerId": "someone"},
    }
    await driver_db["fs.files"].insert_one(legacy)
    await driver_db["fs.chunks"].insert_one({"files_id": "legacy-file-id", "n": 0, "data": b"abc"})
    # A name the path rules refuse is no path: that file stays unclaimed.
    await driver_db["fs.files"].insert_one({**legacy, "_id": "bad-name-id", "filename": "a//b"})
    with pytest.raises(NotFound):
        await store.get("old/notes.txt")  # invisible without a claim
    uploaded = await store.save(
        "new/a.bin", _chunks(b"xyz"), content_type="application/octet-stream",
        owner_id="me", max_bytes=10,
    )  # fmt: skip
    assert await store.adopt_unclaimed(may_hold_file, batch=1) == 1  # new/a.bin has its claim
    assert await store.adopt_unclaimed(may_hold_file) == 0  # idempotent
    assert await driver_db[CLAIMS].find_one({"_id": "a//b"}) is None
    meta, stream = await store.stream("old/notes.txt")
    assert (meta.size, b"".join([part async for part in stream])) == (3, b"abc")
    assert (await store.get("new/a.bin")).size == uploaded.size
    claim = await driver_db[CLAIMS].find_one({"_id": "old/notes.txt"})
    assert claim["ownerId"] == "someone"


class ChunkReads(monitoring.CommandListener):
    """Counts the chunk queries the driver sends and the chunk documents they bring back."""

    def __init__(self) -> None:
        self.queries = self.chunks = 0
        self._ids: set[int] = set()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if event.command_name == "find" and event.command["find"] == CHUNKS:
            self.queries += 1
            self._ids.add(event.request_id)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        if event.request_id in self._ids:
            self.chunks += len(event.reply["cursor"]["firstBatch"])

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        pass


async def test_a_range_reads_only_the_chunks_that_hold_it(mongo_uri, settings):
    """The last MiB of a 50 MB file costs what the MiB holds, not what the file does."""
    reads = ChunkReads()
    client: AsyncMongoClient = AsyncMongoClient(mongo_uri, tz_aware=True, event_listeners=[reads])
    store = FileStore(client[settings.db_name])
    size, piece = 50 * 1024 * 1024, 1024 * 1024
    try:
        await store.save(
            "big.bin",
            _chunks(*(bytes([i % 251]) * piece for i in range(size // piece))),
            content_type="application/octet-stream",
            owner_id="u",
            max_bytes=size,
        )
        _, content = await store.stream("big.bin")
        reads.queries = reads.chunks = 0
        first = size - piece
        received = b"".join([part async for part in content.read(first, size - 1)])
        assert received == bytes([49 % 251]) * piece  # the 50th MiB
        covering = (size - 1) // CHUNK_SIZE - first // CHUNK_SIZE + 1  # 5 of 206 chunks
        assert reads.chunks == covering
        assert reads.queries == -(-covering // WINDOW)
        middle = b"".join([part async for part in content.read(CHUNK_SIZE - 2, CHUNK_SIZE + 1)])
        assert middle == bytes([0, 0, 0, 0])  # across a chunk boundary, trimmed both sides
    finally:
        await client.drop_database(settings.db_name)
        await client.close()


async def test_a_download_begun_before_a_deletion_finishes_whole(driver_db):
    data = os.urandom(3 * 1024 * 1024)  # several read windows
    store = FileStore(driver_db, purge_grace_ms=60_000)
    await store.save(
        "kept/long.bin", _chunks(data), content_type="a/b", owner_id="u", max_bytes=2**30
    )
    _, body = await store.stream("kept/long.bin")
    reading = aiter(body)
    first = await anext(reading)
    await store.delete("kept/long.bin")
    with pytest.raises(NotFound):
        await store.get("kept/long.bin")  # gone for anyone new at once
    await store.save(
        "kept/long.bin", _chunks(b"new"), content_type="a/b", owner_id="v", max_bytes=9
    )
    assert first + b"".join([part async for part in reading]) == data
    assert await store.sweep(60_000) == 0  # the grace has not passed: the bytes stay


async def test_a_deleted_files_bytes_go_once_its_grace_has_passed(driver_db):
    store = FileStore(driver_db, purge_grace_ms=0)
    await store.save("gone.bin", _chunks(b"12345"), content_type="a/b", owner_id="u", max_bytes=9)
    file_id = (await driver_db[CLAIMS].find_one({"_id": "gone.bin"}))["fileId"]
    await store.delete("gone.bin")
    assert await _leftovers(driver_db, file_id) != (0, 0, 0)  # kept for running downloads
    assert await store.sweep(60_000) == 1
    assert await _leftovers(driver_db, file_id) == (0, 0, 0)
    assert await driver_db["file_purges"].count_documents({}) == 0
