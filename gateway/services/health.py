"""Readiness: whether the database answers."""

from __future__ import annotations

import asyncio

import pymongo

from gateway.db import Database
from gateway.errors import Unavailable

__all__ = ["HealthService"]

# How long past the deadline the probe waits for a driver that did not honour it.
_BACKSTOP_S = 0.25


class HealthService:
    def __init__(self, db: Database, timeout: float) -> None:
        self._db = db
        self._timeout = timeout

    async def check_database(self) -> None:
        """Raises: Unavailable: no answer to ``ping`` within the timeout.

        The deadline is the one every query has (``GATEWAY_MONGO_TIMEOUT_MS``,
        the client's ``timeoutMS``), set here too so that the probe keeps it
        whichever client it was given; the driver gives up on it and closes the
        connection it waited on. ``wait_for`` is only a backstop.
        """
        try:
            with pymongo.timeout(self._timeout):
                await asyncio.wait_for(self._db.command("ping"), self._timeout + _BACKSTOP_S)
        except Exception:  # any failure to answer means "not ready"
            raise Unavailable() from None
