"""GraphiQL at /graphql: served by the gateway alone, and working in a real browser offline.

The browser test runs the real app under uvicorn on a loopback port and drives
Debian's Chromium through Playwright; every request that is not to that server
is refused (and counted), so the explorer must need nothing from the internet.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import uvicorn
from litestar import Litestar, MediaType, Response, get
from litestar.testing import TestClient
from playwright.async_api import Page, Playwright, Route, async_playwright

from gateway.app import create_app
from gateway.config import Settings
from gateway.static_assets import asset_url
from resolvers.graphiql import (
    GRAPHIQL_CSP,
    STATIC_DIR,
    graphiql_asset_handlers,
    graphiql_html,
)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
OUTPUT = Path(__file__).resolve().parents[1] / "output"
TIMEOUT_S = 30.0

# The page's scripts must all be files: a strict CSP forbids inline code.
_SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S)


# --- the page and its assets, without a browser ---------------------------------------


@pytest.fixture(scope="module")
def assets() -> Iterator[TestClient[Litestar]]:
    @get("/graphql", media_type=MediaType.HTML, sync_to_thread=False)
    def page() -> Response[str]:
        return Response(graphiql_html(), headers={"Content-Security-Policy": GRAPHIQL_CSP})

    app = Litestar(route_handlers=[page, *graphiql_asset_handlers()])
    with TestClient(app) as client:
        yield client


def test_page_loads_only_same_origin_files_and_no_inline_code(
    assets: TestClient[Litestar],
) -> None:
    body = assets.get("/graphql").text
    scripts = _SCRIPT_TAG.findall(body)
    assert scripts, body
    assert all(code.strip() == "" for _, code in scripts), "inline script in the page"
    assert "<style" not in body
    assert " style=" not in body
    urls = re.findall(r'(?:src|href)="([^"]+)"', body)
    assert all(url.startswith("/graphql/static/") or url == "data:," for url in urls), urls
    for url in urls:
        if url.startswith("/"):
            assert assets.get(url).status_code == 200, url
    assert 'data-endpoint="/graphql"' in body
    assert 'data-endpoint="/api/&lt;x&gt;&quot;"' in graphiql_html('/api/<x>"')


@pytest.mark.parametrize(
    ("name", "media_type"),
    [
        ("graphiql.min.js", "text/javascript; charset=utf-8"),
        ("graphiql.min.css", "text/css; charset=utf-8"),
        ("react.production.min.js", "text/javascript; charset=utf-8"),
        ("react-dom.production.min.js", "text/javascript; charset=utf-8"),
        ("graphiql-init.js", "text/javascript; charset=utf-8"),
        ("THIRD_PARTY_NOTICES.txt", "text/plain; charset=utf-8"),
    ],
)
def test_assets_are_served_with_type_cache_and_nosniff(
    assets: TestClient[Litestar], name: str, media_type: str
) -> None:
    response = assets.get(asset_url(STATIC_DIR / name, "/graphql/static"))
    assert response.status_code == 200
    assert response.headers["content-type"] == media_type
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.content == (STATIC_DIR / name).read_bytes()
    # Without its version (or with another), the same bytes, revalidated each time.
    for unversioned in (f"/graphql/static/{name}", f"/graphql/static/{name}?v=0123456789abcdef"):
        again = assets.get(unversioned)
        assert again.headers["cache-control"] == "no-cache"
        assert again.content == response.content
    head = assets.head(f"/graphql/static/{name}")
    assert head.status_code == 200
    assert head.content == b""


@pytest.mark.parametrize(
    "path",
    [
        "/graphql/static/../graphiql.py",
        "/graphql/static/..%2Fgraphiql.py",
        "/graphql/static/%2e%2e/%2e%2e/gateway/app.py",
        "/graphql/static/..%5C..%5Cgraphiql.py",
        "/graphql/static/%2Fetc%2Fpasswd",
        "/graphql/static/nope.js",
        "/graphql/static/",
    ],
)
def test_assets_outside_the_folder_are_not_served(assets: TestClient[Litestar], path: str) -> None:
    assert assets.get(path).status_code == 404


# --- the real app in a real browser ---------------------------------------------------


@contextlib.asynccontextmanager
async def serving(app: Litestar) -> AsyncIterator[str]:
    """Serve ``app`` over HTTP on a free loopback port, in a thread with its own event loop."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, lifespan="on", ws="none", log_level="warning", access_log=False)
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        deadline = time.monotonic() + TIMEOUT_S
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the app did not start (see the log above)")
            if time.monotonic() > deadline:
                raise TimeoutError("the app did not start within 30 s")
            await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await asyncio.to_thread(thread.join, TIMEOUT_S)
        sock.close()


def real_app(settings: Settings) -> Litestar:
    """The gateway itself; this test is about the explorer it serves, not a stand-in."""
    try:
        from resolvers import graphql_route_handlers  # noqa: F401
    except ImportError as exc:
        pytest.fail(
            "the GraphQL front door is missing (resolvers.graphql_route_handlers could not be "
            f"imported: {exc}); this test drives GraphiQL against the real app"
        )
    app = create_app(settings)
    if "/graphql/static/{name:str}" not in app.route_handler_method_map:
        pytest.fail("create_app does not mount resolvers.graphql_route_handlers(settings)")
    return app


async def sign_up(base_url: str, name: str) -> str:
    """Create a user through REST and return a token from logging in."""
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    password = "graphiql-password-1"
    async with httpx.AsyncClient(base_url=base_url, timeout=TIMEOUT_S) as http:
        created = await http.post(
            "/api/users", json={"name": name, "email": email, "password": password}
        )
        assert created.status_code == 201, created.text
        login = await http.post("/api/auth/login", json={"email": email, "password": password})
        assert login.status_code == 200, login.text
        token: str = login.json()["token"]
        return token


