"""Rate limits through both front doors: login (per address, per email), sign-up,
contact and GraphQL, with 429 and ``Retry-After`` (GraphQL: ``RATE_LIMITED``)."""

from __future__ import annotations

import asyncio
import time

import httpx
import msgspec
import pytest

from gateway.app import create_app
from tests.conftest import USER_PASSWORD, running

MARGIN_S = 10  # the longest a test of this module takes, under load


@pytest.fixture
async def limited(settings, mongo, db):
    """A client on an app with tiny limits."""
    tight = msgspec.structs.replace(
        settings,
        rate_login_ip="4/60",
        rate_login_email="3/300",
        rate_signup_ip="2/3600",
        rate_contact_ip="2/600",
        rate_graphql_ip="30/60",  # points: each operation counts its cost
    )
    # The windows are fixed and all multiples of a minute: start a test well inside
    # one, or a window ending mid-test would reset its counts (a rare, load-dependent
    # failure: each login hashes for a while).
    left = 60 - time.time() % 60
    if left < MARGIN_S:
        await asyncio.sleep(left + 0.1)
    app = create_app(tight, client=mongo)
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5000))
    async with running(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield app, http


def _other_address(app):
    transport = httpx.ASGITransport(app=app, client=("198.51.100.9", 5000))
    return httpx.AsyncClient(transport=transport, base_url="http://t")


def _assert_limited(response):
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    assert response.json()["error"]


async def _login(http, email, password=USER_PASSWORD):
    return await http.post("/api/auth/login", json={"email": email, "password": password})


async def test_login_limited_per_email_across_addresses(limited, alice):
    app, http = limited
    for _ in range(3):
        assert (await _login(http, alice["email"], "wrong")).status_code == 401
    _assert_limited(await _login(http, alice["email"]))  # even the right password
    async with _other_address(app) as elsewhere:
        _assert_limited(await _login(elsewhere, alice["email"]))
        assert (await _login(elsewhere, "someone@else.io")).status_code == 401


async def test_login_limited_per_address(limited):
    app, http = limited
    for i in range(4):
        assert (await _login(http, f"user{i}@x.io")).status_code == 401
    _assert_limited(await _login(http, "fresh@x.io"))
    async with _other_address(app) as elsewhere:
        assert (await _login(elsewhere, "fresh@x.io")).status_code == 401


async def test_signup_limited_and_nothing_written(limited, db):
    _, http = limited
    for i in range(2):
        body = {"name": "Sam", "email": f"sam{i}@x.io", "password": "password-1"}
        assert (await http.post("/api/users", json=body)).status_code == 201
    body = {"name": "Sam", "email": "sam9@x.io", "password": "password-1"}
    _assert_limited(await http.post("/api/users", json=body))
    assert await db["users"].count_documents({"email": "sam9@x.io"}) == 0


def _from(app, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 5000))
    return httpx.AsyncClient(transport=transport, base_url="http://t")


async def test_ipv6_addresses_count_by_their_64_bit_network(limited, db):
    """One IPv6 subscriber is given a /64 (2^64 addresses): counted per address, a client
    rotating through its own would never be limited."""
    app, _ = limited
    network = "2001:db8:5:7:"
    for n, host in enumerate(("1", "2")):
        async with _from(app, network + ":" + host) as http:
            body = {"name": "Sam", "email": f"v6-{n}@x.io", "password": "password-1"}
            assert (await http.post("/api/users", json=body)).status_code == 201
    async with _from(app, network + "ffff:ffff:ffff:fffe") as http:
        body = {"name": "Sam", "email": "v6-9@x.io", "password": "password-1"}
        _assert_limited(await http.post("/api/users", json=body))
    assert await db["users"].count_documents({"email": "v6-9@x.io"}) == 0
    async with _from(app, "2001:db8:5:8::1") as http:  # the next /64: someone else
        body = {"name": "Sam", "email": "v6-10@x.io", "password": "password-1"}
        assert (await http.post("/api/users", json=body)).status_code == 201


async def test_an_ipv4_mapped_address_counts_as_its_ipv4_address(limited):
    app, http = limited  # 203.0.113.7
    for i in range(4):
        assert (await _login(http, f"user{i}@x.io")).status_code == 401
    async with _from(app, "::ffff:203.0.113.7") as mapped:
        _assert_limited(await _login(mapped, "fresh@x.io"))


async def test_contact_limited_and_nothing_written(limited, db):
    _, http = limited
    form = {"name": "Dana", "email": "d@x.io", "message": "A message long enough."}
    for _ in range(2):
        assert (await http.post("/api/contact", json=form)).status_code == 200
    _assert_limited(await http.post("/api/contact", json=form))
    assert await db["contact_messages"].count_documents({}) == 2


async def test_graphql_requests_limited_per_address(limited):
    _, http = limited
    for _ in range(30):  # { hello } costs 1
        assert (await http.post("/graphql", json={"query": "{ hello }"})).status_code == 200
    response = await http.post("/graphql", json={"query": "{ hello }"})
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) >= 1
    [error] = response.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"


async def test_aliases_are_counted_by_the_login_limit(limited, alice):
    _, http = limited

    def aliases(password: str) -> str:
        logins = " ".join(
            f'g{i}: login(email: "{alice["email"]}", password: "{password}") {{ token }}'
            for i in range(6)
        )
        return f"mutation {{ {logins} }}"

    # A failed guess stops the document (login is non-null), so a flood of wrong
    # guesses gets one try per request; right ones show every alias is counted.
    body = (await http.post("/graphql", json={"query": aliases("wrong-guess")})).json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["UNAUTHENTICATED"]
    body = (await http.post("/graphql", json={"query": aliases(USER_PASSWORD)})).json()
    assert [e["extensions"]["code"] for e in body["errors"]] == ["RATE_LIMITED"]
    assert body["errors"][0]["path"] == ["g2"]  # two more went through: 3 per email
    _assert_limited(await _login(http, alice["email"]))
