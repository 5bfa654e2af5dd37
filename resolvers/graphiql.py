"""The GraphiQL explorer served at ``/graphql``: its page and the assets it loads.

Everything the page needs is vendored in ``resolvers/static/graphiql/`` (GraphiQL's
browser build and React, re-created by ``scripts/vendor_graphiql.sh``) and served
from the gateway itself under ``/graphql/static/``, so the explorer works with no
internet access. The page holds no inline script or style, so it runs under
``GRAPHIQL_CSP``. Asset URLs carry a digest of the file (``?v=...``), which lets
browsers keep them for a year; the page itself is revalidated (``no-cache``), and
the bundles are compressed once (``gateway.static_assets``).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Final

from litestar.handlers import HTTPRouteHandler

from gateway.http import asset_tags
from gateway.static_assets import StaticAssets

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


def graphiql_asset_handlers() -> list[HTTPRouteHandler]:
    """The handler serving the vendored files at ``/graphql/static/<file>`` (GET and HEAD)."""
    return [StaticAssets(STATIC_DIR).handler(STATIC_PATH)]
