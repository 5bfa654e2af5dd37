"""Data-layer fixtures: the services over a fresh database, once per driver.

Every test here runs with PyMongo's async API and again with Motor, the
opt-in driver, both against the same real server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest

from gateway.config import Settings
from gateway.credentials import Passwords
from gateway.db import Database, build_client, close_client, ensure_indexes
from gateway.ratelimit import MemoryLimiter
from gateway.services import Services


@pytest.fixture(params=["pymongo", "motor"])
async def driver_db(request: pytest.FixtureRequest, settings: Settings) -> AsyncIterator[Database]:
    driver_settings = msgspec.structs.replace(settings, mongo_driver=request.param)
    assert settings.mongodb_uri is not None
    client: Any = build_client(settings.mongodb_uri, driver_settings)
    db = client[settings.db_name]
    await ensure_indexes(db)
    yield db
    await client.drop_database(settings.db_name)
    await close_client(client)


@pytest.fixture
async def core(driver_db: Database, settings: Settings) -> AsyncIterator[Services]:
    passwords = Passwords(settings)
    yield Services.build(driver_db, settings, passwords, MemoryLimiter())
    passwords.close()
