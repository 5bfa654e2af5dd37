"""The contact form, with the legacy messages its clients know."""

from __future__ import annotations

from typing import Annotated

import msgspec

from gateway.models.base import EMAIL_SCHEMA, Input, is_email, text_meta, text_problem

__all__ = ["ContactSubmission", "contact_problems"]


class ContactSubmission(Input):
    """The form; every problem is reported at once, in the legacy wording."""

    # Missing fields default to "" so they get the legacy per-field message (the
    # document calls them required: a form without them is refused).
    name: Annotated[
        str,
        text_meta(
            200,
            "At least 2 characters after trimming; no control characters or bidi overrides "
            "and isolates.",
            2,
        ),
    ] = ""
    email: Annotated[
        str,
        msgspec.Meta(description="An address like `x@y.z`.", extra_json_schema=EMAIL_SCHEMA),
    ] = ""
    message: Annotated[
        str,
        text_meta(
            10_000,
            "At least 10 characters after trimming; tabs and line breaks are kept, other "
            "control characters refused.",
            10,
            free=True,
            bidi=True,
        ),
    ] = ""


def contact_problems(form: ContactSubmission) -> list[str]:
    """Every message that applies, in the legacy order (name, email, message).

    The legacy three are word for word what old clients match. The legacy form
    had no character rules: a name or message holding control characters (or a
    name with bidi overrides) gets a ``"<field>: <problem>"`` line in its
    field's place; an address holding them is not a valid email.
    """
    problems = []
    name = form.name.strip()
    if len(name) < 2:
        problems.append("Name must be at least 2 characters long")
    elif (problem := text_problem(form.name)) is not None:
        problems.append(f"name: {problem}")
    if text_problem(form.email) is not None or not is_email(form.email.strip()):
        problems.append("Valid email is required")
    if len(form.message.strip()) < 10:
        problems.append("Message must be at least 10 characters long")
    elif (problem := text_problem(form.message, free=True, bidi=True)) is not None:
        problems.append(f"message: {problem}")
    return problems
