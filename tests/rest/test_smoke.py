async def test_hello(client):
    response = await client.get("/api/hello")
    assert response.status_code == 200
    assert "message" in response.json()


async def test_users_need_token(client, alice):
    response = await client.get("/api/users")
    assert response.status_code == 401
    response = await client.get("/api/users", headers=alice["headers"])
    assert response.status_code == 200
