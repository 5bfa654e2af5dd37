"""The contact form, with the legacy messages its clients know."""

from __future__ import annotations

from typing import Annotated

import msgspec

from gateway.models.base import EMAIL_PATTERN, Input

__all__ = ["ContactInput", "contact_problems"]

_Long = Annotated[str, msgspec.Meta(max_length=10_000)]


class ContactInput(Input):
    # Missing fields default to "" so they get the legacy per-field message.
    name: Annotated[str, msgspec.Meta(max_length=200)] = ""
    email: Annotated[str, msgspec.Meta(max_length=320)] = ""
    message: _Long = ""


def contact_problems(form: ContactInput) -> list[str]:
    """Every legacy message that applies, in the legacy order."""
    problems = []
    if len(form.name.strip()) < 2:
        problems.append("Name must be at least 2 characters long")
    if not EMAIL_PATTERN.match(form.email.strip()):
        problems.append("Please provide a valid email address")
    if len(form.message.strip()) < 10:
        problems.append("Message must be at least 10 characters long")
    return problems
