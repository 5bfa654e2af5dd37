"""``/``: what the service is and where its doors are; ``/docs``: the API documentation.

Served by the gateway itself (no asset from elsewhere), so it works offline. It
links only what this configuration serves: GraphiQL, Swagger UI and metrics
are off in production unless switched on.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from dataclasses import dataclass

from litestar import Response, get
from litestar.handlers import HTTPRouteHandler
from litestar.response import Redirect

from gateway.config import Settings

__all__ = ["Link", "front_page_handlers", "links", "serving_line"]

API_DOCS = "/schema"


@dataclass(frozen=True, slots=True)
class Link:
    path: str
    title: str
    what: str


def links(settings: Settings) -> list[Link]:
    """The doors this configuration opens, in the order a visitor wants them."""
    found = []
    if settings.graphiql_enabled:
        found.append(Link("/graphql", "GraphiQL", "explore and run GraphQL queries"))
    else:
        found.append(Link("/graphql", "GraphQL", "the GraphQL endpoint (POST, or GET for queries)"))
    docs = "Swagger UI for the REST API" if settings.swagger_ui_enabled else "the OpenAPI document"
    found.append(Link(API_DOCS, "API documentation", docs))
    found.append(Link("/api/hello", "REST API", "the legacy endpoints under /api/"))
    found.append(Link("/healthz", "Health", "the process is alive"))
    found.append(Link("/readyz", "Readiness", "the database answers"))
    if settings.metrics_on_api_port:
        guarded = " (bearer token)" if settings.metrics_token else ""
        found.append(Link("/metrics", "Metrics", f"Prometheus metrics{guarded}"))
    return found


def serving_line(settings: Settings, host: str, port: int) -> str:
    """The one start-up line that tells where everything is."""
    scheme = "https" if settings.tls_cert else "http"
    shown = f"[{host}]" if ":" in host else host
    base = f"{scheme}://{shown}:{port}"
    doors = ", ".join(f"{link.title} {base}{link.path}" for link in links(settings))
    return f"serving on {base}/ ({doors})"


_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>gateway</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem;
  color: #1b1f24; }}
h1 {{ font-size: 1.6rem; margin-bottom: .25rem; }}
p {{ color: #57606a; margin-top: 0; }}
ul {{ list-style: none; padding: 0; }}
li {{ padding: .6rem 0; border-top: 1px solid #d8dee4; }}
a {{ color: #0969da; font-weight: 600; text-decoration: none; }}
a:hover {{ text-decoration: underline; }}
code {{ color: #57606a; }}
</style>
</head>
<body>
<h1>gateway</h1>
<p>One service for the legacy REST API and a GraphQL schema over one MongoDB core.</p>
<ul>
{items}
</ul>
</body>
</html>
"""


def _render(settings: Settings) -> str:
    items = "\n".join(
        f'<li><a href="{link.path}">{html.escape(link.title)}</a> '
        f"<code>{html.escape(link.path)}</code> {html.escape(link.what)}</li>"
        for link in links(settings)
    )
    return _PAGE.format(items=items)


def _policy(page: str) -> str:
    """No script, nothing from elsewhere; the page's one inline style by its hash."""
    style = re.search(r"<style>(.*?)</style>", page, flags=re.DOTALL)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    return f"default-src 'none'; style-src 'sha256-{digest}'; frame-ancestors 'none'"


def front_page_handlers(settings: Settings) -> list[HTTPRouteHandler]:
    text = _render(settings)
    page, policy = text.encode(), _policy(text)

    @get("/", include_in_schema=False)
    async def front_page() -> Response[bytes]:
        return Response(
            page,
            media_type="text/html; charset=utf-8",
            headers={"Cache-Control": "no-cache", "Content-Security-Policy": policy},
        )

    @get("/docs", include_in_schema=False)
    async def docs() -> Redirect:
        """Where users of other Python API frameworks look for the API docs."""
        return Redirect(API_DOCS, status_code=307)

    return [front_page, docs]
