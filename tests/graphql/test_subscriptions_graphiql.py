"""GraphiQL runs a subscription (over SSE, fetch streaming) in a real browser, offline,
against the real app (as ``test_graphiql_browser`` runs queries)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from playwright.async_api import async_playwright
from pymongo import AsyncMongoClient

from gateway.config import Settings
from gateway.documents.products import new_product
from tests.graphql.subscription_clients import live_settings
from tests.graphql.test_graphiql_browser import (
    _QUERY_EDITOR,
    CHROMIUM,
    TIMEOUT_S,
    offline_page,
    real_app,
    replace_query,
    result_containing,
    serving,
)

SUBSCRIPTION = (
    "subscription {\n  productChanged {\n    type\n    product {\n      name\n    }\n  }\n}"
)


async def until(condition: Callable[[], bool]) -> None:
    """Wait for ``condition``, a flag of the app served in another thread."""
    async with asyncio.timeout(TIMEOUT_S):
        while not condition():  # noqa: ASYNC110 (another thread's state: no event to wait on)
            await asyncio.sleep(0.05)


@pytest.mark.browser
async def test_graphiql_runs_a_subscription_offline(
    settings: Settings, mongo: AsyncMongoClient[Any], db: Any
) -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium, or `make test`)")
    app = real_app(live_settings(settings))
    async with (
        serving(app) as base_url,
        async_playwright() as playwright,
        offline_page(playwright, base_url) as browsing,
    ):
        page = browsing.page
        await page.goto(f"{base_url}/graphql")
        await page.wait_for_selector(_QUERY_EDITOR)

        feed = app.state.services.feed
        await replace_query(page, SUBSCRIPTION)
        await page.click(".graphiql-execute-button")
        await until(lambda: feed.subscriber_count == 1)

        # A product written by another program, straight into the database.
        kettle = new_product(
            name="Kettle", category="kitchen", price=30.0, description=None,
            created_at=datetime.now(UTC),
        )  # fmt: skip
        await mongo[settings.db_name]["products"].insert_one(kettle)
        shown = await result_containing(page, '"Kettle"')
        assert shown["data"] == {
            "productChanged": {"type": "CREATED", "product": {"name": "Kettle"}}
        }

        # Stopping the run (the same button) ends the stream: the server lets go.
        await page.click(".graphiql-execute-button")
        await until(lambda: feed.subscriber_count == 0)
        assert browsing.refused == [], "GraphiQL tried to reach beyond the gateway"
        assert browsing.errors == []
