"""Request ids, security headers, access logs and metrics."""

from __future__ import annotations

import json
import logging

import httpx
import pytest

from gateway.app import create_app
from gateway.logs import JsonFormatter
from gateway.observability import RequestStats
from tests.conftest import running


async def test_request_id_is_returned_or_made(client):
    response = await client.get("/api/hello", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"
    made = (await client.get("/api/hello")).headers["x-request-id"]
    assert len(made) == 32
    hostile = await client.get("/api/hello", headers={"X-Request-ID": "x" * 500})
    assert hostile.headers["x-request-id"] != "x" * 500


async def test_security_headers_everywhere(client):
    for response in (await client.get("/api/hello"), await client.get("/nope")):
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-request-id"]


async def test_access_log_names_the_subject_never_the_token(client, alice, caplog):
    caplog.set_level(logging.INFO, logger="gateway.access")
    await client.get("/api/protected", headers={**alice["headers"], "X-Request-ID": "req-1"})
    [record] = [r for r in caplog.records if r.name == "gateway.access"]
    fields = record.fields
    assert fields["subject"] == alice["id"]
    assert fields["route"] == "/api/protected"
    assert fields["status"] == 200
    line = JsonFormatter().format(record)
    assert alice["token"] not in line
    assert json.loads(line)["subject"] == alice["id"]


async def test_metrics(settings, db):
    app = create_app(settings)  # its own client, so database commands are counted
    transport = httpx.ASGITransport(app=app)
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        await http.get("/api/products")
        await http.get("/api/products/" + "0" * 24)
        await http.get("/nope")
        text = (await http.get("/metrics")).text
    assert (
        'gateway_http_requests_total{method="GET",route="/api/products",status="200"} 1.0' in text
    )
    assert 'route="/api/products/{product_id}",status="404"' in text
    assert 'route="unmatched",status="404"' in text
    histogram = 'method="GET",route="/api/products"}'
    assert f'gateway_http_request_duration_seconds_bucket{{le="+Inf",{histogram} 1.0' in text
    assert f"gateway_http_request_duration_seconds_count{{{histogram} 1.0" in text
    assert "# TYPE gateway_http_requests_total counter" in text
    commands = 'gateway_db_commands_total{collection="products",command="%s",source="app"}'
    assert commands % "find" in text
    assert commands % "aggregate" in text


def test_request_latency_is_counted_in_cumulative_buckets():
    stats = RequestStats((0.01, 0.1, 1))
    for seconds in (0.005, 0.01, 0.05, 2.0):  # a bound counts as inside its bucket
        stats.observe("/r", "GET", 200, seconds)
    stats.observe("/r", "GET", 404, 0.5)
    requests, latency = stats.collect()
    assert {
        (s.labels["status"], s.value) for s in requests.samples if s.name.endswith("_total")
    } == {
        ("200", 4),
        ("404", 1),
    }
    buckets = {s.labels["le"]: s.value for s in latency.samples if s.name.endswith("_bucket")}
    assert buckets == {"0.01": 2, "0.1": 3, "1.0": 4, "+Inf": 5}
    [total] = [s.value for s in latency.samples if s.name.endswith("_sum")]
    assert total == pytest.approx(2.565)


async def test_graphql_operations_are_counted_by_name(client):
    await client.post("/graphql", json={"query": "query Greeting { hello }"})
    await client.post("/graphql", json={"query": "{ hello }"})
    await client.post("/graphql", json={"query": "query Bad$Name { hello }"})
    text = (await client.get("/metrics")).text
    assert 'gateway_graphql_operations_total{operation="Greeting",type="query"} 1.0' in text
    assert 'gateway_graphql_operations_total{operation="anonymous",type="query"} 1.0' in text
