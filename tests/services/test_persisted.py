"""Persisted queries: the byte-bounded stores, Apollo's APQ protocol, the allow-list."""

from __future__ import annotations

import json
import logging
import uuid

import pytest
from redis.asyncio import Redis

from gateway.config import SettingsError
from gateway.errors import ValidationFailed
from gateway.persisted import (
    Allowlist,
    MemoryPersistedQueries,
    PersistedQueryNotFound,
    RedisPersistedQueries,
    persisted_hash,
    resolve,
    sha256_hex,
)


def unique_query(padding: int = 0) -> str:
    return f"query Q{uuid.uuid4().hex} {{ me {{ id }} }}" + " " * padding


def apq(digest: str) -> dict[str, object]:
    return {"persistedQuery": {"version": 1, "sha256Hash": digest}}


@pytest.fixture(params=["memory", "redis"])
async def store(request, redis_url):
    made = (
        MemoryPersistedQueries() if request.param == "memory" else RedisPersistedQueries(redis_url)
    )
    yield made
    await made.close()


# The stores


async def test_memory_store_is_an_lru_bounded_in_bytes():
    store = MemoryPersistedQueries(max_bytes=1000, max_entry_bytes=400)
    texts = [f"{i}" + "é" * 150 for i in range(6)]  # 301 bytes each, 151 characters
    for text in texts[:3]:
        await store.put(sha256_hex(text), text)
    assert await store.get(sha256_hex(texts[0])) == texts[0]  # now the most recent
    await store.put(sha256_hex(texts[3]), texts[3])  # 1204 bytes: the oldest goes
    assert await store.get(sha256_hex(texts[1])) is None
    for text in (texts[0], texts[2], texts[3]):
        assert await store.get(sha256_hex(text)) == text
    for text in texts[4:]:
        await store.put(sha256_hex(text), text)
    kept = [text for text in texts if await store.get(sha256_hex(text)) is not None]
    assert kept == texts[3:]
    assert sum(len(text.encode()) for text in kept) <= 1000


async def test_memory_store_does_not_keep_an_oversized_document():
    store = MemoryPersistedQueries(max_bytes=1000, max_entry_bytes=100)
    small, large = "{ a }", "{ b }" + " " * 100
    await store.put(sha256_hex(small), small)
    await store.put(sha256_hex(large), large)
    assert await store.get(sha256_hex(large)) is None
    assert await store.get(sha256_hex(small)) == small  # nothing was evicted for it


async def test_redis_store_keeps_texts_with_a_ttl(redis_url):
    store = RedisPersistedQueries(redis_url, ttl=600, max_entry_bytes=1000)
    text, large = unique_query(), unique_query(padding=1000)
    await store.put(sha256_hex(text), text)
    await store.put(sha256_hex(large), large)
    assert await store.get(sha256_hex(text)) == text
    assert await store.get(sha256_hex(large)) is None
    assert await store.get(sha256_hex(unique_query())) is None
    raw = Redis.from_url(redis_url)
    assert 0 < await raw.ttl(f"gateway:apq:{sha256_hex(text)}") <= 600
    assert await raw.exists(f"gateway:apq:{sha256_hex(large)}") == 0
    await raw.aclose()
    await store.close()


async def test_redis_outage_is_a_miss(caplog):
    store = RedisPersistedQueries("redis://127.0.0.1:1/0")  # nothing listens there
    text = unique_query()
    with caplog.at_level(logging.WARNING, logger="gateway.persisted"):
        await store.put(sha256_hex(text), text)
        assert await store.get(sha256_hex(text)) is None
    assert "not storing" in caplog.text
    assert "treating as a miss" in caplog.text
    await store.close()


# The protocol


def test_sha256_hex():
    assert sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


@pytest.mark.parametrize("extensions", [None, {}, {"other": 1}])
def test_no_persisted_query(extensions):
    assert persisted_hash(extensions) is None


