"""``/`` tells a visitor where the doors are; ``/docs`` leads to the API documentation."""

from __future__ import annotations

import re

import httpx
import msgspec

from gateway.app import create_app
from gateway.front_page import serving_line
from tests.conftest import running

PRODUCTION = {"env": "production", "jwt_secret": "s" * 40}


async def _get(settings, path: str) -> httpx.Response:
    app = create_app(settings)
    async with (
        running(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        return await http.get(path)


async def test_the_front_page_links_every_door_this_configuration_opens(client):
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    links = re.findall(r'href="([^"]+)"', response.text)
    assert links == ["/graphql", "/schema", "/api/hello", "/healthz", "/readyz", "/metrics"]
    assert "GraphiQL" in response.text and "Swagger UI" in response.text
    assert not re.search(r'(src|href)="(https?:)?//', response.text), "nothing from elsewhere"
    policy = response.headers["content-security-policy"]
    assert policy.startswith("default-src 'none'; style-src 'sha256-")
    for link in links:  # every link works
        assert (await client.get(link)).status_code == 200, link


async def test_in_production_it_links_only_what_is_on(settings):
    production = msgspec.structs.replace(settings, **PRODUCTION)
    response = await _get(production, "/")
    links = re.findall(r'href="([^"]+)"', response.text)
    assert "/metrics" not in links
    assert "GraphiQL" not in response.text and "Swagger UI" not in response.text
    assert "the OpenAPI document" in response.text


async def test_docs_leads_to_the_api_documentation(client):
    response = await client.get("/docs")
    assert response.status_code == 307
    assert response.headers["location"] == "/schema"
    assert "swagger" in (await client.get("/docs", follow_redirects=True)).text.lower()


def test_one_start_up_line_gives_the_urls(settings):
    line = serving_line(settings, "127.0.0.1", 8000)
    assert line.startswith(
        "serving on http://127.0.0.1:8000/ (GraphiQL http://127.0.0.1:8000/graphql"
    )
    assert "API documentation http://127.0.0.1:8000/schema" in line
    assert "[::1]:8000" in serving_line(settings, "::1", 8000)
