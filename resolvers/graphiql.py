"""The GraphiQL explorer served at ``/graphql``: its page and the assets it loads.

Everything the page needs is vendored in ``resolvers/static/graphiql/`` (GraphiQL's
browser build and React, re-created by ``scripts/vendor_graphiql.sh``) and served
from the gateway itself under ``/graphql/static/``, so the explorer works with no
internet access. The page holds no inline script or style, so it runs under
``GRAPHIQL_CSP``. Asset URLs carry a digest of the file (``?v=...``), which lets
browsers keep them for a year.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Final

from litestar import get, head
from litestar.datastructures import CacheControlHeader, ResponseHeader
from litestar.exceptions import NotFoundException
from litestar.handlers import HTTPRouteHandler
from litestar.params import FromPath
from litestar.response import File

from gateway.http import asset_tags

__all__ = ["GRAPHIQL_CSP", "STATIC_PATH", "graphiql_asset_handlers", "graphiql_html"]

STATIC_DIR: Final = Path(__file__).resolve().parent / "static" / "graphiql"
STATIC_PATH: Final = "/graphql/static"

# GraphiQL sets inline styles and injects <style> elements (its dialogs and menus
# do), hence 'unsafe-inline' for styles only; its fonts and icons are data: URLs.
GRAPHIQL_CSP: Final = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

# Litestar adds "; charset=utf-8" to text types.
_MEDIA_TYPES: Final = {".js": "text/javascript", ".css": "text/css", ".txt": "text/plain"}
_CACHE: Final = CacheControlHeader(public=True, max_age=365 * 24 * 3600, immutable=True)
_HEADERS: Final = [ResponseHeader(name="X-Content-Type-Options", value="nosniff")]

_STYLES: Final = ("graphiql.min.css", "graphiql-page.css")
# In this order: React, then ReactDOM, then GraphiQL (a UMD build using both), then ours.
_SCRIPTS: Final = (
    "react.production.min.js",
    "react-dom.production.min.js",
    "graphiql.min.js",
    "graphiql-init.js",
)


def graphiql_html(endpoint: str = "/graphql") -> str:
    """The explorer's page; its requests go to ``endpoint`` (same origin)."""
    styles, scripts = asset_tags(STATIC_DIR, STATIC_PATH, _STYLES, _SCRIPTS)
    return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="robots" content="noindex">
    <title>GraphiQL · gateway</title>
    <link rel="icon" href="data:,">
{styles}
{scripts}
  </head>
  <body>
    <div id="graphiql" data-endpoint="{html.escape(endpoint)}">Loading GraphiQL…</div>
    <noscript>The GraphiQL explorer needs JavaScript.</noscript>
  </body>
</html>
"""


def _assets() -> dict[str, Path]:
    """The files that may be served: the folder's listing, nothing derived from a request."""
    return {
        path.name: path
        for path in STATIC_DIR.iterdir()
        if path.is_file() and path.suffix in _MEDIA_TYPES
    }


def graphiql_asset_handlers() -> list[HTTPRouteHandler]:
    """Route handlers serving the vendored files at ``/graphql/static/<file>`` (GET and HEAD)."""
    assets = _assets()

    def asset(name: str) -> File:
        path = assets.get(name)
        if path is None:
            raise NotFoundException("File not found")
        return File(
            path,
            filename=name,
            media_type=_MEDIA_TYPES[path.suffix],
            content_disposition_type="inline",
        )

    path = f"{STATIC_PATH}/{{name:str}}"

    @get(
        path,
        include_in_schema=False,
        cache_control=_CACHE,
        response_headers=_HEADERS,
        sync_to_thread=False,
    )
    def graphiql_asset(name: FromPath[str]) -> File:
        return asset(name)

    @head(
        path,
        include_in_schema=False,
        cache_control=_CACHE,
        response_headers=_HEADERS,
        sync_to_thread=False,
    )
    def graphiql_asset_head(name: FromPath[str]) -> File:
        return asset(name)

    return [graphiql_asset, graphiql_asset_head]
