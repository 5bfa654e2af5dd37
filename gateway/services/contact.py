"""Contact messages: validated with the legacy messages, stored with where they came from."""

from __future__ import annotations

from gateway.db import Database, utcnow
from gateway.errors import ContactInvalid
from gateway.models import ContactInput, contact_problems
from gateway.ratelimit import Limits

__all__ = ["ContactService"]

_MAX_META = 512


class ContactService:
    def __init__(self, db: Database, limits: Limits) -> None:
        self._messages = db["contact_messages"]
        self._limits = limits

    async def submit(
        self,
        form: ContactInput,
        *,
        source: str | None,
        user_agent: str | None,
        session_id: str | None,
        client: str | None = None,
    ) -> None:
        """Raises: RateLimited (too many from ``client``); ContactInvalid: every
        legacy message that applies."""
        await self._limits.contact(client)
        problems = contact_problems(form)
        if problems:
            raise ContactInvalid("Validation failed", problems)
        await self._messages.insert_one(
            {
                "name": form.name.strip(),
                "email": form.email.strip().lower(),
                "message": form.message.strip(),
                # Client-controlled metadata is stored as capped plain strings.
                "source": source[:_MAX_META] if source else None,
                "userAgent": user_agent[:_MAX_META] if user_agent else None,
                "sessionId": session_id[:_MAX_META] if session_id else None,
                "createdAt": utcnow(),
            }
        )
