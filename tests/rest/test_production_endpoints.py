"""Production guards: /metrics behind a token or on a port of its own, Swagger UI off;
process metrics and event-loop lag exported."""

from __future__ import annotations

import asyncio
import time

import httpx
import msgspec
import pytest

from gateway.app import create_app
from gateway.config import Settings
from tests.conftest import running
from tests.live import free_port

TOKEN = "metrics-token-0123456789"


def _production(settings: Settings, **changes: object) -> Settings:
    return msgspec.structs.replace(settings, env="production", **changes)


async def _get(settings: Settings, mongo, *paths: str, **headers: str) -> list[httpx.Response]:
    app = create_app(settings, client=mongo)
    transport = httpx.ASGITransport(app=app)
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        return [await http.get(path, headers=headers) for path in paths]


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer wrong-token", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer "],
)
async def test_metrics_refuse_a_missing_or_wrong_token(settings, mongo, db, authorization):
    headers = {"Authorization": authorization} if authorization else {}
    [response] = await _get(
        _production(settings, metrics_token=TOKEN), mongo, "/metrics", **headers
    )
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert response.json() == {"error": "A valid metrics token is required"}


async def test_metrics_with_the_token_include_process_metrics_and_loop_lag(settings, mongo, db):
    [response] = await _get(
        _production(settings, metrics_token=TOKEN),
        mongo,
        "/metrics",
        Authorization=f"Bearer {TOKEN}",
    )
    assert response.status_code == 200
    text = response.text
    for name in (
        "process_cpu_seconds_total",
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_start_time_seconds",
        "python_info",
        "gateway_event_loop_lag_seconds_bucket",
    ):
        assert f"\n{name}" in text, name


async def test_metrics_are_not_served_in_production_without_a_token(settings, mongo, db):
    [response] = await _get(_production(settings), mongo, "/metrics")
    assert response.status_code == 404
    assert response.json() == {"error": "Not Found"}


async def test_development_metrics_are_open_unless_a_token_is_set(settings, mongo, db):
    [open_] = await _get(settings, mongo, "/metrics")
    assert open_.status_code == 200
    [guarded] = await _get(
        msgspec.structs.replace(settings, metrics_token=TOKEN), mongo, "/metrics"
    )
    assert guarded.status_code == 401


async def test_swagger_ui_is_off_in_production_but_the_document_stays(settings, mongo, db):
    page, swagger, static, document = await _get(
        _production(settings),
        mongo,
        "/schema/",
        "/schema/swagger",
        "/schema/static/docs-init.js",
        "/schema/openapi.json",
    )
    assert swagger.status_code == 404
    assert static.status_code == 404
    assert document.status_code == 200
    assert document.json()["info"]["title"] == "gateway"
    # The docs root answers with the document itself, not the page.
    assert page.json() == document.json()
    [enabled] = await _get(_production(settings, swagger_ui=True), mongo, "/schema/")
    assert enabled.status_code == 200
    assert 'id="swagger-ui"' in enabled.text
    [development] = await _get(settings, mongo, "/schema/")
    assert development.status_code == 200


async def test_metrics_port_serves_metrics_without_a_token(settings, mongo, db):
    port = free_port()
    app = create_app(_production(settings, metrics_port=port, metrics_token=TOKEN), client=mongo)
    transport = httpx.ASGITransport(app=app)
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        await http.get("/api/hello")
        on_api_port = await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
        async with httpx.AsyncClient() as scraper:
            scraped = await scraper.get(f"http://127.0.0.1:{port}/metrics")
    assert on_api_port.status_code == 404
    assert scraped.status_code == 200
    assert 'gateway_http_requests_total{method="GET",route="/api/hello",status="200"} 1.0' in (
        scraped.text
    )
    with pytest.raises(httpx.ConnectError):  # stopped with the app
        async with httpx.AsyncClient() as scraper:
            await scraper.get(f"http://127.0.0.1:{port}/metrics")


async def test_event_loop_lag_is_measured(settings, mongo, db):
    app = create_app(settings, client=mongo)
    async with running(app):
        await asyncio.sleep(0.1)  # the probe is asleep
        time.sleep(0.8)  # noqa: ASYNC251 - blocks the loop on purpose
        await asyncio.sleep(0.1)
        lag = app.state.metrics.registry.get_sample_value("gateway_event_loop_lag_seconds_sum")
    assert lag is not None
    assert lag >= 0.25
