"""REST validation: every failing field in one answer, the text rules, the contact wording.

The contract asks for every failing field at once (a missing one as
``"<field>: required"``), control characters refused in names, emails, titles
and categories (and bidi overrides in names and emails), free text keeping
tabs and line breaks, and the legacy contact messages word for word. A refused
request writes nothing.
"""

from __future__ import annotations

from typing import Any

import pytest

SIGNUP = {"name": "Carol", "email": "carol@example.com", "password": "carol-pass-1"}
PRODUCT = {"name": "Lamp", "category": "home", "price": 19.5, "description": "Bright"}
FORM = {"name": "Dana", "email": "dana@example.com", "message": "Hello, I have a question."}

# One of each kind the rules refuse: C0 (NUL, ESC, unit separator), DEL, C1 (NEL, CSI).
CONTROLS = ["\x00", "\x1b", "\x1f", "\x7f", "\x85", "\x9b"]
BIDI = ["\u202a", "\u202e", "\u2066", "\u2069"]


async def _count(db: Any, collection: str) -> int:
    return int(await db[collection].count_documents({}))


# every failing field at once


async def test_sign_up_lists_three_bad_fields_and_the_missing_one(client, db):
    body = {"name": " a ", "email": "nope", "role": "superuser"}  # no password
    response = await client.post("/api/users", json=body)
    assert response.status_code == 400
    assert response.json() == {
        "error": "Validation failed",
        "details": [
            "name: must be at least 2 characters after trimming",
            "email: must be a valid email address",
            "password: required",
            "role: Invalid enum value 'superuser'",
        ],
    }
    assert await _count(db, "users") == 0


async def test_user_update_lists_every_bad_field(client, db, alice):
    before = await db["users"].find_one({"email": alice["email"]})
    body = {"name": "x" * 51, "email": "a\x00@x.io", "password": "short", "nickname": "Al"}
    response = await client.put(f"/api/users/{alice['id']}", json=body, headers=alice["headers"])
    assert response.status_code == 400
    assert response.json()["details"] == [
        "name: must be at most 50 characters",
        "email: must not contain control characters",
        "password: Expected `str` of length >= 8",
        "nickname: unknown field",
    ]
    assert await db["users"].find_one({"email": alice["email"]}) == before


async def test_product_create_lists_three_bad_fields_and_the_missing_one(client, db, admin):
    body = {"name": "", "category": "  ", "description": 5}  # no price
    response = await client.post("/api/products", json=body, headers=admin["headers"])
    assert response.status_code == 400
    assert response.json()["details"] == [
        "name: must be at least 1 characters after trimming",
        "category: must be at least 1 characters after trimming",
        "price: required",
        "description: Expected `str | null`, got `int`",
    ]
    assert await _count(db, "products") == 0


async def test_product_update_lists_every_bad_field(client, db, admin):
    created = await client.post("/api/products", json=PRODUCT, headers=admin["headers"])
    product = created.json()
    body = {"name": "La\u202emp", "category": 7, "price": -1, "colour": "red"}
    response = await client.put(
        f"/api/products/{product['id']}", json=body, headers=admin["headers"]
    )
    assert response.status_code == 400
    assert response.json()["details"] == [
        "name: must not contain bidirectional override or isolate characters",
        "category: Expected `str`, got `int`",
        "price: Expected `float` >= 0.0",
        "colour: unknown field",
    ]
    assert (await client.get(f"/api/products/{product['id']}")).json() == product


