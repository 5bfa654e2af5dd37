"""Concurrent writers of one account: one email per account, one delete per record.

The guarantees are proved with many clients at once, not assumed from an index
(DESIGN.md); with ``GATEWAY_TEST_MONGODB_URI`` they run against a real MongoDB.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from bson import ObjectId

from gateway.documents.users import DELETING
from tests.conftest import make_user

CLIENTS = 16


async def test_one_of_concurrent_signups_with_one_email_wins(client, db):
    async def sign_up(n: int) -> int:
        # One address, written differently: emails are one account regardless of case.
        email = "Race@Example.com" if n % 2 else "race@example.COM"
        body = {"name": f"Racer {n}", "email": email, "password": "race-password-1"}
        return (await client.post("/api/users", json=body)).status_code

    statuses = await asyncio.gather(*(sign_up(n) for n in range(CLIENTS)))
    assert Counter(statuses) == {201: 1, 409: CLIENTS - 1}
    assert await db["users"].count_documents({"email": "race@example.com"}) == 1


async def test_one_of_concurrent_email_changes_to_one_address_wins(client, services, db):
    users = await asyncio.gather(*(make_user(services) for _ in range(CLIENTS)))

    async def change(user: dict) -> tuple[int, str]:
        response = await client.put(
            f"/api/users/{user['id']}", json={"email": "taken@example.com"}, headers=user["headers"]
        )
        return response.status_code, response.json().get("error", "")

    answers = await asyncio.gather(*(change(user) for user in users))
    # The losers are told the address is taken; none is told it does not exist.
    assert Counter(answers) == {(200, ""): 1, (409, "Email already registered"): CLIENTS - 1}
    holders = await db["users"].find({"email": "taken@example.com"}).to_list(None)
    [winner] = [user for user, (status, _) in zip(users, answers, strict=True) if status == 200]
    assert [str(doc["_id"]) for doc in holders] == [winner["id"]]
    # The losers keep their own addresses.
    assert await db["users"].count_documents({}) == CLIENTS
    kept = {doc["email"] for doc in await db["users"].find().to_list(None)}
    assert {user["email"] for user in users if user is not winner} <= kept


async def test_an_email_change_of_a_user_deleted_meanwhile_is_404(client, services, alice, admin):
    gone = await client.delete(f"/api/users/{alice['id']}", headers=admin["headers"])
    assert gone.status_code == 204
    response = await client.put(
        f"/api/users/{alice['id']}", json={"email": "new@example.com"}, headers=admin["headers"]
    )
    assert (response.status_code, response.json()["error"]) == (404, "User not found")


async def test_one_of_concurrent_deletes_of_a_user_answers_204(client, alice, admin, db):
    async def delete() -> int:
        response = await client.delete(f"/api/users/{alice['id']}", headers=admin["headers"])
        return response.status_code

    statuses = await asyncio.gather(*(delete() for _ in range(CLIENTS)))
    assert Counter(statuses) == {204: 1, 404: CLIENTS - 1}
    assert await db["users"].count_documents({"name": "Alice"}) == 0


async def test_one_of_concurrent_deletes_of_a_product_answers_204(client, admin, db):
    created = await client.post(
        "/api/products", json={"name": "P", "category": "c", "price": 1}, headers=admin["headers"]
    )
    product_id = created.json()["id"]

    async def delete() -> int:
        response = await client.delete(f"/api/products/{product_id}", headers=admin["headers"])
        return response.status_code

    statuses = await asyncio.gather(*(delete() for _ in range(CLIENTS)))
    assert Counter(statuses) == {204: 1, 404: CLIENTS - 1}
    assert await db["products"].count_documents({}) == 0


CREATE_POST = 'mutation { createPost(input: {title: "Written meanwhile"}) { id } }'
UPDATE_PROFILE = 'mutation { updateProfile(input: {bio: "Written meanwhile"}) { bio } }'


async def test_nothing_written_while_a_user_is_deleted_outlives_them(client, services, db):
    """Posts and profiles written by a user while the user is deleted either go with them
    or are refused: none is left behind, authorless (several users, each deleted amid
    a burst of their own writes)."""
    for _ in range(6):
        user = await make_user(services)

        async def write(query: str, headers: dict[str, str]) -> str | None:
            """The error code of the write's answer; None when it was made."""
            answer = (await client.post("/graphql", json={"query": query}, headers=headers)).json()
            return answer["errors"][0]["extensions"]["code"] if "errors" in answer else None

        writes = [
            write(CREATE_POST if n % 4 else UPDATE_PROFILE, user["headers"])
            for n in range(2 * CLIENTS)
        ]
        delete = client.delete(f"/api/users/{user['id']}", headers=user["headers"])
        answers = await asyncio.gather(*writes[:CLIENTS], delete, *writes[CLIENTS:])
        deleted = answers.pop(CLIENTS)
        assert deleted.status_code == 204
        # Made (and gone with the user), or refused as the token of a deleted user is.
        assert set(answers) <= {None, "UNAUTHENTICATED"}
        assert await db["users"].count_documents({}) == 0
        assert await db["posts"].count_documents({"authorId": user["id"]}) == 0
        assert await db["profiles"].count_documents({"userId": user["id"]}) == 0


async def test_a_write_of_a_user_whose_deletion_has_begun_takes_itself_back(client, services, db):
    user = await make_user(services)
    # A deletion under way: marked, its dependents not yet swept.
    await db["users"].update_one({"_id": ObjectId(user["id"])}, {"$set": {DELETING: True}})
    for query in (CREATE_POST, UPDATE_PROFILE):
        response = await client.post("/graphql", json={"query": query}, headers=user["headers"])
        assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert await db["posts"].count_documents({"authorId": user["id"]}) == 0
    assert await db["profiles"].count_documents({"userId": user["id"]}) == 0
    # The deletion, retried, finishes.
    gone = await client.delete(f"/api/users/{user['id']}", headers=user["headers"])
    assert gone.status_code == 204
    assert await db["users"].count_documents({}) == 0
