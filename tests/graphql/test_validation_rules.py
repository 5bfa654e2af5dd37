"""GraphQL validation: the same Structs as REST, so the same details, all at once.

Input objects are checked field by field by ``gateway.validation`` (as REST
bodies are), so ``extensions.details`` lists every failing field, a missing one
included (``"price: required"``): the create inputs leave requiredness to the
model instead of declaring their fields ``String!``.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.graphql.support import code, data, error

CREATE_USER = "mutation($i: CreateUserInput!) { createUser(input: $i) { id } }"
UPDATE_USER = "mutation($id: ID!, $i: UpdateUserInput!) { updateUser(id: $id, input: $i) { id } }"
CREATE_PRODUCT = "mutation($i: CreateProductInput!) { createProduct(input: $i) { id description } }"
UPDATE_PRODUCT = (
    "mutation($id: ID!, $i: UpdateProductInput!) { updateProduct(id: $id, input: $i) { id } }"
)
CREATE_POST = "mutation($i: CreatePostInput!) { createPost(input: $i) { id title content } }"
UPDATE_PROFILE = "mutation($i: UpdateProfileInput!) { updateProfile(input: $i) { bio avatarUrl } }"
CONTACT = "mutation($i: ContactInput!) { submitContact(input: $i) { success } }"

NEW_USER = {"name": "Carol", "email": "carol@example.com", "password": "long-password"}
LAMP = {"name": "Lamp", "category": "home", "price": 12.5, "description": "Bright"}
FORM = {"name": "Dana", "email": "dana@example.com", "message": "Hello there, gateway!"}
CONTROLS = ["\x00", "\x1b", "\x7f", "\x85"]
BIDI = ["\u202e", "\u2066"]
LEGACY = [
    "Name must be at least 2 characters long",
    "Valid email is required",
    "Message must be at least 10 characters long",
]


async def _count(db: Any, collection: str) -> int:
    return int(await db[collection].count_documents({}))


async def details(
    client: Any, query: str, variables: dict[str, Any], headers: dict[str, str] | None = None
) -> list[str]:
    err = await error(client, query, variables, headers)
    assert (code(err), err["message"]) == ("BAD_USER_INPUT", "Validation failed"), err
    found: list[str] = err["extensions"]["details"]
    return found


# every failing field at once, the same words as REST


async def test_create_user_lists_every_bad_field_as_rest_does(client, db):
    bad = {"name": " a ", "email": "nope", "password": "short", "role": "superuser"}
    expected = [
        "name: must be at least 2 characters after trimming",
        "email: must be a valid email address",
        "password: Expected `str` of length >= 8",
        "role: Invalid enum value 'superuser'",
    ]
    assert await details(client, CREATE_USER, {"i": bad}) == expected
    rest = await client.post("/api/users", json=bad)
    assert rest.json()["details"] == expected
    assert await _count(db, "users") == 0


async def test_a_missing_field_is_listed_with_the_others_as_rest_does(client, db):
    bad = {"name": " a ", "email": "nope", "role": "superuser"}  # no password
    expected = [
        "name: must be at least 2 characters after trimming",
        "email: must be a valid email address",
        "password: required",
        "role: Invalid enum value 'superuser'",
    ]
    assert await details(client, CREATE_USER, {"i": bad}) == expected
    rest = await client.post("/api/users", json=bad)
    assert rest.json()["details"] == expected
    assert await _count(db, "users") == 0


async def test_missing_fields_in_a_literal_are_listed_too(client, db, admin):
    query = 'mutation { createProduct(input: {name: "", description: "x"}) { id } }'
    assert await details(client, query, {}, admin["headers"]) == [
        "name: must be at least 1 characters after trimming",
        "category: required",
        "price: required",
    ]
    post = 'mutation { createPost(input: {content: "body"}) { id } }'
    assert await details(client, post, {}, admin["headers"]) == ["title: required"]
    assert await _count(db, "products") == 0 and await _count(db, "posts") == 0


async def test_an_explicit_null_for_a_required_field_is_refused(client, db, admin):
    found = await details(client, CREATE_PRODUCT, {"i": {**LAMP, "price": None}}, admin["headers"])
    assert found == ["price: Expected `float`, got `null`"]
    assert await _count(db, "products") == 0


async def test_update_user_lists_every_bad_field(client, db, alice):
    before = await db["users"].find_one({"email": alice["email"]})
    bad = {"name": "x" * 51, "email": "a\u202e@x.io", "password": "short", "role": "root"}
    assert await details(client, UPDATE_USER, {"id": alice["id"], "i": bad}, alice["headers"]) == [
        "name: must be at most 50 characters",
        "email: must not contain bidirectional override or isolate characters",
        "password: Expected `str` of length >= 8",
        "role: Invalid enum value 'root'",
    ]
    assert await db["users"].find_one({"email": alice["email"]}) == before


async def test_create_product_lists_every_bad_field(client, db, admin):
    bad = {"name": "", "category": "\x00", "price": -1, "description": "x\x00"}
    assert await details(client, CREATE_PRODUCT, {"i": bad}, admin["headers"]) == [
        "name: must be at least 1 characters after trimming",
        "category: must not contain control characters",
        "price: Expected `float` >= 0.0",
        "description: must not contain control characters",
    ]
    assert await _count(db, "products") == 0


async def test_update_product_lists_every_bad_field(client, db, admin):
    made = (await data(client, CREATE_PRODUCT, {"i": LAMP}, admin["headers"]))["createProduct"]
    before = await db["products"].find_one({})
    bad = {"name": "La\u2066mp", "category": " ", "price": 2e12, "description": "\x1b[31m"}
    assert await details(
        client, UPDATE_PRODUCT, {"id": made["id"], "i": bad}, admin["headers"]
    ) == [
        "name: must not contain bidirectional override or isolate characters",
        "category: must be at least 1 characters after trimming",
        "price: Expected `float` <= 1000000000000.0",
        "description: must not contain control characters",
    ]
    assert await db["products"].find_one({}) == before


async def test_create_post_lists_every_bad_field(client, db, alice):
    bad = {"title": " \x00 ", "content": "Hi\x07"}
    assert await details(client, CREATE_POST, {"i": bad}, alice["headers"]) == [
        "title: must not contain control characters",
        "content: must not contain control characters",
    ]
    assert await _count(db, "posts") == 0


async def test_update_profile_lists_every_bad_field(client, db, alice):
    bad = {"bio": "Me\x00", "avatarUrl": "javascript:alert(1)"}
    assert await details(client, UPDATE_PROFILE, {"i": bad}, alice["headers"]) == [
        "bio: must not contain control characters",
        "avatarUrl: must be an http(s) URL or a path",
    ]
    assert await _count(db, "profiles") == 0


# text rules


@pytest.mark.parametrize("char", CONTROLS + BIDI)
@pytest.mark.parametrize("field", ["name", "email"])
async def test_create_user_refuses_controls_and_bidi(client, db, field, char):
    value = {"name": f"Car{char}ol", "email": f"car{char}ol@example.com"}[field]
    found = await details(client, CREATE_USER, {"i": {**NEW_USER, field: value}})
    assert len(found) == 1 and found[0].startswith(f"{field}: must not contain")
    assert await _count(db, "users") == 0


async def test_nul_in_an_email_is_not_an_email(client, db):
    found = await details(client, CREATE_USER, {"i": {**NEW_USER, "email": "nul\u0000x@x.io"}})
    assert found == ["email: must not contain control characters"]
    assert await _count(db, "users") == 0


@pytest.mark.parametrize("char", CONTROLS)
@pytest.mark.parametrize("field", ["name", "category", "description"])
async def test_create_product_refuses_controls(client, db, admin, field, char):
    found = await details(
        client, CREATE_PRODUCT, {"i": {**LAMP, field: f"ab{char}cd"}}, admin["headers"]
    )
    assert found == [f"{field}: must not contain control characters"]
    assert await _count(db, "products") == 0


@pytest.mark.parametrize("char", CONTROLS)
@pytest.mark.parametrize("field", ["title", "content"])
async def test_create_post_refuses_controls(client, db, alice, field, char):
    post = {"title": "Hello", "content": "World", field: f"ab{char}cd"}
    found = await details(client, CREATE_POST, {"i": post}, alice["headers"])
    assert found == [f"{field}: must not contain control characters"]
    assert await _count(db, "posts") == 0


@pytest.mark.parametrize("char", CONTROLS)
async def test_update_profile_refuses_controls_in_bio(client, db, alice, char):
    found = await details(client, UPDATE_PROFILE, {"i": {"bio": f"ab{char}cd"}}, alice["headers"])
    assert found == ["bio: must not contain control characters"]
    assert await _count(db, "profiles") == 0


async def test_free_text_keeps_tabs_and_line_breaks(client, db, admin, alice):
    text = "One\tline.\nAnother.\r\nThe end."
    product = await data(
        client, CREATE_PRODUCT, {"i": {**LAMP, "description": text}}, admin["headers"]
    )
    assert product["createProduct"]["description"] == text
    post = await data(
        client, CREATE_POST, {"i": {"title": "Notes", "content": text}}, alice["headers"]
    )
    assert post["createPost"]["content"] == text
    profile = await data(client, UPDATE_PROFILE, {"i": {"bio": text}}, alice["headers"])
    assert profile["updateProfile"]["bio"] == text
    assert (await db["products"].find_one({}))["description"] == text
    assert (await db["posts"].find_one({}))["content"] == text


# the contact form


async def test_contact_messages_word_for_word_in_order(client, db):
    bad = {"name": " D ", "email": "x@y", "message": "too short"}
    assert await details(client, CONTACT, {"i": bad}) == LEGACY
    rest = await client.post("/api/contact", json=bad)
    assert rest.json() == {"errors": LEGACY}
    assert await _count(db, "contact_messages") == 0


async def test_a_contact_form_with_fields_left_out_gets_the_legacy_messages(client, db):
    assert await details(client, CONTACT, {"i": {}}) == LEGACY
    rest = await client.post("/api/contact", json={})
    assert rest.json() == {"errors": LEGACY}
    assert await _count(db, "contact_messages") == 0


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"email": "nul\u0000x@x.io"}, ["Valid email is required"]),
        ({"name": "Da\u202ena"}, ["name: must not contain bidirectional override or isolate characters"]),
        ({"message": "Hello\x7f there, gateway!"}, ["message: must not contain control characters"]),
    ],
)  # fmt: skip
async def test_contact_refuses_control_characters(client, db, change, expected):
    assert await details(client, CONTACT, {"i": {**FORM, **change}}) == expected
    assert await _count(db, "contact_messages") == 0


async def test_contact_message_keeps_tabs_and_line_breaks(client, db):
    message = "Hello,\n\tI have a question.\r\nThanks"
    await data(client, CONTACT, {"i": {**FORM, "message": message}})
    assert (await db["contact_messages"].find_one({}))["message"] == message