@pytest.mark.parametrize(
    ("extensions", "message"),
    [
        ("persistedQuery", "Invalid extensions"),
        ([1], "Invalid extensions"),
        ({"persistedQuery": "abc"}, "Invalid persisted query"),
        ({"persistedQuery": [1, "a" * 64]}, "Invalid persisted query"),
        ({"persistedQuery": 1}, "Invalid persisted query"),
        ({"persistedQuery": None}, "Invalid persisted query"),
        ({"persistedQuery": {"version": 2, "sha256Hash": "a" * 64}}, "Unsupported"),
        ({"persistedQuery": {"version": True, "sha256Hash": "a" * 64}}, "Unsupported"),
        ({"persistedQuery": {"version": "1", "sha256Hash": "a" * 64}}, "Unsupported"),
        ({"persistedQuery": {"sha256Hash": "a" * 64}}, "Unsupported"),
        (apq("A" * 64), "Invalid persisted query hash"),
        (apq("a" * 63), "Invalid persisted query hash"),
        (apq("a" * 65), "Invalid persisted query hash"),
        (apq("g" * 64), "Invalid persisted query hash"),
        (apq("a" * 64 + "\n"), "Invalid persisted query hash"),
        ({"persistedQuery": {"version": 1, "sha256Hash": None}}, "Invalid persisted query hash"),
        ({"persistedQuery": {"version": 1}}, "Invalid persisted query hash"),
    ],
)
def test_malformed_persisted_query(extensions, message):
    with pytest.raises(ValidationFailed) as caught:
        persisted_hash(extensions)
    assert caught.value.message.startswith(message)
    assert caught.value.details


async def test_apq_round_trip(store):
    text = unique_query()
    digest = sha256_hex(text)
    with pytest.raises(PersistedQueryNotFound) as caught:
        await resolve(store, None, None, apq(digest))
    assert caught.value.message == "PersistedQueryNotFound"
    assert caught.value.extensions == {"code": "PERSISTED_QUERY_NOT_FOUND"}
    assert await resolve(store, None, text, apq(digest)) == text
    assert await resolve(store, None, None, apq(digest)) == text
    assert await resolve(store, None, "", apq(digest)) == text  # empty text: no text


async def test_hash_must_match_the_text(store):
    text = unique_query()
    other = sha256_hex(unique_query())
    with pytest.raises(ValidationFailed, match="provided sha does not match query"):
        await resolve(store, None, text, apq(other))
    assert await store.get(other) is None


async def test_without_a_hash_the_query_passes_unchanged(store):
    text = unique_query()
    assert await resolve(store, None, text, None) == text
    assert await resolve(store, None, text, {"tracing": True}) == text
    assert await resolve(store, None, None, None) is None
    assert await store.get(sha256_hex(text)) is None  # only APQ requests store


# The allow-list

LISTED = "query Listed { me { id } }"
HASHED_ONLY = "query HashedOnly { me { name } }"


def write(tmp_path, content: str) -> str:
    path = tmp_path / f"allow-{uuid.uuid4().hex}"
    path.write_text(content, encoding="utf-8")
    return str(path)


def test_loads_an_apollo_manifest(tmp_path):
    manifest = {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [
            {"id": sha256_hex(LISTED), "name": "Listed", "type": "query", "body": LISTED}
        ],
    }
    allowlist = Allowlist.load(write(tmp_path, json.dumps(manifest)))
    assert allowlist.allows(sha256_hex(LISTED))
    assert allowlist.text(sha256_hex(LISTED)) == LISTED
    assert not allowlist.allows(sha256_hex(HASHED_ONLY))
    assert allowlist.text(sha256_hex(HASHED_ONLY)) is None


def test_loads_a_relay_map(tmp_path):
    allowlist = Allowlist.load(write(tmp_path, json.dumps({sha256_hex(LISTED): LISTED})))
    assert allowlist.text(sha256_hex(LISTED)) == LISTED


