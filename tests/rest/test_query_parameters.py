"""Query parameters, bound by Litestar from the handlers' declarations: strict integers,
repeated and operator-like keys refused first, the contract's shape for every refusal,
and nothing written when a request is refused."""

from __future__ import annotations

import json
from typing import Any

import msgspec
import pytest

from gateway.app import create_app
from gateway.config import Settings
from gateway.pagination import MAX_PAGE_NUMBER, MAX_PAGE_SIZE
from tests.conftest import TEST_SECRET

LISTS = ["/api/products", "/api/users"]
FORM = {"name": "Dana", "email": "dana@example.com", "message": "Hello, I have a question."}
# Integers are plain ASCII digits: no sign, space, leading zero, fraction, exponent,
# base prefix, separator or other script's digit; an empty value is a value given.
NOT_PLAIN_INTEGERS = [
    "", "01", "+1", "-1", "%201", "1%20", "1.0", "1e1", "0x1", "1_0", "abc", "%C2%B2", "%D9%A3",
]  # fmt: skip


def _invalid(response: Any, *details: str) -> None:
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "Invalid query parameter", "details": list(details)}
    assert response.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("field", ["page", "limit"])
@pytest.mark.parametrize("value", NOT_PLAIN_INTEGERS)
async def test_an_integer_that_is_not_plain_digits_is_refused(client, alice, path, field, value):
    response = await client.get(f"{path}?{field}={value}", headers=alice["headers"])
    _invalid(response, f"{field}: must be a positive integer")


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize(
    ("query", "detail"),
    [
        ("page=0", "page: must be at least 1"),
        ("limit=0", "limit: must be at least 1"),
        (f"limit={MAX_PAGE_SIZE + 1}", f"limit: must be at most {MAX_PAGE_SIZE}"),
        (f"page={MAX_PAGE_NUMBER + 1}", f"page: must be at most {MAX_PAGE_NUMBER}"),
        ("limit=" + "9" * 40, f"limit: must be at most {MAX_PAGE_SIZE}"),
        ("page=" + "9" * 5000, "page: Integer value out of range"),
    ],
)
async def test_an_integer_out_of_range_is_refused_by_name(client, alice, path, query, detail):
    _invalid(await client.get(f"{path}?{query}", headers=alice["headers"]), detail)


@pytest.mark.parametrize("path", LISTS)
async def test_every_problem_is_listed_at_once(client, alice, path):
    response = await client.get(f"{path}?page=0&limit=101", headers=alice["headers"])
    _invalid(response, "page: must be at least 1", f"limit: must be at most {MAX_PAGE_SIZE}")
    response = await client.get(
        f"{path}?$where=1&page=1.0&limit=1&limit=2", headers=alice["headers"]
    )
    _invalid(
        response,
        "$where: not allowed",
        "page: must be a positive integer",
        "limit: given more than once",
    )


@pytest.mark.parametrize("path", LISTS)
async def test_the_bounds_and_defaults_are_accepted(client, alice, services, admin, path):
    response = await client.get(
        f"{path}?page={MAX_PAGE_NUMBER}&limit={MAX_PAGE_SIZE}", headers=alice["headers"]
    )
    assert response.status_code == 200, response.text
    first = await client.get(f"{path}?page=1&limit=1", headers=alice["headers"])
    assert first.status_code == 200
    body = first.json()
    assert len(body if isinstance(body, list) else body["products"]) <= 1
    if path == "/api/products":
        assert body["pagination"] | {"page": 1, "limit": 1} == body["pagination"]
        defaults = (await client.get(path)).json()["pagination"]
        assert (defaults["page"], defaults["limit"]) == (1, 10)
    else:
        assert 'rel="first"' in first.headers["link"] and "limit=1>" in first.headers["link"]
        users = await client.get(path, headers=alice["headers"])
        assert len(users.json()) == 2  # alice and admin: fewer than the default of 20


@pytest.mark.parametrize(
    "query",
    ["category=a&category=b", "page=1&page=2", "limit=1&limit=2", "page=1&page=1"],
)
async def test_a_products_parameter_given_twice_is_refused(client, query):
    name = query.split("=")[0]
    _invalid(await client.get(f"/api/products?{query}"), f"{name}: given more than once")


@pytest.mark.parametrize("query", ["category[$ne]=x", "$where=1&$where=2", "page[$gt]=0", "x]=1"])
@pytest.mark.parametrize("path", LISTS)
async def test_an_operator_like_key_is_refused(client, alice, path, query):
    key = query.split("=")[0]
    _invalid(await client.get(f"{path}?{query}", headers=alice["headers"]), f"{key}: not allowed")