async def test_a_number_too_big_for_a_float_is_named_with_the_rest(client, db, admin):
    raw = b'{"name": "", "category": "home", "price": 1e400}'
    response = await client.post(
        "/api/products",
        content=raw,
        headers={**admin["headers"], "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["details"] == [
        "name: must be at least 1 characters after trimming",
        "price: Expected `float` <= 1000000000000.0",
    ]
    assert await _count(db, "products") == 0


async def test_a_body_that_is_not_an_object_is_named(client, db):
    response = await client.post("/api/users", json=["Carol"])
    assert response.status_code == 400
    assert response.json()["details"] == ["body: must be a JSON object"]
    assert await _count(db, "users") == 0


# text rules


@pytest.mark.parametrize("char", CONTROLS + BIDI)
@pytest.mark.parametrize("field", ["name", "email"])
async def test_sign_up_refuses_controls_and_bidi_in_name_and_email(client, db, field, char):
    value = {"name": f"Car{char}ol", "email": f"car{char}ol@example.com"}[field]
    response = await client.post("/api/users", json={**SIGNUP, field: value})
    assert response.status_code == 400
    details = response.json()["details"]
    assert len(details) == 1 and details[0].startswith(f"{field}: must not contain")
    assert await _count(db, "users") == 0


async def test_nul_in_an_email_is_not_an_email(client, db):
    response = await client.post("/api/users", json={**SIGNUP, "email": "nul\u0000x@x.io"})
    assert response.status_code == 400
    assert response.json()["details"] == ["email: must not contain control characters"]
    assert await _count(db, "users") == 0


async def test_a_control_character_at_the_edge_is_refused_not_trimmed(client, db):
    # "\x1f" and "\x85" count as whitespace for str.strip(): they must not just vanish.
    for name in ("\x1fCarol", "Carol\x85"):
        response = await client.post("/api/users", json={**SIGNUP, "name": name})
        assert response.status_code == 400
        assert response.json()["details"] == ["name: must not contain control characters"]
    assert await _count(db, "users") == 0


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        *[("name", f"La{c}mp", "control characters") for c in CONTROLS],
        *[("name", f"La{c}mp", "bidirectional override") for c in BIDI],
        *[("category", f"ho{c}me", "control characters") for c in CONTROLS],
        ("description", "Bright\x00", "control characters"),
        ("description", "Bright\x0b", "control characters"),
        ("description", "Bright\x7f", "control characters"),
        ("description", "Bright\x9b", "control characters"),
    ],
)
async def test_product_text_rules(client, db, admin, field, value, problem):
    response = await client.post(
        "/api/products", json={**PRODUCT, field: value}, headers=admin["headers"]
    )
    assert response.status_code == 400
    details = response.json()["details"]
    assert len(details) == 1 and details[0].startswith(f"{field}: must not contain {problem}")
    assert await _count(db, "products") == 0


async def test_free_text_keeps_tabs_and_line_breaks(client, db, admin):
    description = "Bright\tand warm.\nTwo bulbs.\r\nMade \u202eby hand."
    response = await client.post(
        "/api/products", json={**PRODUCT, "description": description}, headers=admin["headers"]
    )
    assert response.status_code == 201
    assert response.json()["description"] == description
    stored = await db["products"].find_one({})
    assert stored["description"] == description


async def test_a_category_is_a_label_not_an_identity(client, admin):
    # Bidi isolates are refused in names and emails only (the contract's list).
    response = await client.post(
        "/api/products", json={**PRODUCT, "category": "\u2067home\u2069"}, headers=admin["headers"]
    )
    assert response.status_code == 201


# the contact form


async def test_contact_messages_word_for_word_in_order(client, db):
    response = await client.post("/api/contact", json={"name": "D", "email": "x@y", "message": ""})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            "Name must be at least 2 characters long",
            "Valid email is required",
            "Message must be at least 10 characters long",
        ]
    }
    assert await _count(db, "contact_messages") == 0


async def test_contact_missing_fields_get_the_legacy_messages(client, db):
    response = await client.post("/api/contact", json={})
    assert response.status_code == 400
    assert response.json()["errors"] == [
        "Name must be at least 2 characters long",
        "Valid email is required",
        "Message must be at least 10 characters long",
    ]
    assert await _count(db, "contact_messages") == 0


@pytest.mark.parametrize(
    ("change", "errors"),
    [
        ({"email": "nul\u0000x@x.io"}, ["Valid email is required"]),
        ({"email": "dana\u202e@example.com"}, ["Valid email is required"]),
        ({"name": "Da\x00na"}, ["name: must not contain control characters"]),
        (
            {"name": "Da\u202ena"},
            ["name: must not contain bidirectional override or isolate characters"],
        ),
        ({"message": "Hello\x00, a question."}, ["message: must not contain control characters"]),
        (
            {"name": "Da\x07na", "email": "dana\x00@example.com", "message": "Hi\x1b there, you!"},
            [
                "name: must not contain control characters",
                "Valid email is required",
                "message: must not contain control characters",
            ],
        ),
    ],
)
async def test_contact_refuses_control_characters(client, db, change, errors):
    response = await client.post("/api/contact", json={**FORM, **change})
    assert response.status_code == 400
    assert response.json() == {"errors": errors}
    assert "set-cookie" not in response.headers
    assert await _count(db, "contact_messages") == 0


async def test_contact_message_keeps_tabs_and_line_breaks(client, db):
    message = "Hello,\n\tI have a question.\r\nThanks"
    response = await client.post("/api/contact", json={**FORM, "message": message})
    assert response.status_code == 200
    stored = await db["contact_messages"].find_one({})
    assert stored["message"] == message
