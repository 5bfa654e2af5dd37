"""``contact_messages``: what the contact form sent, with where it came from."""

from __future__ import annotations

from datetime import datetime
from typing import Any

__all__ = ["COLLECTION", "new_message"]

COLLECTION = "contact_messages"
_MAX_META = 512


def _capped(value: str | None) -> str | None:
    """Client-controlled metadata is stored as a capped plain string (or nothing)."""
    return value[:_MAX_META] if value else None


def new_message(
    *,
    name: str,
    email: str,
    message: str,
    source: str | None,
    user_agent: str | None,
    session_id: str | None,
    created_at: datetime,
) -> dict[str, Any]:
    return {
        "name": name,
        "email": email,
        "message": message,
        "source": _capped(source),
        "userAgent": _capped(user_agent),
        "sessionId": _capped(session_id),
        "createdAt": created_at,
    }
