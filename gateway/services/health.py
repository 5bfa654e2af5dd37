"""Readiness: whether the database answers."""

from __future__ import annotations

import asyncio

from gateway.db import Database
from gateway.errors import Unavailable

__all__ = ["HealthService"]


class HealthService:
    def __init__(self, db: Database, timeout: float) -> None:
        self._db = db
        self._timeout = timeout

    async def check_database(self) -> None:
        """Raises: Unavailable: no answer to ``ping`` within the timeout."""
        try:
            await asyncio.wait_for(self._db.command("ping"), self._timeout)
        except Exception:  # any failure to answer means "not ready"
            raise Unavailable() from None
