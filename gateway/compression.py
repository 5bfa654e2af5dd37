"""Response compression (gzip, and brotli when the client prefers it), for both doors.

Litestar's own ``CompressionMiddleware`` is not used: it looks for ``br`` or
``gzip`` as a substring of ``Accept-Encoding`` (``br;q=0`` would get brotli),
and it compresses whatever comes, ranges and files included. Here:

- the coding is chosen by the client's q-values (``choose_coding``): brotli only
  when ``br`` is listed with a q at least that of gzip, gzip when acceptable,
  else none;
- only answers worth it are compressed (``compressible``): a textual type (JSON,
  ``text/*``, JavaScript, SVG, XML) of ``COMPRESS_MIN_BYTES`` or more, not already
  encoded, not a 206, 304 or 204, never a download under ``/api/files/`` (stored
  files keep their exact bytes, length, ranges and validators; most are images or
  archives, already compressed) and never a streamed body;
- every answer of a compressible type says ``Vary: Accept-Encoding``, compressed
  or not, so that no shared cache hands one client's coding to another;
- a compressed answer's strong ``ETag`` names its coding (``"v3"`` becomes
  ``"v3-gzip"``), as a strong validator must differ between codings (RFC 9110
  8.8.3); those suffixes are taken off the request's ``If-None-Match``,
  ``If-Match`` and ``If-Range`` before the app reads them, so the doors only ever
  see their own tags, and a 304 gives back the tag the client holds.

Static bundles are compressed once, not here: see ``gateway.static_assets``.
"""

from __future__ import annotations

import functools
import gzip
import re
from collections.abc import Iterable
from typing import Any, Final

import brotli

__all__ = [
    "COMPRESS_MIN_BYTES",
    "Compression",
    "choose_coding",
    "coded_etag",
    "compressible",
    "encode",
]

COMPRESS_MIN_BYTES: Final = 1024
# Codings this gateway produces, in its order of preference at equal q.
CODINGS: Final = ("br", "gzip")
# Levels for answers compressed on the fly: fast ones (a JSON page in well under a
# millisecond); precompressed assets use the highest (``level="best"``).
_FAST: Final = {"gzip": 6, "br": 4}
_BEST: Final = {"gzip": 9, "br": 11}
_NOT_COMPRESSED_STATUSES: Final = frozenset({204, 206, 304})
_TEXTUAL_TYPES: Final = re.compile(
    r"^(?:text/[^;]+|application/(?:[\w.+-]+\+)?(?:json|xml|javascript)|image/svg\+xml)\s*(?:;|$)",
    re.I,
)
_NO_COMPRESSION_PREFIXES: Final = (b"/api/files/",)
_CODING_ITEM: Final = re.compile(r"^\s*([\w*-]+)\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$", re.I)
_CONDITIONAL_HEADERS: Final = frozenset({b"if-none-match", b"if-match", b"if-range"})
_CODED_TAG: Final = re.compile(rb'-(?:gzip|br)"')


@functools.lru_cache(maxsize=256)  # clients send few distinct values: a lookup per request
def choose_coding(accept_encoding: str | None) -> str | None:
    """The coding to answer with under ``Accept-Encoding`` (RFC 9110 12.5.3): ``"br"``,
    ``"gzip"`` or None (identity). Brotli is chosen only when its q is at least
    gzip's; a coding named with ``q=0`` is refused; ``*`` stands for any coding
    not named. A malformed item is ignored."""
    if not accept_encoding:
        return None
    named: dict[str, float] = {}
    for item in accept_encoding.split(","):
        match = _CODING_ITEM.match(item)
        if match is None:
            continue
        try:
            q = float(match.group(2)) if match.group(2) is not None else 1.0
        except ValueError:
            continue
        named[match.group(1).lower()] = min(max(q, 0.0), 1.0)
    star = named.get("*", 0.0)
    weights = {coding: named.get(coding, star) for coding in CODINGS}
    best = max(CODINGS, key=lambda coding: weights[coding])  # ties: the first, brotli
    return best if weights[best] > 0 else None


def encode(body: bytes, coding: str, *, level: str = "fast") -> bytes:
    """``body`` in ``coding`` (``"gzip"`` or ``"br"``), at the fast or the best level."""
    levels = _BEST if level == "best" else _FAST
    if coding == "br":
        compressed: bytes = brotli.compress(body, quality=levels["br"])
        return compressed
    return gzip.compress(body, compresslevel=levels["gzip"], mtime=0)


def coded_etag(etag: str, coding: str) -> str:
    """A strong entity tag for the ``coding`` of a representation; a weak one is kept."""
    if etag.startswith('"') and etag.endswith('"') and len(etag) >= 2:
        return f'{etag[:-1]}-{coding}"'
    return etag


