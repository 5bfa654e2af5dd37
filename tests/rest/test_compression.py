"""Compression (gzip, brotli by the client's q-values), versioned static assets, CORS headers.

Raw bodies are read with ``iter_raw`` (httpx would otherwise decode them) and
decoded here, so "the same bytes as identity" is checked on what was sent.
"""

from __future__ import annotations

import gzip
import re
import timeit
from typing import Any

import brotli
import httpx
import msgspec
import pytest
from litestar import Litestar, MediaType, Request, Response, get
from litestar.testing import TestClient

from gateway.compression import COMPRESS_MIN_BYTES, Compression, choose_coding, compressible
from gateway.static_assets import IMMUTABLE, REVALIDATE, asset_url

_DECODE = {"gzip": gzip.decompress, "br": brotli.decompress, None: lambda body: body}
_JSON = [(b"content-type", b"application/json")]


async def _raw(client: httpx.AsyncClient, method: str, url: str, **headers: str):
    """The answer and its body as sent (not decoded)."""
    async with client.stream(method, url, headers=headers) as response:
        body = b"".join([part async for part in response.aiter_raw()])
    return response, body


# --- the rules, without an app ------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "coding"),
    [
        (None, None),
        ("", None),
        ("identity", None),
        ("gzip", "gzip"),
        ("br", "br"),
        ("gzip, deflate, br", "br"),  # equal q: brotli
        ("gzip;q=1.0, br;q=0.9", "gzip"),  # gzip preferred
        ("br;q=0.5, gzip;q=0.5", "br"),
        ("br;q=0, gzip", "gzip"),  # refused outright
        ("br;q=0, gzip;q=0", None),
        ("*", "br"),
        ("*;q=0.2, gzip;q=0.5", "gzip"),
        ("gzip;q=0, *", "br"),
        ("GZIP;Q=0.8", "gzip"),
        ("br;q=oops, gzip", "gzip"),  # a malformed item is ignored
        ("deflate", None),
    ],
)
def test_coding_follows_the_q_values(accept: str | None, coding: str | None) -> None:
    assert choose_coding(accept) == coding


@pytest.mark.parametrize(
    ("path", "status", "headers", "expected"),
    [
        (b"/api/products", 200, _JSON, True),
        (b"/graphql", 200, [(b"content-type", b"application/graphql-response+json")], True),
        (b"/api/x", 422, [(b"content-type", b"application/problem+json")], True),
        (b"/schema", 200, [(b"content-type", b"text/html; charset=utf-8")], True),
        (b"/x.svg", 200, [(b"content-type", b"image/svg+xml")], True),
        (b"/api/products", 206, _JSON, False),  # a range: its bytes are the file's
        (b"/api/products", 304, _JSON, False),
        (b"/api/products", 204, _JSON, False),
        (b"/api/files/a.json", 200, _JSON, False),  # stored files: never
        (b"/api/files/a.txt", 200, [(b"content-type", b"text/plain")], False),
        (b"/x.png", 200, [(b"content-type", b"image/png")], False),
        (b"/x.zip", 200, [(b"content-type", b"application/zip")], False),
        (b"/x", 200, [(b"content-type", b"application/octet-stream")], False),
        (b"/x", 200, [*_JSON, (b"content-encoding", b"gzip")], False),  # already encoded
        (b"/x", 200, [*_JSON, (b"content-range", b"bytes 0-1/9")], False),
        (b"/x", 200, [*_JSON, (b"cache-control", b"private, no-transform")], False),
        (b"/x", 200, [], False),
    ],
)
def test_what_may_be_compressed(
    path: bytes, status: int, headers: list[tuple[bytes, bytes]], expected: bool
) -> None:
    assert compressible(path, status, headers) is expected


# --- the middleware on a small app: sizes, ETags, 304s, ranges, streams -------------

_BIG = msgspec.json.encode({"items": [{"id": n, "name": f"item {n}"} for n in range(200)]})


@get("/big", media_type=MediaType.JSON, sync_to_thread=False)
def big() -> Response[bytes]:
    return Response(_BIG, headers={"ETag": '"v7"'})


@get("/small", media_type=MediaType.JSON, sync_to_thread=False)
def small() -> Response[bytes]:
    return Response(b'{"ok":true}', headers={"ETag": '"v7"'})


