"""``/api/contact``: the legacy form, its messages, header, cookie and what is stored."""

from __future__ import annotations

import pytest

FORM = {"name": "Dana", "email": "dana@example.com", "message": "Hello, I have a question."}


async def test_success_sets_header_and_cookie_and_stores(client, db):
    response = await client.post(
        "/api/contact?source=pricing",
        json={**FORM, "name": "  Dana  "},
        headers={"User-Agent": "LegacyClient/1.0", "Cookie": "sessionId=abc123"},
    )
    assert response.status_code == 200
    assert response.json() == {"success": True, "message": "Contact form submitted successfully"}
    assert response.headers["x-contact-processed"] == "true"
    cookie = response.headers["set-cookie"].lower()
    assert cookie.startswith("contact-sent=true")
    assert "path=/" in cookie
    assert "httponly" in cookie
    stored = await db["contact_messages"].find_one()
    assert stored["name"] == "Dana"
    assert (stored["source"], stored["userAgent"], stored["sessionId"]) == (
        "pricing", "LegacyClient/1.0", "abc123",
    )  # fmt: skip


async def test_every_problem_is_listed(client, db):
    response = await client.post(
        "/api/contact", json={"name": " a ", "email": "nope", "message": " short "}
    )
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            "Name must be at least 2 characters long",
            "Valid email is required",
            "Message must be at least 10 characters long",
        ]
    }
    assert "x-contact-processed" not in response.headers
    assert "set-cookie" not in response.headers
    assert await db["contact_messages"].count_documents({}) == 0


@pytest.mark.parametrize(
    "body",
    [{**FORM, "name": 5}, {**FORM, "extra": "x"}, {**FORM, "email": {"$gt": ""}}, {}],
)
async def test_bad_shapes_keep_the_legacy_errors_body(client, db, body):
    response = await client.post("/api/contact", json=body)
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors
    assert all(isinstance(e, str) for e in errors)
    assert await db["contact_messages"].count_documents({}) == 0


@pytest.mark.parametrize("raw", [b"{", b""])
async def test_malformed_json(client, db, raw):
    response = await client.post(
        "/api/contact", content=raw, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["errors"]
    assert await db["contact_messages"].count_documents({}) == 0
