"""Login, the protected route, and every way a token is refused."""

from __future__ import annotations

import asyncio
import base64
import json
import time

import jwt
import pytest

from gateway.config import Settings
from gateway.credentials import VERIFIED_TOKENS, Passwords, Tokens
from tests.conftest import TEST_SECRET, USER_PASSWORD


async def _login(client, email, password):
    return await client.post("/api/auth/login", json={"email": email, "password": password})


async def test_login_and_protected(client, alice):
    response = await _login(client, alice["email"].upper(), USER_PASSWORD)
    assert response.status_code == 200
    body = response.json()
    assert body["user"] == {"id": alice["id"], "email": alice["email"], "name": "Alice"}
    claims = jwt.decode(body["token"], TEST_SECRET, algorithms=["HS256"])
    assert claims["sub"] == alice["id"] and claims["role"] == "user"
    assert claims["exp"] > claims["iat"]

    response = await client.get(
        "/api/protected", headers={"Authorization": f"Bearer {body['token']}"}
    )
    assert response.status_code == 200
    assert response.json()["message"] == "This is protected data"
    assert response.json()["user"]["sub"] == alice["id"]


async def test_unknown_email_and_wrong_password_look_alike(client, alice):
    unknown = await _login(client, "nobody@example.com", USER_PASSWORD)
    wrong = await _login(client, alice["email"], "wrong-password")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json() == {"error": "Invalid credentials"}
    assert unknown.headers["www-authenticate"].startswith("Bearer")


async def test_login_rehashes_a_password_hashed_with_other_parameters(client, alice, db, settings):
    """Changed argon2 settings lock nobody out: the old hash verifies and is redone."""
    earlier = Passwords(Settings(argon2_time_cost=2, argon2_memory_kib=16, argon2_parallelism=2))
    try:
        old_hash = await earlier.hash(USER_PASSWORD)
    finally:
        earlier.close()
    await db["users"].update_one({"email": alice["email"]}, {"$set": {"passwordHash": old_hash}})

    assert (await _login(client, alice["email"], USER_PASSWORD)).status_code == 200
    stored = (await db["users"].find_one({"email": alice["email"]}))["passwordHash"]
    assert stored.startswith(
        f"$argon2id$v=19$m={settings.argon2_memory_kib},t={settings.argon2_time_cost},"
        f"p={settings.argon2_parallelism}$"
    )
    assert (await _login(client, alice["email"], USER_PASSWORD)).status_code == 200


@pytest.mark.parametrize(
    "body",
    [
        {"email": {"$gt": ""}, "password": "x"},
        {"email": "a@x.io"},
        {"email": "a@x.io", "password": "x", "extra": 1},
        {"email": ["a@x.io"], "password": "x"},
    ],
)
async def test_login_input_is_strict(client, body):
    response = await client.post("/api/auth/login", json=body)
    assert response.status_code == 400
    assert response.json()["details"]


async def test_protected_without_token(client):
    response = await client.get("/api/protected")
    assert response.status_code == 401
    assert response.json() == {"error": "No token provided"}
    assert response.headers["www-authenticate"].startswith("Bearer")


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _claims(user_id: str, **extra) -> dict:
    now = int(time.time())
    return {"sub": user_id, "role": "user", "iat": now, "exp": now + 600, "pwv": 0, **extra}


async def _protected(client, token):
    return await client.get("/api/protected", headers={"Authorization": f"Bearer {token}"})


async def test_refused_tokens(client, alice):
    header = {"alg": "none", "typ": "JWT"}
    forged = {
        "alg none": f"{_b64(header)}.{_b64(_claims(alice['id']))}.",
        "wrong key": jwt.encode(_claims(alice["id"]), "another-secret-" + "y" * 40, "HS256"),
        "expired": jwt.encode(
            _claims(alice["id"], iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
            TEST_SECRET,
            "HS256",
        ),
        "missing claims": jwt.encode({"sub": alice["id"]}, TEST_SECRET, "HS256"),
        "unknown user": jwt.encode(_claims("0" * 24), TEST_SECRET, "HS256"),
        "garbage": "not.a.token",
    }
    # An edited payload: admin role, original signature.
    head, _, signature = alice["token"].split(".")
    forged["edited payload"] = f"{head}.{_b64(_claims(alice['id'], role='admin'))}.{signature}"
    for name, token in forged.items():
        response = await _protected(client, token)
        assert response.status_code == 401, name
        assert response.json() == {"error": "Invalid token"}, name
    response = await client.get("/api/protected", headers={"Authorization": "Basic abc"})
    assert response.status_code == 401


async def test_token_of_deleted_user_is_refused(client, alice):
    assert (await _protected(client, alice["token"])).status_code == 200
    response = await client.delete(f"/api/users/{alice['id']}", headers=alice["headers"])
    assert response.status_code == 204
    assert (await _protected(client, alice["token"])).status_code == 401


async def test_token_issued_before_a_password_change_is_refused(client, alice):
    response = await client.put(
        f"/api/users/{alice['id']}", json={"password": "brand-new-pass"}, headers=alice["headers"]
    )
    assert response.status_code == 200
    assert (await _protected(client, alice["token"])).status_code == 401
    assert (await _login(client, alice["email"], USER_PASSWORD)).status_code == 401
    fresh = (await _login(client, alice["email"], "brand-new-pass")).json()["token"]
    assert (await _protected(client, fresh)).status_code == 200


async def test_a_token_accepted_before_is_refused_once_it_expires(client, alice):
    # Checked tokens are kept by the process until they expire, never beyond.
    now = int(time.time())
    token = jwt.encode(_claims(alice["id"], exp=now + 2), TEST_SECRET, "HS256")
    assert (await _protected(client, token)).status_code == 200
    await asyncio.sleep(max(now + 2 - time.time(), 0) + 0.05)
    response = await _protected(client, token)
    assert response.status_code == 401
    assert response.json() == {"error": "Invalid token"}


def test_checked_tokens_are_kept_within_a_bound(settings):
    tokens = Tokens(settings)
    subject = "0" * 24
    first = tokens.issue(subject=subject, role="user", password_version=0)
    claims = tokens.verify(first)
    claims["role"] = "admin"  # a caller's copy: the kept claims stay as signed
    assert tokens.verify(first)["role"] == "user"
    for n in range(VERIFIED_TOKENS + 5):
        tokens.verify(jwt.encode(_claims(subject, pwv=n), TEST_SECRET, "HS256"))
    assert len(tokens._verified) == VERIFIED_TOKENS
    assert first not in tokens._verified  # the oldest went first
    assert tokens.verify(first)["sub"] == subject  # and is checked again when it returns
