"""The ``/graphql`` endpoint itself: the explorer for browsers, its assets, the methods it takes."""

from __future__ import annotations

import re

from resolvers.graphiql import GRAPHIQL_CSP


async def test_a_browser_gets_the_self_hosted_explorer(client):
    response = await client.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert response.headers["content-security-policy"] == GRAPHIQL_CSP
    page = response.text
    assert 'data-endpoint="/graphql"' in page
    assets = re.findall(r'(?:src|href)="(/graphql/static/[^"]+)"', page)
    assert len(assets) >= 3
    assert not re.search(r'(?:src|href)="https?://', page)  # nothing from the internet
    for asset in assets:
        served = await client.get(asset.replace("&amp;", "&"))
        assert served.status_code == 200, asset
        assert served.content


async def test_a_get_without_a_query_from_a_program_is_a_bad_request(client):
    for accept, status in (("application/json", 200), ("application/graphql-response+json", 400)):
        response = await client.get("/graphql", headers={"Accept": accept})
        assert response.status_code == status
        body = response.json()
        assert "data" not in body
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_subscriptions_have_a_websocket_route(app):
    paths = {route.path for route in app.routes if "websocket" in type(route).__name__.lower()}
    assert paths == {"/graphql"}