@get("/tagged", media_type=MediaType.JSON, sync_to_thread=False)
def tagged(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Echoes the conditional headers as the app receives them; 304 on its own tag."""
    if_none_match = request.headers.get("if-none-match")
    if_match = request.headers.get("if-match")
    if if_none_match == '"v7"':
        return Response(b"", status_code=304, headers={"ETag": '"v7"'})
    echoed = msgspec.json.encode({"ifNoneMatch": if_none_match, "ifMatch": if_match})
    return Response(echoed, headers={"ETag": '"v7"'})


@get("/partial", media_type=MediaType.JSON, sync_to_thread=False)
def partial() -> Response[bytes]:
    return Response(_BIG[:2000], status_code=206, headers={"Content-Range": "bytes 0-1999/9999"})


class _Compressed(Litestar):
    def _create_asgi_handler(self) -> object:
        return Compression(super()._create_asgi_handler())


@pytest.fixture(scope="module")
def small_app() -> TestClient[Litestar]:
    with TestClient(_Compressed(route_handlers=[big, small, tagged, partial])) as client:
        yield client


def _raw_sync(
    client: TestClient[Litestar], url: str, **headers: str
) -> tuple[httpx.Response, bytes]:
    with client.stream("GET", url, headers=headers) as response:
        return response, b"".join(response.iter_raw())


@pytest.mark.parametrize("coding", ["gzip", "br"])
def test_json_above_the_threshold_is_compressed_and_decodes_to_identity(
    small_app: TestClient[Litestar], coding: str
) -> None:
    assert len(_BIG) >= COMPRESS_MIN_BYTES
    plain, plain_body = _raw_sync(small_app, "/big", **{"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert plain_body == _BIG
    assert plain.headers["vary"] == "Accept-Encoding"
    assert plain.headers["etag"] == '"v7"'
    response, body = _raw_sync(small_app, "/big", **{"Accept-Encoding": coding})
    assert response.headers["content-encoding"] == coding
    assert response.headers["vary"] == "Accept-Encoding"
    assert int(response.headers["content-length"]) == len(body) < len(_BIG)
    assert _DECODE[coding](body) == plain_body
    # A strong validator names the coding; the client's copy of it still matches.
    assert response.headers["etag"] == f'"v7-{coding}"'
    again = small_app.get(
        "/tagged",
        headers={"Accept-Encoding": coding, "If-None-Match": f'"v7-{coding}"'},
    )
    assert again.status_code == 304
    assert again.headers["etag"] == f'"v7-{coding}"'
    assert again.headers["vary"] == "Accept-Encoding"
    assert "content-encoding" not in again.headers


def test_the_app_sees_its_own_tags_in_conditional_headers(small_app: TestClient[Litestar]) -> None:
    echoed = small_app.get(
        "/tagged",
        headers={
            "Accept-Encoding": "identity",
            "If-None-Match": '"v6-br", W/"v5-gzip"',
            "If-Match": '"v6-gzip"',
        },
    ).json()
    assert echoed == {"ifNoneMatch": '"v6", W/"v5"', "ifMatch": '"v6"'}


def test_small_bodies_ranges_and_refused_codings_are_sent_as_they_are(
    small_app: TestClient[Litestar],
) -> None:
    response, body = _raw_sync(small_app, "/small", **{"Accept-Encoding": "gzip, br"})
    assert "content-encoding" not in response.headers
    assert body == b'{"ok":true}'
    assert response.headers["vary"] == "Accept-Encoding"
    assert response.headers["etag"] == '"v7"'
    response, body = _raw_sync(small_app, "/partial", **{"Accept-Encoding": "gzip, br"})
    assert response.status_code == 206
    assert "content-encoding" not in response.headers
    assert body == _BIG[:2000]
    response, body = _raw_sync(small_app, "/big", **{"Accept-Encoding": "br;q=0, gzip;q=0"})
    assert "content-encoding" not in response.headers
    assert body == _BIG


def test_the_per_request_decision_is_cheap() -> None:
    """The work added to every request (hello, products): negotiation and the predicate."""
    runs = 20_000
    seconds = timeit.timeit(
        lambda: (
            choose_coding("gzip, deflate, br, zstd"),
            compressible(b"/api/hello", 200, [(b"content-type", b"application/json")]),
        ),
        number=runs,
    )
    assert seconds / runs < 50e-6  # measured ~3 µs; a generous bound for a shared machine


# --- the real app: JSON, GraphQL, files, pages and their assets, CORS -----------------


async def test_openapi_and_graphql_answers_are_compressed(client: httpx.AsyncClient) -> None:
    _, plain_body = await _raw(
        client, "GET", "/schema/openapi.json", **{"Accept-Encoding": "identity"}
    )
    assert len(plain_body) > COMPRESS_MIN_BYTES
    for coding in ("gzip", "br"):
        response, body = await _raw(
            client, "GET", "/schema/openapi.json", **{"Accept-Encoding": coding}
        )
        assert response.headers["content-encoding"] == coding
        assert _DECODE[coding](body) == plain_body
    query = {"query": "{ __schema { types { name fields { name } } } }"}
    answer = await client.post("/graphql", json=query, headers={"Accept-Encoding": "br"})
    assert answer.headers["content-encoding"] == "br"
    assert answer.json()["data"]["__schema"]["types"]
    hello = await client.get("/api/hello", headers={"Accept-Encoding": "gzip, br"})
    assert "content-encoding" not in hello.headers  # small: not worth it
    assert "Accept-Encoding" in hello.headers["vary"]


async def test_stored_files_are_never_compressed(client: httpx.AsyncClient, alice) -> None:
    text = b'{"k": "' + b"compressible " * 500 + b'"}'
    uploaded = await client.post(
        "/api/files/big.json",
        content=text,
        headers={**alice["headers"], "Content-Type": "application/json"},
    )
    assert uploaded.status_code == 201
    response, body = await _raw(
        client, "GET", "/api/files/big.json", **{"Accept-Encoding": "gzip, br"}
    )
    assert response.status_code == 200
    assert "content-encoding" not in response.headers
    assert body == text
    assert response.headers["content-length"] == str(len(text))


_ASSET = re.compile(r'(?:src|href)="(/(?:graphql|schema)/static/[^"]+)"')


@pytest.mark.parametrize("page", ["/graphql", "/schema"])
async def test_pages_revalidate_and_name_versioned_assets_kept_for_a_year(
    client: httpx.AsyncClient, page: str
) -> None:
    response = await client.get(page, headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["cache-control"] == REVALIDATE
    urls = [url.replace("&amp;", "&") for url in _ASSET.findall(response.text)]
    assert urls and all(re.search(r"\?v=[0-9a-f]{16}$", url) for url in urls), urls
    for url in urls:
        plain, plain_body = await _raw(client, "GET", url, **{"Accept-Encoding": "identity"})
        assert plain.headers["cache-control"] == IMMUTABLE
        assert plain.headers["vary"] == "Accept-Encoding"
        unversioned = await client.get(url.split("?")[0])
        assert unversioned.headers["cache-control"] == REVALIDATE
        wrong = await client.get(url.split("?")[0] + "?v=0000000000000000")
        assert wrong.headers["cache-control"] == REVALIDATE
        for coding in ("gzip", "br"):
            coded, body = await _raw(client, "GET", url, **{"Accept-Encoding": coding})
            assert coded.headers["cache-control"] == IMMUTABLE
            if len(plain_body) < COMPRESS_MIN_BYTES:
                assert "content-encoding" not in coded.headers
                continue
            assert coded.headers["content-encoding"] == coding
            assert int(coded.headers["content-length"]) == len(body)
            assert _DECODE[coding](body) == plain_body
            assert coded.headers["etag"] != plain.headers["etag"]
            revalidated = await client.get(
                url, headers={"Accept-Encoding": coding, "If-None-Match": coded.headers["etag"]}
            )
            assert revalidated.status_code == 304
            assert revalidated.headers["etag"] == coded.headers["etag"]
            assert revalidated.content == b""


async def test_a_changed_asset_gets_a_new_url(tmp_path) -> None:
    asset = tmp_path / "app.js"
    asset.write_bytes(b"console.log(1)")
    first = asset_url(asset, "/static")
    other = tmp_path / "other" / "app.js"
    other.parent.mkdir()
    other.write_bytes(b"console.log(2)")
    assert first.startswith("/static/app.js?v=")
    assert asset_url(other, "/static") != first


async def test_a_client_naming_no_coding_gets_identity_untouched(client: httpx.AsyncClient) -> None:
    query = {"query": "{ __schema { types { name fields { name } } } }"}
    raw = httpx.AsyncClient(transport=client._transport, base_url=client.base_url)
    async with raw:
        request = raw.build_request("POST", "/graphql", json=query)
        del request.headers["Accept-Encoding"]
        answer = await raw.send(request)
    assert "content-encoding" not in answer.headers
    assert "vary" not in answer.headers or "Accept-Encoding" not in answer.headers["vary"]
    assert answer.json()["data"]["__schema"]["types"]
