"""Contact messages: validated with the legacy messages, stored with where they came from."""

from __future__ import annotations

from gateway.db import Database, utcnow
from gateway.documents import contact_messages
from gateway.documents.contact_messages import new_message
from gateway.errors import ContactInvalid
from gateway.models import ContactSubmission, contact_problems
from gateway.ratelimit import Limits

__all__ = ["ContactService"]


class ContactService:
    def __init__(self, db: Database, limits: Limits) -> None:
        self._messages = db[contact_messages.COLLECTION]
        self._limits = limits

    async def submit(
        self,
        form: ContactSubmission,
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
            new_message(
                name=form.name.strip(),
                email=form.email.strip().lower(),
                message=form.message.strip(),
                source=source,
                user_agent=user_agent,
                session_id=session_id,
                created_at=utcnow(),
            )
        )
