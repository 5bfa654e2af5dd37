"""One path holds one file, under concurrency: creations and deletions of one path racing.

The embedded server does not enforce the unique index on ``fs.files.filename``
(see tests/services/test_quirks.py), so this is what proves the guarantee there;
with ``GATEWAY_TEST_MONGODB_URI`` the same test runs against a real MongoDB.
"""

from __future__ import annotations

import asyncio
import os
from collections import Counter

from gateway.documents.file_paths import COLLECTION as CLAIMS
from tests.conftest import make_user

RACERS = 32
SIZE = 700 * 1024  # three GridFS chunks


async def test_concurrent_creations_of_one_path_store_exactly_one(
    client, services, db, purged_files
):
    users = await asyncio.gather(*(make_user(services, name=f"U{i}") for i in range(RACERS)))
    bodies = [os.urandom(SIZE) for _ in users]

    async def create(user, body):
        return await client.post(
            "/api/files/race/one.bin",
            content=body,
            headers={**user["headers"], "Content-Type": "application/octet-stream"},
        )

    responses = await asyncio.gather(*(create(u, b) for u, b in zip(users, bodies, strict=True)))
    assert Counter(r.status_code for r in responses) == {201: 1, 409: RACERS - 1}
    winner = next(i for i, r in enumerate(responses) if r.status_code == 201)
    for response in responses:
        if response.status_code == 409:
            assert response.json() == {"error": "A file already exists at this path"}
    assert await purged_files() == (1, 3)  # one file record, and only its chunks
    download = await client.get("/api/files/race/one.bin")
    assert download.content == bodies[winner]
    claims = await db[CLAIMS].find().to_list(None)
    assert [(c["_id"], c["state"], c["ownerId"]) for c in claims] == [
        ("race/one.bin", "ready", users[winner]["id"])
    ]


async def test_concurrent_deletions_of_one_file_succeed_once(
    client, db, purged_files, alice, admin
):
    headers = {**alice["headers"], "Content-Type": "application/octet-stream"}
    created = await client.post("/api/files/race/gone.bin", content=b"z" * SIZE, headers=headers)
    assert created.status_code == 201
    deleters = [alice, admin] * (RACERS // 2)
    responses = await asyncio.gather(
        *(client.delete("/api/files/race/gone.bin", headers=u["headers"]) for u in deleters)
    )
    assert Counter(r.status_code for r in responses) == {204: 1, 404: RACERS - 1}
    assert await purged_files() == (0, 0)
    assert await db[CLAIMS].count_documents({}) == 0
    assert (await client.get("/api/files/race/gone.bin")).status_code == 404
    again = await client.post("/api/files/race/gone.bin", content=b"new", headers=headers)
    assert again.status_code == 201  # the path is free again


async def test_creations_racing_a_deletion_never_show_a_partial_file(client, alice, bob):
    headers = {**alice["headers"], "Content-Type": "application/octet-stream"}
    first = os.urandom(SIZE)
    assert (await client.post("/api/files/race/x.bin", content=first, headers=headers)).is_success
    second = os.urandom(SIZE)

    async def reader() -> set[int]:
        seen = set()
        for _ in range(20):
            response = await client.get("/api/files/race/x.bin")
            seen.add(response.status_code)
            if response.status_code == 200:
                assert response.content in {first, second}
        return seen

    async def replace() -> None:
        assert (await client.delete("/api/files/race/x.bin", headers=alice["headers"])).is_success
        bob_headers = {**bob["headers"], "Content-Type": "application/octet-stream"}
        response = await client.post("/api/files/race/x.bin", content=second, headers=bob_headers)
        assert response.status_code == 201

    seen, _ = await asyncio.gather(reader(), replace())
    assert seen <= {200, 404}
    assert (await client.get("/api/files/race/x.bin")).content == second
