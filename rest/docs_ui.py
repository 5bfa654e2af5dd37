"""The REST API's docs page at ``/schema``: Swagger UI, served by the gateway alone.

Swagger UI's browser build is vendored in ``rest/static/swagger-ui/`` (re-created
by ``scripts/vendor_docs_ui.sh``) and served under ``/schema/static/``, so the
page works with no internet access. The page holds no inline script or style,
so it runs under ``DOCS_CSP``; asset URLs carry a digest of the file (``?v=...``),
which lets browsers keep them for a year, while the page and the OpenAPI document
are revalidated (``no-cache``); the bundles are compressed once
(``gateway.static_assets``).
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any, Final

from litestar import Request, Router
from litestar.datastructures import CacheControlHeader, ResponseHeader
from litestar.openapi.plugins import JsonRenderPlugin, OpenAPIRenderPlugin

from gateway.http import asset_tags
from gateway.static_assets import StaticAssets

__all__ = ["DOCS_CSP", "DOCS_PATH", "STATIC_PATH", "SwaggerUI", "docs_plugins", "docs_router"]

DOCS_PATH: Final = "/schema"
STATIC_PATH: Final = f"{DOCS_PATH}/static"
STATIC_DIR: Final = Path(__file__).resolve().parent / "static" / "swagger-ui"

# Swagger UI's icons are data: URLs; "Try it out" calls the API on this origin.
DOCS_CSP: Final = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)

_STYLES: Final = ("swagger-ui.css",)
_SCRIPTS: Final = ("swagger-ui-bundle.js", "docs-init.js")


class SwaggerUI(OpenAPIRenderPlugin):
    """Swagger UI from the vendored files (Litestar's own plugin loads them from a CDN)."""

    def __init__(self) -> None:
        super().__init__(path=["/", "/swagger"], favicon="", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = html.escape(str(openapi_schema["info"]["title"]))
        document = html.escape(self.get_openapi_json_route(request))
        styles, scripts = asset_tags(STATIC_DIR, STATIC_PATH, _STYLES, _SCRIPTS)
        return f"""<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>{title} · REST API</title>
    <link rel="icon" href="data:,">
{styles}
{scripts}
  </head>
  <body>
    <div id="swagger-ui" data-url="{document}">Loading the API documentation…</div>
    <noscript>This page needs JavaScript; the OpenAPI document is at
      <a href="{document}">{document}</a>.</noscript>
  </body>
</html>
""".encode()

    def receive_router(self, router: Router) -> None:
        router.register(StaticAssets(STATIC_DIR).handler("/static"))


def docs_plugins(swagger_ui: bool) -> list[OpenAPIRenderPlugin]:
    """Swagger UI and the OpenAPI document, or the document alone (``GATEWAY_SWAGGER_UI``,
    off in production): it describes the public API only, while the page is an
    application of its own, with scripts, that production has no use for."""
    return [SwaggerUI()] if swagger_ui else [JsonRenderPlugin()]


def docs_router() -> Router:
    """The router the OpenAPI document, the docs page and its assets are served on.

    Its responses carry ``DOCS_CSP`` (the gateway's default CSP forbids every script).
    """
    return Router(
        DOCS_PATH,
        route_handlers=[],
        include_in_schema=False,
        response_headers=[ResponseHeader(name="Content-Security-Policy", value=DOCS_CSP)],
        cache_control=CacheControlHeader(no_cache=True),
    )