def test_loads_a_file_of_hashes(tmp_path):
    content = (
        f"# the mobile app\n\n{sha256_hex(LISTED)}\n  {sha256_hex(HASHED_ONLY).upper()}  # v2\n"
    )
    allowlist = Allowlist.load(write(tmp_path, content))
    assert allowlist.allows(sha256_hex(LISTED))
    assert allowlist.allows(sha256_hex(HASHED_ONLY))
    assert allowlist.text(sha256_hex(LISTED)) is None


def manifest_with(operations: object, **fields: object) -> str:
    return json.dumps(
        {"format": "apollo-persisted-query-manifest", "version": 1, "operations": operations}
        | fields
    )


@pytest.mark.parametrize(
    ("content", "where"),
    [
        (f"{sha256_hex(LISTED)}\nnot-a-hash\n", "line 2: not a SHA-256"),
        ("a" * 63 + "\n", "line 1: not a SHA-256"),
        ("# nothing but comments\n\n", "lists no operation"),
        ("{}", "lists no operation"),
        ('{"a": ', "invalid JSON"),
        (json.dumps({"0" * 64: LISTED}), f"entry '{'0' * 64}': the id is not the SHA-256"),
        (json.dumps({sha256_hex(LISTED): 3}), "must be a string"),
        (json.dumps({"format": "relay", "operations": []}), "'format' must be"),
        (manifest_with([], version=2), "manifest version must be 1"),
        (manifest_with({"a": 1}), "needs an 'operations' list"),
        (manifest_with(["x"]), "operation 0: must be an object"),
        (
            manifest_with([{"id": sha256_hex(LISTED), "name": "Wrong", "body": HASHED_ONLY}]),
            "operation 0 ('Wrong'): the id is not the SHA-256",
        ),
        (manifest_with([{"id": sha256_hex(LISTED), "name": "NoBody"}]), "must be a string"),
    ],
)
def test_refuses_a_malformed_file(tmp_path, content, where):
    path = write(tmp_path, content)
    with pytest.raises(SettingsError) as caught:
        Allowlist.load(path)
    assert str(caught.value).startswith(f"allow-list {path}: ")
    assert where in str(caught.value)


def test_refuses_a_missing_file(tmp_path):
    with pytest.raises(SettingsError, match="cannot be read"):
        Allowlist.load(tmp_path / "absent.json")


@pytest.fixture
def allowlist():
    return Allowlist({sha256_hex(LISTED): LISTED, sha256_hex(HASHED_ONLY): None})


async def test_allowlist_admits_listed_documents(store, allowlist):
    assert await resolve(store, allowlist, LISTED, None) == LISTED
    assert await resolve(store, allowlist, None, apq(sha256_hex(LISTED))) == LISTED
    assert await resolve(store, allowlist, LISTED, apq(sha256_hex(LISTED))) == LISTED
    assert await resolve(store, allowlist, HASHED_ONLY, None) == HASHED_ONLY
    # Listed by hash only: the client is asked for the text, which is not stored.
    with pytest.raises(PersistedQueryNotFound):
        await resolve(store, allowlist, None, apq(sha256_hex(HASHED_ONLY)))
    assert await resolve(store, allowlist, HASHED_ONLY, apq(sha256_hex(HASHED_ONLY)))
    assert await store.get(sha256_hex(HASHED_ONLY)) is None
    with pytest.raises(PersistedQueryNotFound):
        await resolve(store, allowlist, None, apq(sha256_hex(HASHED_ONLY)))


async def test_allowlist_refuses_other_documents(store, allowlist):
    text = unique_query()
    digest = sha256_hex(text)
    for query, extensions in [(text, None), (None, apq(digest)), (text, apq(digest))]:
        with pytest.raises(ValidationFailed, match="Operation not in the allow-list"):
            await resolve(store, allowlist, query, extensions)
    assert await store.get(digest) is None


async def test_allowlist_ignores_the_store(store, allowlist):
    text = unique_query()
    await store.put(sha256_hex(text), text)  # kept before allow-list mode, or by another process
    with pytest.raises(ValidationFailed, match="Operation not in the allow-list"):
        await resolve(store, allowlist, None, apq(sha256_hex(text)))
