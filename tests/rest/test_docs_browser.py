"""The REST API's docs page (/schema): Swagger UI served by the gateway alone, working offline.

The page and its assets are checked without a browser; then a real ``gateway
serve`` process is driven with Debian's Chromium through Playwright, with every
request that is not to that server refused (and counted): the page must render
every operation and run one ("Try it out") with nothing from the internet and
no Content-Security-Policy violation.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Route, sync_playwright
from pymongo import MongoClient

from rest.docs_ui import DOCS_CSP
from tests.live import Live, gateway_env, live_gateway

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
OUTPUT = Path(__file__).resolve().parents[1] / "output"
TIMEOUT_S = 30.0
# Records Content-Security-Policy violations; Playwright runs it before the page's scripts.
_WATCH_CSP = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""
_SCRIPT_TAG = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S)


@pytest.fixture(scope="module")
def gateway(mongo_uri: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    db_name = f"docs_{uuid.uuid4().hex[:12]}"
    env = gateway_env(tmp_path_factory.mktemp("docs"), mongodb_uri=mongo_uri, db_name=db_name)
    try:
        with live_gateway(env) as live:
            yield live
    finally:
        with MongoClient(mongo_uri) as client:
            client.drop_database(db_name)


def test_page_loads_only_its_own_files_under_its_own_csp(gateway: Live) -> None:
    with httpx.Client(base_url=gateway.base_url, timeout=TIMEOUT_S) as http:
        page = http.get("/schema")
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["content-security-policy"] == DOCS_CSP
        scripts = _SCRIPT_TAG.findall(page.text)
        assert scripts, page.text
        assert all(code.strip() == "" for _, code in scripts), "inline script in the page"
        assert "<style" not in page.text
        assert " style=" not in page.text
        urls = re.findall(r'(?:src|href)="([^"]+)"', page.text)
        assert 'data-url="/schema/openapi.json"' in page.text
        assets = [url for url in urls if url.startswith("/schema/static/")]
        assert len(assets) == 3, urls
        assert set(urls) - set(assets) <= {"data:,", "/schema/openapi.json"}, urls
        for url in assets:
            asset = http.get(url)
            assert asset.status_code == 200, url
            assert "immutable" in asset.headers["cache-control"]
        for notice in ("LICENSE.swagger-ui.txt", "THIRD_PARTY_NOTICES.txt"):
            assert http.get(f"/schema/static/{notice}").status_code == 200
        assert http.get("/schema/static/../docs_ui.py").status_code == 404
        assert http.get("/schema/static/%2e%2e/docs_ui.py").status_code == 404


@pytest.mark.browser
def test_swagger_ui_shows_and_runs_the_api_offline(gateway: Live) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium, or `make test`)")
    document = httpx.get(f"{gateway.base_url}/schema/openapi.json", timeout=TIMEOUT_S).json()
    operations = sum(
        1
        for path, item in document["paths"].items()
        for method in item
        if method in {"get", "head", "put", "post", "delete"}
    )
    own = urlsplit(gateway.base_url)
    refused: list[str] = []

    def only_loopback(route: Route) -> None:
        url = urlsplit(route.request.url)
        if (url.scheme, url.netloc) == (own.scheme, own.netloc):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("blockedbyclient")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=TIMEOUT_S * 1000
        )
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            context.set_default_timeout(TIMEOUT_S * 1000)
            context.route("**/*", only_loopback)
            context.add_init_script(_WATCH_CSP)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))

            response = page.goto(f"{gateway.base_url}/schema")
            assert response is not None
            assert response.status == 200
            assert response.headers.get("content-security-policy") == DOCS_CSP
            page.wait_for_selector(".swagger-ui .information-container .title")
            assert "gateway" in page.inner_text(".information-container .title")
            page.wait_for_function(
                "count => document.querySelectorAll('.opblock').length === count",
                arg=operations,
            )
            assert page.locator("button.authorize").count() == 1
            OUTPUT.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(OUTPUT / "swagger-ui.png"))

            # "Try it out" on the greeting: the request goes to this gateway, its answer shows.
            block = page.locator("#operations-hello-greet")
            block.locator(".opblock-summary").click()
            block.get_by_role("button", name="Try it out").click()
            block.get_by_role("button", name="Execute").click()
            live = block.locator(".live-responses-table tbody .response-col_status")
            live.first.wait_for()
            assert live.first.inner_text().strip() == "200"
            assert "Hello from the gateway" in block.locator(".live-responses-table").inner_text()

            assert refused == [], "the docs page tried to reach beyond the gateway"
            assert page.evaluate("() => window.__cspViolations") == []
            assert errors == []
        finally:
            browser.close()