async def test_a_category_is_any_string_matched_as_is(client, admin):
    created = await client.post(
        "/api/products",
        json={"name": "Lamp", "category": "1.0 +x", "price": 3},
        headers=admin["headers"],
    )
    assert created.status_code == 201
    body = (await client.get("/api/products?category=1.0%20%2Bx")).json()
    assert [p["name"] for p in body["products"]] == ["Lamp"]
    # Empty: no filter, as when left out.
    assert (await client.get("/api/products?category=")).json()["pagination"]["total"] == 1


async def test_the_legacy_id_is_required_once_and_refusals_write_nothing(client, alice, bob):
    url = "/api/users"
    change = {"name": "Changed"}
    missing = await client.put(url, json=change, headers=alice["headers"])
    assert missing.status_code == 400
    assert missing.json() == {"error": "Missing id query parameter", "details": ["id: required"]}
    missing = await client.delete(url, headers=alice["headers"])
    assert missing.json() == {"error": "Missing id query parameter", "details": ["id: required"]}
    _invalid(
        await client.put(f"{url}?id=", json=change, headers=alice["headers"]),
        "id: must be at least 1 characters",
    )
    twice = f"{url}?id={alice['id']}&id={bob['id']}"
    _invalid(
        await client.put(twice, json=change, headers=alice["headers"]), "id: given more than once"
    )
    _invalid(await client.delete(twice, headers=alice["headers"]), "id: given more than once")
    _invalid(
        await client.delete(f"{url}?id={alice['id']}&id[$ne]=x", headers=alice["headers"]),
        "id[$ne]: not allowed",
    )
    mine = await client.get(f"{url}/{alice['id']}", headers=alice["headers"])
    assert mine.json()["name"] == "Alice"
    assert (await client.get(f"{url}/{bob['id']}", headers=bob["headers"])).status_code == 200
    # Once, it works.
    changed = await client.put(f"{url}?id={alice['id']}", json=change, headers=alice["headers"])
    assert changed.status_code == 200 and changed.json()["name"] == "Changed"


@pytest.mark.parametrize("query", ["source=a&source=b", "source[$ne]=x"])
async def test_a_refused_contact_source_stores_nothing(client, db, query):
    response = await client.post(f"/api/contact?{query}", json=FORM)
    key = query.split("=")[0]
    problem = "given more than once" if key == "source" else "not allowed"
    _invalid(response, f"{key}: {problem}")
    assert await db["contact_messages"].count_documents({}) == 0


async def test_a_contact_source_is_stored_as_sent(client, db):
    response = await client.post("/api/contact?source=%201.0%2B", json=FORM)
    assert response.status_code == 200
    assert (await db["contact_messages"].find_one())["source"] == " 1.0+"


def _query_operations() -> list[tuple[str, str, list[dict[str, Any]]]]:
    app = create_app(Settings(jwt_secret=TEST_SECRET))
    document = json.loads(msgspec.json.encode(app.openapi_schema.to_schema()))
    return [
        (method.upper(), path, query)
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict)
        and (query := [p for p in operation.get("parameters", []) if p["in"] == "query"])
    ]


QUERY_OPERATIONS = _query_operations()


def test_the_document_declares_the_query_parameters_with_the_core_rules() -> None:
    found = {
        (method, path): {p["name"]: p for p in query} for method, path, query in QUERY_OPERATIONS
    }
    assert {key: set(names) for key, names in found.items()} == {
        ("GET", "/api/products"): {"category", "page", "limit"},
        ("GET", "/api/products/events"): {"category", "id"},
        ("GET", "/api/users"): {"page", "limit"},
        ("PUT", "/api/users"): {"id"},
        ("DELETE", "/api/users"): {"id"},
        ("POST", "/api/contact"): {"source"},
    }
    for key in [("GET", "/api/products"), ("GET", "/api/users")]:
        page, limit = found[key]["page"], found[key]["limit"]
        assert (
            page["schema"] | {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_NUMBER}
            == (page["schema"])
        )
        assert (
            limit["schema"] | {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE}
            == (limit["schema"])
        )
        assert page["description"] and limit["description"]
    assert found["PUT", "/api/users"]["id"]["schema"]["minLength"] == 1


@pytest.mark.parametrize(
    ("method", "path", "query"), QUERY_OPERATIONS, ids=[f"{m} {p}" for m, p, _ in QUERY_OPERATIONS]
)
async def test_every_declared_query_parameter_refuses_a_repeat(client, admin, method, path, query):
    for parameter in query:
        name = parameter["name"]
        value = "1" if parameter["schema"].get("type") == "integer" else "x"
        response = await client.request(
            method, f"{path}?{name}={value}&{name}={value}", json={}, headers=admin["headers"]
        )
        _invalid(response, f"{name}: given more than once")