def compressible(path: bytes, status: int, headers: Iterable[tuple[bytes, bytes]]) -> bool:
    """Whether an answer may be compressed at all (its size aside): a textual type, not
    yet encoded, not partial, not empty by its status, not a stored file."""
    if status in _NOT_COMPRESSED_STATUSES or path.startswith(_NO_COMPRESSION_PREFIXES):
        return False
    textual = False
    for name, value in headers:
        lowered = name.lower()
        if lowered in (b"content-encoding", b"content-range"):
            return False
        if lowered == b"cache-control" and b"no-transform" in value.lower():
            return False
        if lowered == b"content-type":
            textual = _is_textual(value)
    return textual


@functools.lru_cache(maxsize=64)  # a handful of types: a lookup per answer
def _is_textual(content_type: bytes) -> bool:
    return _TEXTUAL_TYPES.match(content_type.decode("latin-1")) is not None


def _header(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    return next((value for key, value in headers if key.lower() == name), None)


def _with_vary(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    vary = _header(headers, b"vary")
    if vary is None:
        return [*headers, (b"vary", b"Accept-Encoding")]
    if b"accept-encoding" in vary.lower() or vary.strip() == b"*":
        return headers
    return [
        (key, value + b", Accept-Encoding" if key.lower() == b"vary" else value)
        for key, value in headers
    ]


class Compression:
    """ASGI middleware compressing answers as the module's docstring says."""

    def __init__(self, app: Any) -> None:
        self._app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        # ASGI servers give header names in lower case.
        accept = if_none_match = None
        coded_tags = False
        for key, value in scope["headers"]:
            if key == b"accept-encoding":
                accept = value
            elif key in _CONDITIONAL_HEADERS:
                if key == b"if-none-match":
                    if_none_match = value
                coded_tags = coded_tags or _CODED_TAG.search(value) is not None
        if coded_tags:
            # In place: the outer layers read what routing writes into this scope.
            scope["headers"] = [
                (key, _CODED_TAG.sub(b'"', value) if key in _CONDITIONAL_HEADERS else value)
                for key, value in scope["headers"]
            ]
        if accept is None and not coded_tags:
            # A client that names no coding gets identity whatever the answer, and a
            # cache may give identity to anyone: nothing to do, not even Vary.
            await self._app(scope, receive, send)
            return
        coding = choose_coding(accept.decode("latin-1") if accept is not None else None)
        path: bytes = scope.get("raw_path") or scope["path"].encode()
        head = scope["method"] == "HEAD"
        start: dict[str, Any] | None = None

        async def send_compressed(message: Any) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = list(message.get("headers", ()))
                if status == 304:
                    headers = self._not_modified(headers, coding, if_none_match)
                    if not path.startswith(_NO_COMPRESSION_PREFIXES):
                        headers = _with_vary(headers)  # as the 200 it stands for
                    message = {**message, "headers": headers}
                elif compressible(path, status, headers):
                    headers = _with_vary(headers)
                    if coding is not None and not head:
                        start = {**message, "headers": headers}
                        return  # sent with the first part of the body, once its size is known
                    message = {**message, "headers": headers}
                await send(message)
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            first, start = start, None
            body = message.get("body", b"")
            if message.get("more_body") or len(body) < COMPRESS_MIN_BYTES or coding is None:
                await send(first)  # streamed or small: as it is
                await send(message)
                return
            encoded = encode(body, coding)
            await send({**first, "headers": self._coded(first["headers"], coding, len(encoded))})
            await send({**message, "body": encoded})

        await self._app(scope, receive, send_compressed)

    @staticmethod
    def _coded(
        headers: list[tuple[bytes, bytes]], coding: str, length: int
    ) -> list[tuple[bytes, bytes]]:
        kept = [
            (key, value)
            for key, value in headers
            if key.lower() not in (b"content-length", b"etag")
        ]
        etag = _header(headers, b"etag")
        if etag is not None:
            kept.append((b"etag", coded_etag(etag.decode("latin-1"), coding).encode("latin-1")))
        kept += [(b"content-encoding", coding.encode()), (b"content-length", str(length).encode())]
        return kept

    @staticmethod
    def _not_modified(
        headers: list[tuple[bytes, bytes]], coding: str | None, if_none_match: bytes | None
    ) -> list[tuple[bytes, bytes]]:
        """A 304 names the tag the client holds: the coded one, if that is what it sent."""
        etag = _header(headers, b"etag")
        if etag is None or coding is None or if_none_match is None:
            return headers
        coded = coded_etag(etag.decode("latin-1"), coding).encode("latin-1")
        if coded == etag or coded not in if_none_match:
            return headers
        return [(key, coded if key.lower() == b"etag" else value) for key, value in headers]