async def graphql(base_url: str, query: str) -> dict[str, Any]:
    """The answer the endpoint gives without a browser, to compare GraphiQL's result with."""
    async with httpx.AsyncClient(base_url=base_url, timeout=TIMEOUT_S) as http:
        response = await http.post("/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()
    return result


# Reads an editor's text through CodeMirror 5 (GraphiQL 4's editor).
_EDITOR_TEXT = "selector => document.querySelector(selector).CodeMirror.getValue()"
_QUERY_EDITOR = ".graphiql-query-editor .CodeMirror"
_RESPONSE = ".graphiql-response .CodeMirror"
_HEADERS_EDITOR = ".graphiql-editor-tool .graphiql-editor:not(.hidden) .CodeMirror"
# Records Content-Security-Policy violations; Playwright runs it before the page's scripts.
_WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@dataclass(frozen=True, slots=True)
class OfflinePage:
    page: Page
    refused: list[str]  # the URLs it tried beyond the server (refused)
    errors: list[str]  # the page's uncaught script errors


@contextlib.asynccontextmanager
async def offline_page(playwright: Playwright, base_url: str) -> AsyncIterator[OfflinePage]:
    """A page of headless Chromium that may reach only ``base_url``: any other request is
    refused and counted; Content-Security-Policy violations are recorded (``_WATCH_CSP``)."""
    browser = await playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=TIMEOUT_S * 1000
    )
    try:
        context = await browser.new_context(viewport={"width": 1280, "height": 800})
        context.set_default_timeout(TIMEOUT_S * 1000)
        own = urlsplit(base_url)
        refused: list[str] = []

        async def only_loopback(route: Route) -> None:
            url = urlsplit(route.request.url)
            if (url.scheme, url.netloc) == (own.scheme, own.netloc):
                await route.continue_()
            else:
                refused.append(route.request.url)
                await route.abort("blockedbyclient")

        await context.route("**/*", only_loopback)
        await context.add_init_script(_WATCH_CSP)
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        yield OfflinePage(page, refused, errors)
    finally:
        await browser.close()


@pytest.mark.browser
@pytest.mark.usefixtures("db")  # drops the test's database afterwards
async def test_graphiql_runs_queries_offline_with_the_users_headers(settings: Settings) -> None:
    if not CHROMIUM.exists():  # noqa: ASYNC240 (one stat, before anything runs)
        pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium, or `make test`)")
    app = real_app(settings)
    async with serving(app) as base_url, async_playwright() as playwright:
        token = await sign_up(base_url, "Grace Explorer")
        expected_hello = await graphql(base_url, "{ hello }")
        assert "errors" not in expected_hello, expected_hello

        async with offline_page(playwright, base_url) as browsing:
            page, refused, errors = browsing.page, browsing.refused, browsing.errors

            async with page.expect_response(
                lambda r: (
                    r.request.method == "POST"
                    and "IntrospectionQuery" in (r.request.post_data or "")
                )
            ) as introspection:
                response = await page.goto(f"{base_url}/graphql")
            assert response is not None
            assert response.status == 200
            assert response.headers["content-type"].startswith("text/html")
            assert response.headers.get("content-security-policy") == GRAPHIQL_CSP
            assert (await introspection.value).status == 200
            await page.wait_for_selector(_QUERY_EDITOR)
            assert refused == [], "GraphiQL tried to reach beyond the gateway"

            # A query typed in the editor, run with the run button.
            await replace_query(page, "{ hello }")
            await page.click(".graphiql-execute-button")
            shown = await result_containing(page, '"hello"')
            assert shown == expected_hello

            # A header written in the Headers pane reaches the server with the query.
            await page.get_by_role("button", name="Headers", exact=True).click()
            await page.click(_HEADERS_EDITOR)
            await page.keyboard.insert_text(
                json.dumps({"Authorization": f"Bearer {token}"}, indent=2)
            )
            await replace_query(page, "{\n  me {\n    name\n  }\n}")
            await page.keyboard.press("Control+Enter")
            shown = await result_containing(page, '"me"')
            assert shown["data"] == {"me": {"name": "Grace Explorer"}}
            # ... and is kept for the next visit (shouldPersistHeaders; saved after a pause).
            await page.wait_for_function(
                "token => Object.values(localStorage).some(value => value.includes(token))",
                arg=token,
            )

            OUTPUT.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=str(OUTPUT / "graphiql.png"))

            assert refused == [], "GraphiQL tried to reach beyond the gateway"
            assert await page.evaluate("() => window.__cspViolations") == []
            assert errors == []


async def replace_query(page: Page, query: str) -> None:
    """Replace the query editor's text as a user would: select all, then type."""
    await page.click(_QUERY_EDITOR)
    await page.keyboard.press("Control+A")
    await page.keyboard.insert_text(query)
    await page.wait_for_function(
        "([selector, text]) => document.querySelector(selector).CodeMirror.getValue() === text",
        arg=[_QUERY_EDITOR, query],
    )


async def result_containing(page: Page, text: str) -> Any:
    """Wait for the result pane to show ``text``; return the result it shows, parsed."""
    await page.wait_for_function(
        "([selector, text]) => document.querySelector(selector).CodeMirror.getValue()"
        ".includes(text)",
        arg=[_RESPONSE, text],
    )
    return json.loads(await page.evaluate(_EDITOR_TEXT, _RESPONSE))
